// The streams field of the settings form: the connector's streams (or names typed for
// connectors whose streams are the source's own), each with its replication key.

import { fieldId } from "./fields.js";
import { el } from "./ui.js";

/** The stream checkboxes (or, for a dynamic catalog, a list of streams to type). */
export class StreamsField {
  constructor({ connector, initial }) {
    this.key = "streams";
    this.connector = connector;
    this.initial = initial;
    this.serverError = null;
    this.id = fieldId("streams");
    this.dynamic = connector.dynamic_streams && connector.stream_specs.length === 0;
    this.element = this.render();
  }

  get label() {
    return "Streams";
  }

  render() {
    const errorId = `${this.id}-error`;
    const helpId = `${this.id}-help`;
    this.error = el("p", { id: errorId, class: "error", hidden: true });
    if (this.dynamic) {
      this.input = el("textarea", {
        id: this.id, name: "streams", rows: 3, spellcheck: "false", "aria-required": "true",
        "aria-describedby": `${helpId} ${errorId}`, "data-key": "streams",
      });
      this.input.value = (this.initial || [])
        .map((s) => (s.replication_key ? `${s.name}:${s.replication_key}` : s.name)).join("\n");
      this.inputs = [this.input];
      return el("div", { class: "field", dataset: { field: "streams" } },
        el("label", { for: this.id }, "Streams", el("span", { class: "required", "aria-hidden": "true" }, " *")),
        el("p", { id: helpId, class: "help" },
          `One per line: ${this.connector.stream_name_help}; add :column for incremental syncs on that column.`),
        this.input, this.error);
    }
    const selected = new Set(this.initial
      ? this.initial.map((s) => s.name)
      : this.connector.stream_specs.filter((s) => s.selected_by_default).map((s) => s.name));
    this.inputs = this.connector.stream_specs.map((spec, index) => {
      const id = `${this.id}-${index}`;
      const input = el("input", {
        type: "checkbox", id, name: "streams", value: spec.name,
        "aria-describedby": spec.description ? `${id}-help` : null, "data-key": "streams",
      });
      input.checked = selected.has(spec.name);
      return input;
    });
    this.input = this.inputs[0];
    return el("fieldset", { class: "field streams", dataset: { field: "streams" }, "aria-describedby": `${helpId} ${errorId}` },
      el("legend", {}, "Streams", el("span", { class: "required", "aria-hidden": "true" }, " *")),
      el("p", { id: helpId, class: "help" }, "What to sync; each stream becomes a Dagster asset."),
      this.connector.stream_specs.map((spec, index) => el("div", { class: "checkbox-row" },
        this.inputs[index],
        el("label", { for: this.inputs[index].id }, spec.name),
        spec.description ? el("span", { id: `${this.inputs[index].id}-help`, class: "help inline" }, spec.description) : null)),
      this.error);
  }

  /** [{name, replication_key, excluded_columns}] as the API takes them; a stream kept
   * from the stored selection keeps the columns it leaves out. */
  value() {
    const stored = new Map((this.initial || []).map((s) => [s.name, s]));
    const stream = (name, key) => {
      const out = key ? { name, replication_key: key } : { name };
      const excluded = (stored.get(name) || {}).excluded_columns || [];
      if (excluded.length) out.excluded_columns = excluded;
      return out;
    };
    if (this.dynamic) {
      return this.input.value.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
        const [name, key] = line.split(":").map((part) => part.trim());
        return stream(name, key);
      });
    }
    return this.inputs.filter((input) => input.checked).map((input) =>
      stream(input.value, (stored.get(input.value) || {}).replication_key || null));
  }

  /** For the review: the names; for a typed list, with the incremental column. */
  describe() {
    return this.value()
      .map((s) => (this.dynamic && s.replication_key ? `${s.name} (by ${s.replication_key})` : s.name))
      .join(", ");
  }

  changed() {
    if (!this.initial) return true;
    const now = this.value().map((s) => `${s.name}:${s.replication_key || ""}`).sort().join("|");
    const before = this.initial.map((s) => `${s.name}:${s.replication_key || ""}`).sort().join("|");
    return now !== before;
  }

  check() {
    return this.value().length ? null : "Choose at least one stream.";
  }

  setError(message, { server = false } = {}) {
    if (server) this.serverError = message;
    const shown = message || this.serverError;
    this.error.textContent = shown || "";
    this.error.hidden = !shown;
    for (const input of this.inputs) {
      if (shown) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    this.element.classList.toggle("invalid", Boolean(shown));
  }

  validate() {
    const problem = this.check();
    this.setError(problem);
    return !problem && !this.serverError;
  }

  wire(onChange) {
    for (const input of this.inputs) {
      const changed = () => {
        this.serverError = null;
        this.validate();
        onChange(this);
      };
      input.addEventListener("input", changed);
      input.addEventListener("change", changed);
    }
  }

  focus() {
    if (this.input) this.input.focus();
  }

  clearSecret() {}
}
