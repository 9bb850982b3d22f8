// jsdom lacks two browser APIs the page uses.
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

if (!globalThis.CSS?.escape) {
  Object.assign(globalThis, { CSS: { escape: (value: string) => value.replace(/["\\]/g, "\\$&") } });
}
if (!globalThis.ResizeObserver) {
  class ResizeObserver {
    observe() {}
    unobserve() {}
    disconnect() {}
  }
  Object.assign(globalThis, { ResizeObserver });
}

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});

// jsdom lays nothing out (every box is 0×0): give boxes a size, so that virtualized lists
// render the rows a 600-pixel-high view would show.
Element.prototype.getBoundingClientRect = function getBoundingClientRect() {
  return { x: 0, y: 0, top: 0, left: 0, bottom: 600, right: 800, width: 800, height: 600, toJSON: () => ({}) } as DOMRect;
};
Object.defineProperty(HTMLElement.prototype, "offsetHeight", { configurable: true, get: () => 600 });
Object.defineProperty(HTMLElement.prototype, "offsetWidth", { configurable: true, get: () => 800 });
Object.defineProperty(Element.prototype, "clientHeight", { configurable: true, get: () => 600 });
Object.defineProperty(Element.prototype, "clientWidth", { configurable: true, get: () => 800 });
