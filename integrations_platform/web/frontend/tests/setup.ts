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
