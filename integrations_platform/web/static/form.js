// The wizard's settings form, generated from the connector's JSON Schema
// (GET /api/v1/connectors/{id} → form_schema, with x-secret, x-advanced, x-order and
// writeOnly), plus the integration's own fields (name, streams, start date, schedule,
// destination).
//
// Client-side checks follow the schema (required, type, enum, pattern, format,
// minimum/maximum) as the user types; the server's 422 field errors are shown at their
// field. Secrets are never pre-filled: on edit a set secret shows "set — leave blank to
// keep", and a blank one is not sent (the API keeps the stored value).

import { el } from "./ui.js";

const NAME_PATTERN = "^[a-z][a-z0-9_]{0,62}$";
const DESTINATIONS = [
  ["jsonl", "JSON Lines files on the platform's machine"],
  ["postgres", "PostgreSQL warehouse"],
];

function fieldId(key) {
  return `field-${key.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

function isValidDate(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

/** The message for `raw` (a string) against one JSON Schema property, or null. */
export function checkText(schema, raw) {
  const text = raw.trim();
  if (schema.type === "integer") {
    if (!/^-?\d+$/.test(text)) return "Enter a whole number.";
  } else if (schema.type === "number") {
    if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) || !Number.isFinite(Number(text))) {
      return "Enter a number.";
    }
  }
  if (schema.type === "integer" || schema.type === "number") {
    const value = Number(text);
    if (schema.minimum !== undefined && value < schema.minimum) return `Must be at least ${schema.minimum}.`;
    if (schema.maximum !== undefined && value > schema.maximum) return `Must be at most ${schema.maximum}.`;
    return null;
  }
  if (schema.enum && !schema.enum.includes(raw)) return `Choose one of ${schema.enum.join(", ")}.`;
  if (schema.minLength !== undefined && raw.length < schema.minLength) {
    return `Enter at least ${schema.minLength} characters.`;
  }
  if (schema.maxLength !== undefined && raw.length > schema.maxLength) {
    return `Enter at most ${schema.maxLength} characters.`;
  }
  if (schema.pattern && !new RegExp(schema.pattern, "u").test(raw)) {
    return schema["x-pattern-message"] || "This does not have the expected format.";
  }
  switch (schema.format) {
    case "uri": {
      let url = null;
      try {
        url = new URL(text);
      } catch {
        url = null;
      }
      if (!url || !["http:", "https:"].includes(url.protocol) || !url.host) {
        return "Enter a web address such as https://example.my.salesforce.com.";
      }
      return null;
    }
    case "date":
      return isValidDate(text) ? null : "Enter a date as YYYY-MM-DD, e.g. 2024-01-01.";
    case "date-time":
      return /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
        && !Number.isNaN(Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text))
        ? null
        : "Enter a date and time such as 2024-01-01T00:00:00Z.";
    case "email":
      return /^[^\s@]+@[^\s@]+$/.test(text) ? null : "Enter an email address.";
    default:
      return null;
  }
}

/** One input of the form, with its label, help, and error message. */
class Field {
  constructor({ key, schema, required, secretSet = false, initial, group, disabled = false }) {
    this.key = key;
    this.schema = schema;
    this.required = required;
    this.secret = Boolean(schema["x-secret"] || schema.writeOnly);
    this.secretSet = secretSet;
    this.initial = initial;
    this.group = group;
    this.disabled = disabled;
    this.touched = false;
    this.serverError = null;
    this.id = fieldId(key);
    this.onInput = () => {};
    this.element = this.render();
  }

  get label() {
    return this.schema.title || this.key;
  }

  get kind() {
    const { type, format } = this.schema;
    if (type === "boolean") return "checkbox";
    if (this.schema.enum) return "select";
    if (type === "array") return "list";
    if (this.secret) return "password";
    if (type === "integer" || type === "number") return "number";
    if (format === "date") return "date";
    if (format === "uri") return "url";
    return "text";
  }

  render() {
    const helpId = `${this.id}-help`;
    const hintId = `${this.id}-hint`;
    const errorId = `${this.id}-error`;
    const described = [];
    const help = this.schema.description
      ? el("p", { id: helpId, class: "help" }, this.schema.description)
      : null;
    if (help) described.push(helpId);
    let hint = null;
    if (this.secret && this.secretSet) {
      hint = el("p", { id: hintId, class: "hint" }, "Set — leave blank to keep the stored value.");
      described.push(hintId);
    } else if (this.kind === "list") {
      hint = el("p", { id: hintId, class: "hint" }, "One value per line.");
      described.push(hintId);
    }
    described.push(errorId);
    this.error = el("p", { id: errorId, class: "error", hidden: true });
    const common = {
      id: this.id,
      name: this.key,
      "aria-describedby": described.join(" "),
      "aria-required": this.required && !(this.secret && this.secretSet) ? "true" : null,
      disabled: this.disabled,
      "data-key": this.key,
    };
    const marker = this.required && !(this.secret && this.secretSet)
      ? [el("span", { class: "required", "aria-hidden": "true" }, " *")]
      : [];
    if (this.kind === "checkbox") {
      this.input = el("input", { ...common, type: "checkbox" });
      this.input.checked = Boolean(this.initial ?? this.schema.default ?? false);
      return el("div", { class: "field field-checkbox", dataset: { field: this.key } },
        el("div", { class: "checkbox-row" }, this.input, el("label", { for: this.id }, this.label, ...marker)),
        help, hint, this.error);
    }
    if (this.kind === "select") {
      this.input = el("select", common,
        this.required ? null : el("option", { value: "" }, "(default)"),
        this.schema.enum.map((value, index) => el("option", { value },
          (this.schema["x-enum-labels"] || [])[index] || value)));
      this.input.value = this.initial ?? this.schema.default ?? (this.required ? this.schema.enum[0] : "");
    } else if (this.kind === "list") {
      this.input = el("textarea", { ...common, rows: 3, spellcheck: "false" });
      this.input.value = Array.isArray(this.initial) ? this.initial.join("\n") : "";
    } else {
      const attrs = { ...common, type: this.kind, spellcheck: "false" };
      if (this.kind === "password") {
        // Never offered to or filled from a password manager; never pre-filled.
        attrs.autocomplete = "new-password";
      } else {
        attrs.autocomplete = "off";
      }
      if (this.kind === "number") {
        // A text input: a number input hides what was typed when it is not a number,
        // and the check as you type must say so.
        attrs.type = "text";
        attrs.inputmode = this.schema.type === "integer" ? "numeric" : "decimal";
      }
      if (this.schema.placeholder) attrs.placeholder = this.schema.placeholder;
      this.input = el("input", attrs);
      if (!this.secret) {
        const start = this.initial ?? this.schema.default;
        this.input.value = start === undefined || start === null ? "" : String(start);
      }
    }
    return el("div", { class: "field", dataset: { field: this.key } },
      el("label", { for: this.id }, this.label, ...marker), help, hint, this.input, this.error);
  }

  /** What the user entered: a string, or a boolean for a checkbox. */
  raw() {
    return this.kind === "checkbox" ? this.input.checked : this.input.value;
  }

  /** The typed value, or undefined when left empty. */
  value() {
    const raw = this.raw();
    if (this.kind === "checkbox") return raw;
    if (this.kind === "list") {
      const items = raw.split(/[\n,]/).map((item) => item.trim()).filter(Boolean);
      return items.length ? items : undefined;
    }
    if (raw.trim() === "") return undefined;
    if (this.schema.type === "integer") return Number.parseInt(raw.trim(), 10);
    if (this.schema.type === "number") return Number(raw.trim());
    return this.secret ? raw : raw.trim();
  }

  /** The client-side problem with the current value, or null. */
  check({ submitting = false } = {}) {
    const raw = this.raw();
    if (this.kind === "checkbox") return null;
    if (raw.trim() === "") {
      const keeps = this.secret && this.secretSet;
      return this.required && !keeps && (submitting || this.touched) ? "Required." : null;
    }
    if (this.kind === "list") return null;
    return checkText(this.schema, raw);
  }

  /** Show (or clear, with null) the message at the field. */
  setError(message, { server = false } = {}) {
    if (server) this.serverError = message;
    const shown = message || this.serverError;
    this.error.textContent = shown ? shown : "";
    this.error.hidden = !shown;
    if (shown) {
      this.input.setAttribute("aria-invalid", "true");
    } else {
      this.input.removeAttribute("aria-invalid");
    }
    this.element.classList.toggle("invalid", Boolean(shown));
  }

  validate(options) {
    const problem = this.check(options);
    this.setError(problem);
    return !problem && !this.serverError;
  }

  wire(onChange) {
    const changed = () => {
      this.serverError = null;
      this.validate();
      onChange(this);
    };
    this.input.addEventListener("input", changed);
    this.input.addEventListener("change", changed);
    this.input.addEventListener("blur", () => {
      this.touched = true;
      this.validate();
    });
  }

  focus() {
    const details = this.element.closest("details");
    if (details) details.open = true;
    this.input.focus();
  }

  /** Forget what was typed into a secret input. */
  clearSecret() {
    if (this.secret) this.input.value = "";
  }
}

/** The stream checkboxes (or, for a dynamic catalog, a list of streams to type). */
class StreamsField {
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

  /** [{name, replication_key}] as the API takes them. */
  value() {
    const stored = new Map((this.initial || []).map((s) => [s.name, s.replication_key || null]));
    if (this.dynamic) {
      return this.input.value.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
        const [name, key] = line.split(":").map((part) => part.trim());
        return key ? { name, replication_key: key } : { name };
      });
    }
    return this.inputs.filter((input) => input.checked).map((input) => {
      const key = stored.get(input.value);
      return key ? { name: input.value, replication_key: key } : { name: input.value };
    });
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

function ordered(schema) {
  return Object.entries(schema.properties || {})
    .map(([name, prop], index) => ({ name, prop, order: prop["x-order"] ?? 1000 + index }))
    .sort((a, b) => a.order - b.order);
}

/**
 * The settings form of one connector; `integration` (GET /api/v1/integrations/{name})
 * turns it into an edit form.
 */
export class SettingsForm {
  constructor({ connector, integration = null, onChange = () => {} }) {
    this.connector = connector;
    this.integration = integration;
    this.editing = Boolean(integration);
    this.fields = new Map();
    this.element = this.build();
    for (const field of this.fields.values()) field.wire((f) => onChange(f));
  }

  add(field) {
    this.fields.set(field.key, field);
    return field.element;
  }

  build() {
    const schema = this.connector.form_schema;
    const required = new Set(schema.required || []);
    const stored = (this.integration && this.integration.config) || {};
    const secrets = (this.integration && this.integration.secrets) || {};
    const settings = ordered(schema).map(({ name, prop }) => new Field({
      key: `config.${name}`,
      schema: prop,
      required: required.has(name),
      secretSet: secrets[name] === "set",
      initial: prop["x-secret"] || prop.writeOnly ? undefined : stored[name],
      group: "config",
    }));
    const integration = this.integration;
    const name = new Field({
      key: "name",
      schema: {
        type: "string",
        title: "Integration name",
        pattern: NAME_PATTERN,
        "x-pattern-message": "Use lower-case letters, digits and underscores, starting with a letter (at most 63).",
        description: this.editing
          ? "The name cannot change: it is the integration's Dagster asset group."
          : "Lower-case letters, digits and underscores, e.g. crm. It names the Dagster asset group.",
      },
      required: true,
      initial: integration ? integration.name : "",
      group: "integration",
      disabled: this.editing,
    });
    const startDate = new Field({
      key: "start_date",
      schema: {
        type: "string",
        format: "date",
        title: "Start date",
        description: "Sync records changed since this day (UTC). Default: the first day of this month.",
      },
      required: false,
      initial: integration ? integration.start_date.slice(0, 10) : "",
      group: "integration",
    });
    const streams = new StreamsField({ connector: this.connector, initial: integration ? integration.streams : null });
    const schedule = new Field({
      key: "schedule",
      schema: {
        type: "string",
        title: "Schedule",
        pattern: "^\\s*\\S+(\\s+\\S+){4}\\s*$",
        "x-pattern-message": "A cron expression has five fields, e.g. 0 * * * * (every hour).",
        description: "When Dagster syncs it: a cron expression in UTC, e.g. 0 * * * * for every hour.",
      },
      required: true,
      initial: integration ? integration.schedule : this.connector.default_schedule,
      group: "integration",
    });
    const destination = new Field({
      key: "destination",
      schema: {
        type: "string",
        title: "Destination",
        enum: DESTINATIONS.map(([value]) => value),
        "x-enum-labels": DESTINATIONS.map(([, label]) => label),
        description: "Where the synced records go; PostgreSQL needs INTEGRATIONS_WAREHOUSE_URL on the server.",
      },
      required: true,
      initial: integration ? integration.destination : "jsonl",
      group: "integration",
    });

    const main = settings.filter((f) => !f.schema["x-advanced"]);
    const requiredFirst = [...main.filter((f) => f.required), ...main.filter((f) => !f.required)];
    const advanced = settings.filter((f) => f.schema["x-advanced"]);
    return el("div", { class: "form-sections" },
      el("fieldset", { class: "group" }, el("legend", {}, "Integration"), this.add(name)),
      el("fieldset", { class: "group" }, el("legend", {}, `${this.connector.label} connection`),
        requiredFirst.map((f) => this.add(f))),
      el("fieldset", { class: "group" }, el("legend", {}, "What to sync"),
        this.add(streams), this.add(startDate)),
      el("details", { class: "advanced" },
        el("summary", {}, "Advanced options"),
        advanced.map((f) => this.add(f)),
        this.add(schedule),
        this.add(destination)));
  }

  get configFields() {
    return [...this.fields.values()].filter((f) => f.group === "config");
  }

  settingName(field) {
    return field.key.slice("config.".length);
  }

  /** Check every field, showing every problem; the first invalid field, or null. */
  validateAll() {
    let first = null;
    for (const field of this.fields.values()) {
      if (field.disabled) continue;
      field.touched = true;
      const ok = field.validate({ submitting: true });
      if (!ok && !first) first = field;
    }
    return first;
  }

  /** The field a server error key names ("client_id", "config.client_id", "streams.0.name"). */
  fieldFor(key) {
    const settingKeys = new Set(Object.keys(this.connector.form_schema.properties || {}));
    if (settingKeys.has(key)) return this.fields.get(`config.${key}`);
    if (this.fields.has(key)) return this.fields.get(key);
    const parts = key.split(".");
    for (let length = parts.length; length > 0; length -= 1) {
      const prefix = parts.slice(0, length).join(".");
      if (this.fields.has(prefix)) return this.fields.get(prefix);
    }
    return null;
  }

  /** Show the API's per-field errors; returns [shownFields, messages without a field]. */
  showServerErrors(fieldErrors) {
    const shown = [];
    const unmatched = [];
    for (const [key, message] of Object.entries(fieldErrors || {})) {
      const field = this.fieldFor(key);
      if (field) {
        field.setError(capitalise(message), { server: true });
        const details = field.element.closest("details");
        if (details) details.open = true;
        shown.push(field);
      } else {
        unmatched.push(`${key}: ${message}`);
      }
    }
    const order = [...this.fields.values()];
    shown.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    return [shown, unmatched];
  }

  /** The connector config to send: on create, what differs from the defaults; on edit,
   * what changed (null: back to the default), and only the secrets typed in. */
  config() {
    const stored = (this.integration && this.integration.config) || {};
    const config = {};
    for (const field of this.configFields) {
      const name = this.settingName(field);
      const value = field.value();
      if (field.secret) {
        if (value !== undefined) config[name] = value;
        continue;
      }
      if (this.editing) {
        const before = stored[name];
        const effectiveBefore = before === undefined ? field.schema.default : before;
        if (value === undefined) {
          if (before !== undefined) config[name] = null;
        } else if (JSON.stringify(value) !== JSON.stringify(effectiveBefore)) {
          config[name] = value;
        }
      } else if (value !== undefined && JSON.stringify(value) !== JSON.stringify(field.schema.default)) {
        config[name] = value;
      }
    }
    return config;
  }

  /** The body of POST /api/v1/integrations. */
  createBody() {
    const body = {
      name: this.fields.get("name").value() || "",
      connector: this.connector.id,
      config: this.config(),
      streams: this.fields.get("streams").value(),
      schedule: this.fields.get("schedule").value(),
      destination: this.fields.get("destination").value(),
    };
    const start = this.fields.get("start_date").value();
    if (start) body.start_date = start;
    return body;
  }

  /** The body of PATCH /api/v1/integrations/{name}: only what changed. */
  updateBody() {
    const body = {};
    const config = this.config();
    if (Object.keys(config).length) body.config = config;
    const streams = this.fields.get("streams");
    if (streams.changed()) body.streams = streams.value();
    const integration = this.integration;
    const schedule = this.fields.get("schedule").value();
    if (schedule && schedule !== integration.schedule) body.schedule = schedule;
    const destination = this.fields.get("destination").value();
    if (destination && destination !== integration.destination) body.destination = destination;
    const start = this.fields.get("start_date").value();
    if (start && start !== integration.start_date.slice(0, 10)) body.start_date = start;
    return body;
  }

  /** What the review step lists: [label, text]; secrets only as "set" / "not set". */
  review() {
    const rows = [["Connector", this.connector.label]];
    const name = this.fields.get("name");
    rows.push([name.label, name.value() || ""]);
    for (const field of this.configFields) {
      const value = field.value();
      let text;
      if (field.secret) {
        text = value !== undefined || field.secretSet ? "set" : "not set";
      } else if (field.kind === "checkbox") {
        text = value ? "Yes" : "No";
      } else if (value === undefined) {
        text = field.schema.default !== undefined ? `${field.schema.default} (default)` : "—";
      } else {
        text = Array.isArray(value) ? value.join(", ") : String(value);
      }
      rows.push([field.label, text, field.secret]);
    }
    rows.push(["Streams", this.fields.get("streams").describe()]);
    rows.push(["Start date", this.fields.get("start_date").value() || "First day of this month"]);
    rows.push(["Schedule", this.fields.get("schedule").value() || ""]);
    const destination = this.fields.get("destination");
    rows.push([destination.label, destination.input.selectedOptions[0]?.textContent || ""]);
    return rows;
  }

  /** Whether a secret was typed in (then a saved integration must be tested unsaved). */
  secretsTyped() {
    return this.configFields.some((f) => f.secret && f.value() !== undefined);
  }

  focusField(key) {
    const field = this.fieldFor(key);
    if (field) field.focus();
    return Boolean(field);
  }

  /** Empty every secret input (after save or close: no secret stays in the page). */
  clearSecrets() {
    for (const field of this.fields.values()) field.clearSecret();
  }
}

function capitalise(text) {
  const value = String(text || "");
  const sentence = value.charAt(0).toUpperCase() + value.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}
