// The marketplace: connector cards from the catalog, with search and a category filter
// (both answered by GET /api/v1/connectors?q=&category=).

import { api, ApiError } from "./api.js";
import { debounce, el, hiddenText, plural } from "./ui.js";

function byId(id) {
  return document.getElementById(id);
}

export class Marketplace {
  constructor({ catalog, onAdd }) {
    this.catalog = catalog;
    this.onAdd = onAdd;
    this.grid = byId("connector-grid");
    this.count = byId("marketplace-count");
    this.search = byId("connector-search");
    this.category = byId("connector-category");
    this.requestId = 0;
    const update = debounce(() => this.update(), 200);
    this.search.addEventListener("input", update);
    this.category.addEventListener("change", () => this.update());
    byId("marketplace-filters").addEventListener("submit", (event) => {
      event.preventDefault();
      this.update();
    });
  }

  async init() {
    const all = await this.catalog.summaries();
    const categories = [...new Set(all.map((c) => c.category))].sort();
    this.category.replaceChildren(el("option", { value: "" }, "All categories"),
      ...categories.map((c) => el("option", { value: c }, c)));
    this.render(all, "", "");
  }

  async update() {
    const q = this.search.value.trim();
    const category = this.category.value;
    const params = new URLSearchParams();
    if (q) params.set("q", q);
    if (category) params.set("category", category);
    const id = ++this.requestId;
    try {
      const query = params.toString();
      const { data } = await api("GET", `/api/v1/connectors${query ? `?${query}` : ""}`);
      if (id === this.requestId) this.render(data, q, category);
    } catch (error) {
      if (id === this.requestId) {
        this.count.textContent = error instanceof ApiError ? error.summary : String(error);
      }
    }
  }

  render(connectors, q, category) {
    this.grid.replaceChildren(...connectors.map((c) => el("li", { class: "card", dataset: { connector: c.id } },
      el("div", { class: "card-head" },
        el("img", { src: c.logo_url, alt: "", width: 40, height: 40 }),
        el("div", {},
          el("h3", { class: "card-title" }, c.label),
          el("p", { class: "category" }, c.category))),
      el("p", { class: "card-description" }, c.description),
      c.streams.length ? el("p", { class: "muted small" }, `Streams: ${c.streams.join(", ")}`) : null,
      el("div", { class: "card-actions" },
        el("button", { type: "button", class: "primary", onclick: () => this.onAdd(c.id) },
          "Add", hiddenText(` ${c.label}`)),
        c.docs_url ? el("a", { href: c.docs_url, target: "_blank", rel: "noopener noreferrer" },
          "Docs", hiddenText(` of ${c.label}`)) : null))));
    const filtered = q || category;
    if (connectors.length === 0) {
      this.count.textContent = `No connector matches${q ? ` "${q}"` : ""}${category ? ` in ${category}` : ""}.`;
    } else {
      this.count.textContent = filtered
        ? `${plural(connectors.length, "connector")} ${connectors.length === 1 ? "matches" : "match"}.`
        : `${plural(connectors.length, "connector")} available.`;
    }
  }
}
