// Installed integrations: status, last sync, row counts, next run, open notifications,
// and actions (sync now, edit, enable/disable, delete, open in Dagster), one by one or
// on a selection.

import { api, ApiError, seg } from "./api.js";
import { confirmDialog, el, hiddenText, plural, timeElement, toast } from "./ui.js";

const ACTIVE = new Set(["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]);
const RUN_BADGES = {
  SUCCESS: ["Synced", "ok"],
  FAILURE: ["Failed", "fail"],
  STARTED: ["Syncing", "busy"],
  STARTING: ["Starting", "busy"],
  QUEUED: ["Queued", "busy"],
  NOT_STARTED: ["Queued", "busy"],
  CANCELING: ["Canceling", "busy"],
  CANCELED: ["Canceled", "off"],
};
const FAST_POLL_AFTER_LAUNCH_MS = 120000;

function byId(id) {
  return document.getElementById(id);
}

export class InstalledList {
  constructor({ catalog, onEdit }) {
    this.catalog = catalog;
    this.onEdit = onEdit;
    this.items = [];
    this.selected = new Set();
    this.lastRendered = "";
    this.launchedAt = 0;
    this.rows = byId("installed-rows");
    this.selectAll = byId("select-all");
    this.selectAll.addEventListener("change", () => {
      this.selected = new Set(this.selectAll.checked ? this.items.map((i) => i.name) : []);
      for (const box of this.rows.querySelectorAll("input[data-select]")) box.checked = this.selectAll.checked;
      this.updateBulkBar();
    });
    for (const button of document.querySelectorAll("#bulk-bar [data-bulk]")) {
      button.addEventListener("click", () => this.bulk(button.dataset.bulk));
    }
  }

  /** Whether a sync is queued or running (the page then polls faster). */
  get active() {
    return Date.now() - this.launchedAt < FAST_POLL_AFTER_LAUNCH_MS
      || this.items.some((i) => i.status && i.status.last_run && ACTIVE.has(i.status.last_run.status));
  }

  byName() {
    return new Map(this.items.map((i) => [i.name, i]));
  }

  async refresh() {
    const { data } = await api("GET", "/api/v1/integrations");
    this.items = data;
    const names = new Set(data.map((i) => i.name));
    this.selected = new Set([...this.selected].filter((n) => names.has(n)));
    const connectors = await this.catalog.summaries().catch(() => []);
    this.connectors = new Map(connectors.map((c) => [c.id, c]));
    const snapshot = JSON.stringify(data);
    if (snapshot !== this.lastRendered) {
      this.lastRendered = snapshot;
      this.render();
    }
    return data;
  }

  render() {
    byId("installed-loading").hidden = true;
    byId("installed-empty").hidden = this.items.length > 0;
    byId("installed-wrap").hidden = this.items.length === 0;
    // Rows are rebuilt: keep the keyboard focus on the same control.
    const focusKey = this.rows.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    this.rows.replaceChildren(...this.items.map((item) => this.row(item)));
    if (focusKey) {
      const again = this.rows.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    }
    this.updateBulkBar();
  }

  row(item) {
    const name = item.name;
    const connector = this.connectors.get(item.connector);
    const status = item.status || {};
    const run = status.last_run;
    const select = el("input", {
      type: "checkbox", "aria-label": `Select ${name}`, "data-select": name, "data-key": `select:${name}`,
    });
    select.checked = this.selected.has(name);
    select.addEventListener("change", () => {
      if (select.checked) this.selected.add(name);
      else this.selected.delete(name);
      this.updateBulkBar();
    });
    const badges = [];
    badges.push(item.enabled
      ? el("span", { class: "badge badge-on" }, "Enabled")
      : el("span", { class: "badge badge-off" }, "Disabled"));
    if (run) {
      const [text, kind] = RUN_BADGES[run.status] || [run.status, "off"];
      badges.push(el("span", { class: `badge badge-${kind}`, "data-run-status": run.status }, text));
    } else {
      badges.push(el("span", { class: "badge badge-off", "data-run-status": "none" }, "Never synced"));
    }
    const rowCounts = Object.entries(status.row_counts || {});
    const notes = item.notifications || [];
    return el("tr", { dataset: { name, enabled: String(item.enabled) } },
      el("td", { class: "select-col" }, select),
      el("th", { scope: "row" },
        el("div", { class: "int-name" },
          el("img", { src: connector ? connector.logo_url : `/api/v1/connectors/${seg(item.connector)}/logo`, alt: "", width: 28, height: 28 }),
          el("div", {},
            el("span", { class: "name" }, name),
            el("span", { class: "muted small" }, connector ? connector.label : item.connector)))),
      el("td", { class: "status" }, el("div", { class: "badges" }, badges)),
      el("td", { class: "last-sync" },
        run ? timeElement(run.ended_at || run.started_at) : el("span", { class: "muted" }, "Never"),
        run ? el("div", {}, el("a", { href: run.url, target: "_blank", rel: "noopener noreferrer", class: "small", "data-key": `run:${name}` },
          "Open run", hiddenText(` of ${name}`))) : null),
      el("td", { class: "rows" },
        rowCounts.length
          ? el("ul", { class: "row-counts" }, rowCounts.map(([stream, count]) => el("li", { "data-stream": stream },
            el("span", { class: "stream" }, stream), ": ", el("span", { class: "count" }, count.toLocaleString()))))
          : el("span", { class: "muted" }, "—")),
      el("td", { class: "next-run" },
        item.enabled ? timeElement(status.next_run_at) : el("span", { class: "muted" }, "Paused (disabled)")),
      el("td", { class: "notes" },
        notes.length
          ? el("div", {}, el("span", { class: "badge badge-fail" }, plural(notes.length, "open")),
            el("p", { class: "small" }, notes[0].title))
          : el("span", { class: "muted" }, "None")),
      el("td", { class: "actions" }, el("div", { class: "action-buttons" },
        el("button", {
          type: "button", disabled: !item.enabled, "data-key": `sync:${name}`,
          onclick: () => this.sync(name),
        }, "Sync now", hiddenText(` ${name}`)),
        el("button", { type: "button", "data-key": `edit:${name}`, onclick: () => this.onEdit(name) },
          "Edit", hiddenText(` ${name}`)),
        el("button", {
          type: "button", "data-key": `toggle:${name}`,
          onclick: () => this.setEnabled(name, !item.enabled),
        }, item.enabled ? "Disable" : "Enable", hiddenText(` ${name}`)),
        el("button", { type: "button", class: "danger-outline", "data-key": `delete:${name}`, onclick: () => this.remove(name) },
          "Delete", hiddenText(` ${name}`)),
        el("a", {
          class: "button-link", href: item.links && item.links.dagster, target: "_blank",
          rel: "noopener noreferrer", "data-key": `dagster:${name}`,
        }, "Open in Dagster", hiddenText(` (${name})`)))));
  }

  updateBulkBar() {
    const count = this.selected.size;
    byId("bulk-count").textContent = count ? `${plural(count, "integration")} selected` : "None selected";
    for (const button of document.querySelectorAll("#bulk-bar [data-bulk]")) button.disabled = count === 0;
    this.selectAll.checked = count > 0 && count === this.items.length;
    this.selectAll.indeterminate = count > 0 && count < this.items.length;
  }

  async act(work, success) {
    try {
      const result = await work();
      if (success) toast(typeof success === "function" ? success(result) : success, { kind: "success" });
      return result;
    } catch (error) {
      toast(error instanceof ApiError ? error.summary : String(error), { kind: "error", timeoutMs: 15000 });
      return null;
    } finally {
      await this.refresh().catch(() => {});
    }
  }

  async sync(name) {
    const result = await this.act(() => api("POST", `/api/v1/integrations/${seg(name)}/sync`, { body: {} }));
    if (!result) return;
    this.launchedAt = Date.now();
    toast(`Sync of '${name}' started.`, {
      kind: "success",
      actions: [el("a", { href: result.data.url, target: "_blank", rel: "noopener noreferrer" }, "Open run")],
    });
  }

  async setEnabled(name, enabled) {
    await this.act(
      () => api("POST", `/api/v1/integrations/${seg(name)}/${enabled ? "enable" : "disable"}`),
      `${enabled ? "Enabled" : "Disabled"} '${name}'.`,
    );
  }

  async remove(name) {
    const ok = await confirmDialog({
      title: `Delete ${name}?`,
      message: `This removes '${name}', its settings and its stored secrets, and its assets and schedule from Dagster. Data already synced stays where it is.`,
      confirmLabel: `Delete ${name}`,
      cancelLabel: "Keep it",
    });
    if (!ok) return;
    const done = await this.act(() => api("DELETE", `/api/v1/integrations/${seg(name)}`), `Deleted '${name}'.`);
    if (done) {
      this.selected.delete(name);
      const heading = byId("installed-title");
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  async bulk(action) {
    const names = [...this.selected];
    if (!names.length) return;
    const verbs = { enable: "Enabled", disable: "Disabled", sync: "Started a sync of" };
    const result = await this.act(() => api("POST", "/api/v1/integrations/bulk", { body: { action, names } }));
    if (!result) return;
    if (action === "sync") this.launchedAt = Date.now();
    const results = result.data.results;
    const ok = results.filter((r) => r.ok).map((r) => r.name);
    const failed = results.filter((r) => !r.ok);
    const parts = [];
    if (ok.length) parts.push(`${verbs[action]} ${ok.join(", ")}.`);
    if (failed.length) parts.push(`Failed: ${failed.map((r) => `${r.name} (${r.error})`).join("; ")}.`);
    toast(parts.join(" "), { kind: failed.length ? "error" : "success", timeoutMs: failed.length ? 15000 : 8000 });
  }
}
