// The wizard's settings form, generated from the connector's JSON Schema
// (GET /api/v1/connectors/{id} → form_schema, with x-secret, x-advanced, x-order and
// writeOnly), plus the integration's own fields (name, streams, start date, schedule,
// destination).
//
// Client-side checks follow the schema (required, type, enum, pattern, format,
// minimum/maximum) as the user types; the server's 422 field errors are shown at their
// field. Secrets are never pre-filled: on edit a set secret shows "set — leave blank to
// keep", and a blank one is not sent (the API keeps the stored value).

import { Field } from "./fields.js";
import { StreamsField } from "./streams-field.js";
import { el } from "./ui.js";

const NAME_PATTERN = "^[a-z][a-z0-9_]{0,62}$";
const DESTINATIONS = [
  ["jsonl", "JSON Lines files on the platform's machine"],
  ["postgres", "PostgreSQL warehouse"],
];
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
