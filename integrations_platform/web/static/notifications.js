// Open notifications as a bar above the page, each with its action: re-enter the
// setting it points at (opens the wizard at that field), open the run in Dagster, or
// dismiss (acknowledge). New ones are also announced as toasts.

import { api, ApiError, seg } from "./api.js";
import { el, hiddenText, timeElement, toast } from "./ui.js";

const SEVERITY = { critical: "Critical", error: "Error", warning: "Warning", info: "Info" };

function byId(id) {
  return document.getElementById(id);
}

export class NotificationBar {
  /**
   * @param integrations  () => Map(name → integration), from the installed list
   * @param openSettings  (name, field|null) => void: the wizard in edit mode
   */
  constructor({ catalog, integrations, openSettings }) {
    this.catalog = catalog;
    this.integrations = integrations;
    this.openSettings = openSettings;
    this.seen = null;
    this.lastRendered = "";
    this.section = byId("notifications");
    this.list = byId("notification-list");
  }

  async refresh() {
    const { data } = await api("GET", "/api/v1/notifications?status=open&limit=50");
    const labels = await this.fieldLabels(data);
    const snapshot = JSON.stringify([data, [...labels]]);
    if (snapshot !== this.lastRendered) {
      this.lastRendered = snapshot;
      this.render(data, labels);
    }
    if (this.seen) {
      for (const note of data) {
        if (!this.seen.has(note.id)) toast(`New notification: ${note.title}`, { kind: "error" });
      }
    }
    this.seen = new Set(data.map((n) => n.id));
    return data;
  }

  /** "id" → the label of the setting each notification points at (from its form schema). */
  async fieldLabels(items) {
    const labels = new Map();
    const byName = this.integrations();
    for (const note of items) {
      if (!note.settings_field) continue;
      const integration = byName.get(note.integration);
      let label = note.settings_field.replace(/_/g, " ");
      if (integration) {
        try {
          const connector = await this.catalog.detail(integration.connector);
          const prop = connector.form_schema.properties[note.settings_field];
          if (prop && prop.title) label = prop.title;
        } catch {
          // The fallback label (the setting's name) is shown.
        }
      }
      labels.set(note.id, label);
    }
    return labels;
  }

  render(items, labels) {
    this.section.hidden = items.length === 0;
    const focusKey = this.list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    this.list.replaceChildren(...items.map((note) => this.item(note, labels.get(note.id))));
    if (focusKey) {
      const again = this.list.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    }
  }

  item(note, fieldLabel) {
    const severity = SEVERITY[note.severity] || note.severity;
    const titleId = `note-${note.id}-title`;
    const actions = [];
    const known = this.integrations().has(note.integration);
    if (fieldLabel && known) {
      actions.push(el("button", {
        type: "button", class: "primary", "data-key": `fix:${note.id}`,
        onclick: () => this.openSettings(note.integration, note.settings_field),
      }, `Re-enter ${fieldLabel}`, hiddenText(` of ${note.integration}`)));
    } else if (note.settings_url && known) {
      actions.push(el("button", {
        type: "button", "data-key": `settings:${note.id}`,
        onclick: () => this.openSettings(note.integration, null),
      }, "Open settings", hiddenText(` of ${note.integration}`)));
    }
    if (note.run_url) {
      actions.push(el("a", {
        class: "button-link", href: note.run_url, target: "_blank", rel: "noopener noreferrer",
        "data-key": `run:${note.id}`,
      }, "Open run", hiddenText(` of ${note.integration}`)));
    }
    actions.push(el("button", {
      type: "button", "data-key": `dismiss:${note.id}`, onclick: () => this.dismiss(note),
    }, "Dismiss", hiddenText(`: ${note.title}`)));
    return el("li", {
      class: `notification severity-${note.severity}`, "aria-labelledby": titleId,
      dataset: { id: note.id, integration: note.integration, kind: note.kind },
    },
    el("div", { class: "note-text" },
      el("p", { class: "note-title", id: titleId },
        el("span", { class: `badge badge-${note.severity === "warning" ? "warn" : "fail"}` }, severity),
        " ", note.title),
      el("p", { class: "note-action" }, note.action),
      el("p", { class: "muted small" },
        note.count > 1 ? `${note.count} times, last ` : "Seen ", timeElement(note.last_seen_at)),
      note.message ? el("details", {}, el("summary", {}, "Details"), el("pre", { class: "note-message" }, note.message)) : null),
    el("div", { class: "note-buttons" }, actions));
  }

  async dismiss(note) {
    try {
      await api("POST", `/api/v1/notifications/${seg(note.id)}/acknowledge`);
      toast(`Dismissed: ${note.title}`, { kind: "info" });
    } catch (error) {
      toast(error instanceof ApiError ? error.summary : String(error), { kind: "error" });
    }
    await this.refresh().catch(() => {});
    byId("main").focus();
  }
}
