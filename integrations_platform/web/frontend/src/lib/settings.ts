// The wizard's settings form as data: one JSON Schema for the whole integration (its
// name, the connector's settings under `config`, streams, start date, schedule and
// destination), the request bodies built from what was entered, the review rows, and
// the messages shown at a field — as pure functions, so that they are tested alone.

import type { RJSFValidationError } from "@rjsf/utils";

import { capitalise } from "./format";
import type { ConnectorDetail, FormSchema, Integration, JsonValue, SettingSchema, StreamSelection } from "./types";

export const NAME_PATTERN = "^[a-z][a-z0-9_]{0,62}$";
export const CRON_PATTERN = "^\\s*\\S+(\\s+\\S+){4}\\s*$";
/** A destination the wizard offers: its name, and how it is shown ("name — label"). */
export type DestinationChoice = [string, string];
/** The built-in destinations, offered until (or when) the live list cannot be read. */
export const BUILT_IN_DESTINATIONS: DestinationChoice[] = [
  ["jsonl", "jsonl — JSON Lines files (embedded)"],
  ["postgres", "postgres — PostgreSQL"],
];
/** What syncs do when the source's schema changes. */
export const SCHEMA_POLICIES: [string, string][] = [
  ["allow_columns", "Sync new columns; new streams wait for me to select them"],
  ["allow_all", "Sync new columns and new streams"],
  ["block_all", "Hold new columns and streams back until I approve them"],
];
export const DEFAULT_POLICY = "allow_columns";
/** How records travel from the source to the destination (advanced). */
export const MESSAGE_FORMATS: [string, string][] = [
  ["auto", "Automatic: batch files where the source and destination support them"],
  ["records", "One message per record"],
  ["batch", "Batch files (PostgreSQL into PostgreSQL; several times faster)"],
];
export const DEFAULT_FORMAT = "auto";
/** The integration's own fields, in the order they are shown after the connector's. */
export const INTEGRATION_KEYS = ["streams", "start_date", "destination", "schedule", "schema_policy", "message_format"];
/** The fields of the streams step (4); every other field is on the settings step (2). */
export const STREAM_STEP_KEYS = new Set(INTEGRATION_KEYS);
/** The step a field is on. */
export function stepOf(key: string): 2 | 4 {
  return STREAM_STEP_KEYS.has(key) ? 4 : 2;
}

/** The frequencies offered in words; any other cron expression is "custom". */
export const FREQUENCIES: [string, string][] = [
  ["*/15 * * * *", "Every 15 minutes"],
  ["0 * * * *", "Every hour"],
  ["0 */6 * * *", "Every 6 hours"],
  ["0 6 * * *", "Every day at 06:00 UTC"],
  ["0 6 * * 1", "Every Monday at 06:00 UTC"],
];

/** Every field's id is this prefix, then its path joined by "-": field-config-client_id. */
export const ID_PREFIX = "field";

export interface FormValues {
  name?: string;
  config?: Record<string, JsonValue | undefined>;
  streams?: StreamSelection[];
  start_date?: string;
  schedule?: string;
  destination?: string;
  schema_policy?: string;
  message_format?: string;
}

export interface WizardSchema {
  type: "object";
  required: string[];
  properties: Record<string, SettingSchema | (FormSchema & { title: string; required: string[] })>;
}

/** Whether a connector setting is a secret (never shown, never pre-filled). */
export function isSecret(schema: SettingSchema): boolean {
  return Boolean(schema["x-secret"] || schema.writeOnly);
}

/** The largest text (a file's content included) a setting holds: the server's MAX_TEXT_BYTES. */
export const MAX_TEXT_BYTES = 16 * 1024;

/** The example a free-form object's JSON message gives. */
export const JSON_OBJECT_MESSAGE = 'Enter a JSON object, e.g. {"X-Api-Key": "…"}.';

/** An object setting without its own fields (a map of names to values): edited as JSON. */
export function isFreeFormObject(schema: SettingSchema | undefined): boolean {
  return schema?.type === "object" && Object.keys(schema.properties || {}).length === 0;
}

/** A list whose items are objects with their own fields (each item a small form). */
export function isObjectList(schema: SettingSchema | undefined): boolean {
  return schema?.type === "array" && schema.items?.type === "object";
}

/** A list of text values (one per line in the form). */
export function isTextList(schema: SettingSchema | undefined): boolean {
  return schema?.type === "array" && !isObjectList(schema);
}

/** Whether a value is a JSON object (not a list, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The connector's settings in display order (x-order, then as declared). */
export function orderedSettings(schema: FormSchema): [string, SettingSchema][] {
  return Object.entries(schema.properties || {})
    .map(([name, prop], index) => ({ name, prop, order: prop["x-order"] ?? 1000 + index }))
    .sort((a, b) => a.order - b.order)
    .map(({ name, prop }) => [name, prop]);
}

/** The field id of a key: "config.client_id" → "field-config-client_id" (another form on
 * the page at the same time, the destination form, has its own prefix). */
export function fieldId(key: string, prefix: string = ID_PREFIX): string {
  return `${prefix}-${key.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

/** Settings stored before (an integration's or a destination's): the values of those
 * that are not secret, and which secrets are set. */
export interface StoredSettings {
  config: Record<string, JsonValue>;
  secrets: Record<string, "set" | "not set">;
}

/** A connector's settings as the form's `config` group: in display order, and on edit a
 * secret already set is not required (blank keeps it). */
export function configSchema(connector: Pick<ConnectorDetail, "label" | "form_schema">, stored: StoredSettings | null): FormSchema & { title: string; required: string[] } {
  const secretsSet = stored?.secrets || {};
  const required = (connector.form_schema.required || []).filter((name) => {
    const prop = connector.form_schema.properties[name];
    return !(prop && isSecret(prop) && secretsSet[name] === "set");
  });
  const properties: Record<string, SettingSchema> = {};
  for (const [name, prop] of orderedSettings(connector.form_schema)) properties[name] = prop;
  return { type: "object", title: `${connector.label} connection`, properties, required };
}

/** The JSON Schema of the whole form; on edit, a secret already set is not required.
 * `destinations` are the choices of the destination field (the live list). */
export function wizardSchema(connector: ConnectorDetail, integration: Integration | null,
  destinations: DestinationChoice[] = BUILT_IN_DESTINATIONS): WizardSchema {
  const editing = integration !== null;
  return {
    type: "object",
    required: ["name", "streams", "schedule", "destination"],
    properties: {
      name: {
        type: "string",
        title: "Integration name",
        pattern: NAME_PATTERN,
        "x-pattern-message": "Use lower-case letters, digits and underscores, starting with a letter (at most 63).",
        description: editing
          ? "The name cannot change: it is the integration's Dagster asset group."
          : "Lower-case letters, digits and underscores, e.g. crm. It names the Dagster asset group.",
      },
      config: configSchema(connector, integration),
      streams: { type: "array", title: "Streams", minItems: 1 },
      start_date: {
        type: "string",
        format: "date",
        title: "Start date",
        description: "Sync records changed since this day (UTC). Default: the first day of this month.",
      },
      schedule: {
        type: "string",
        title: "Schedule",
        pattern: CRON_PATTERN,
        "x-pattern-message": "A cron expression has five fields, e.g. 0 * * * * (every hour).",
        description: "When Dagster syncs it: a cron expression in UTC, e.g. 0 * * * * for every hour.",
      },
      destination: {
        type: "string",
        title: "Destination",
        enum: destinations.map(([value]) => value),
        "x-enum-labels": destinations.map(([, label]) => label),
        description: "Where the synced records go: a built-in destination, or one configured in the Destinations view. "
          + "The built-in postgres is the deployment's warehouse (INTEGRATIONS_WAREHOUSE_URL on the server).",
      },
      schema_policy: {
        type: "string",
        title: "When the source changes",
        enum: SCHEMA_POLICIES.map(([value]) => value),
        "x-enum-labels": SCHEMA_POLICIES.map(([, label]) => label),
        description: "Before each sync the source's schema is checked. Removed columns and type changes are always reported; the sync goes on with what exists.",
      },
      message_format: {
        type: "string",
        title: "How records travel",
        enum: MESSAGE_FORMATS.map(([value]) => value),
        "x-enum-labels": MESSAGE_FORMATS.map(([, label]) => label),
        description: "Batch files are compressed files of up to 50,000 rows that the destination loads whole. Streams with hashed columns and partition runs always go record by record.",
      },
    },
  };
}

/** A selection as the API takes it: name, replication key, columns left out (the stored
 * one also carries its primary key and synced columns, which are the server's to say). */
export function selectionOnly(stream: StreamSelection): StreamSelection {
  const out: StreamSelection = { name: stream.name };
  if (stream.replication_key) out.replication_key = stream.replication_key;
  if (stream.excluded_columns?.length) out.excluded_columns = [...stream.excluded_columns];
  if (stream.hashed_columns?.length) out.hashed_columns = [...stream.hashed_columns];
  return out;
}

/** The streams a new integration starts with: the connector's defaults. */
export function defaultStreams(connector: ConnectorDetail): StreamSelection[] {
  if (connector.dynamic_streams && connector.stream_specs.length === 0) return [];
  return connector.stream_specs.filter((s) => s.selected_by_default).map((s) => ({ name: s.name }));
}

/** The connector settings a form starts with: the stored values (never a secret), else
 * the defaults. */
export function initialConfig(connector: Pick<ConnectorDetail, "form_schema">, stored: StoredSettings | null): Record<string, JsonValue | undefined> {
  const config: Record<string, JsonValue | undefined> = {};
  const values = stored?.config || {};
  for (const [name, prop] of orderedSettings(connector.form_schema)) {
    if (isSecret(prop)) continue;
    const value = values[name] ?? prop.default;
    if (value !== undefined && value !== null) config[name] = value;
  }
  return config;
}

/** What the form starts with: the stored values (never a secret), else the defaults. */
export function initialValues(connector: ConnectorDetail, integration: Integration | null): FormValues {
  const config = initialConfig(connector, integration);
  if (!integration) {
    return { name: undefined, config, streams: defaultStreams(connector), schedule: connector.default_schedule, destination: "jsonl", schema_policy: DEFAULT_POLICY, message_format: DEFAULT_FORMAT };
  }
  return {
    name: integration.name,
    config,
    streams: integration.streams.map(selectionOnly),
    start_date: integration.start_date.slice(0, 10),
    schedule: integration.schedule,
    destination: integration.destination,
    schema_policy: integration.schema_policy || DEFAULT_POLICY,
    message_format: integration.message_format || DEFAULT_FORMAT,
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether a value says something: not blank, not an empty list, not an object whose
 * fields are all blank (an untouched group of fields). */
export function present(value: unknown): boolean {
  if (isPlainObject(value)) return Object.values(value).some(present);
  return value !== undefined && value !== null && !(typeof value === "string" && value.trim() === "")
    && !(Array.isArray(value) && value.length === 0);
}

/** A value as JSON carries it: object fields left blank are left out (a list keeps its items). */
function compact(value: unknown): JsonValue {
  if (Array.isArray(value)) return value.map((item) => (isPlainObject(item) ? compact(item) : item)) as JsonValue;
  if (!isPlainObject(value)) return value as JsonValue;
  const out: Record<string, JsonValue> = {};
  for (const [key, item] of Object.entries(value)) if (present(item)) out[key] = compact(item);
  return out;
}

/** The values the schema's checks see: an object or list setting left blank is not given
 * (an untouched group of fields, or a secret one that keeps its stored value). */
export function valuesToCheck(values: FormValues): FormValues {
  if (!values.config) return values;
  const config = Object.fromEntries(Object.entries(values.config)
    .filter(([, value]) => !((isPlainObject(value) || Array.isArray(value)) && !present(value))));
  return { ...values, config };
}

/** The connector config to send: on create, what differs from the defaults; on edit,
 * what changed (null: back to the default), and only the secrets typed in. */
export function configToSend(connector: Pick<ConnectorDetail, "form_schema">, integration: StoredSettings | null, values: FormValues): Record<string, JsonValue> {
  const stored = integration?.config || {};
  const entered = values.config || {};
  const out: Record<string, JsonValue> = {};
  for (const [name, prop] of orderedSettings(connector.form_schema)) {
    const raw = entered[name];
    const value = raw === undefined ? undefined : compact(raw);
    if (isSecret(prop)) {
      // An untouched secret (blank, or a group of blank fields) keeps the stored one.
      if (present(value)) out[name] = value as JsonValue;
      continue;
    }
    if (integration) {
      const before = stored[name];
      const effectiveBefore = before === undefined ? prop.default : before;
      if (!present(value)) {
        if (before !== undefined && before !== null) out[name] = null;
      } else if (!same(value, effectiveBefore)) {
        out[name] = value as JsonValue;
      }
    } else if (present(value) && !same(value, prop.default)) {
      out[name] = value as JsonValue;
    }
  }
  return out;
}

function streamKey(streams: StreamSelection[] | undefined): string {
  return (streams || [])
    .map((s) => `${s.name}:${s.replication_key || ""}:${[...(s.excluded_columns || [])].sort().join(",")}:${[...(s.hashed_columns || [])].sort().join(",")}`)
    .sort()
    .join("|");
}

/** The body of POST /api/v1/integrations. */
export function createBody(connector: ConnectorDetail, values: FormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: values.name || "",
    connector: connector.id,
    config: configToSend(connector, null, values),
    streams: (values.streams || []).map(selectionOnly),
    schedule: values.schedule,
    destination: values.destination,
  };
  if (values.start_date) body.start_date = values.start_date;
  if (values.schema_policy && values.schema_policy !== DEFAULT_POLICY) body.schema_policy = values.schema_policy;
  if (values.message_format && values.message_format !== DEFAULT_FORMAT) body.message_format = values.message_format;
  return body;
}

/** The body of PATCH /api/v1/integrations/{name}: only what changed. */
export function updateBody(connector: ConnectorDetail, integration: Integration, values: FormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const config = configToSend(connector, integration, values);
  if (Object.keys(config).length) body.config = config;
  if (streamKey(values.streams) !== streamKey(integration.streams)) body.streams = (values.streams || []).map(selectionOnly);
  if (values.schedule && values.schedule !== integration.schedule) body.schedule = values.schedule;
  if (values.destination && values.destination !== integration.destination) body.destination = values.destination;
  if (values.start_date && values.start_date !== integration.start_date.slice(0, 10)) body.start_date = values.start_date;
  if (values.schema_policy && values.schema_policy !== (integration.schema_policy || DEFAULT_POLICY)) body.schema_policy = values.schema_policy;
  if (values.message_format && values.message_format !== (integration.message_format || DEFAULT_FORMAT)) body.message_format = values.message_format;
  return body;
}

export interface ReviewRow {
  label: string;
  text: string;
  secret?: boolean;
}

/** The streams in words; for a typed list, with the incremental column; with the
 * columns each leaves out. */
export function describeStreams(connector: ConnectorDetail, streams: StreamSelection[] | undefined): string {
  const dynamic = connector.dynamic_streams && connector.stream_specs.length === 0;
  return (streams || []).map((s) => {
    const notes = [
      dynamic && s.replication_key ? `by ${s.replication_key}` : null,
      s.excluded_columns?.length ? `without ${s.excluded_columns.join(", ")}` : null,
      s.hashed_columns?.length ? `hashing ${s.hashed_columns.join(", ")}` : null,
    ].filter(Boolean);
    return notes.length ? `${s.name} (${notes.join("; ")})` : s.name;
  }).join(", ");
}

/** A setting's value in words: a list joined, a list of objects by their names, an object
 * by its fields. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) {
    if (!value.some(isPlainObject)) return value.join(", ");
    const names = value.map((item, index) => (isPlainObject(item) && typeof item.name === "string" ? item.name : `item ${index + 1}`));
    return `${value.length} ${value.length === 1 ? "item" : "items"}: ${names.join(", ")}`;
  }
  if (isPlainObject(value)) {
    return Object.entries(value).filter(([, item]) => present(item))
      .map(([key, item]) => `${key}: ${isPlainObject(item) || Array.isArray(item) ? describeValue(item) : String(item)}`).join("; ");
  }
  return String(value);
}

/** What the review step lists; secrets only as "set" / "not set". */
export function reviewRows(connector: ConnectorDetail, integration: Integration | null, values: FormValues,
  destinations: DestinationChoice[] = BUILT_IN_DESTINATIONS): ReviewRow[] {
  const rows: ReviewRow[] = [
    { label: "Connector", text: connector.label },
    { label: "Integration name", text: values.name || "" },
  ];
  const entered = values.config || {};
  for (const [name, prop] of orderedSettings(connector.form_schema)) {
    const value = entered[name];
    const label = prop.title || name;
    let text: string;
    if (isSecret(prop)) {
      text = present(value) || integration?.secrets?.[name] === "set" ? "set" : "not set";
    } else if (prop.type === "boolean") {
      text = value ? "Yes" : "No";
    } else if (!present(value)) {
      text = prop.default !== undefined && prop.default !== null ? `${String(prop.default)} (default)` : "—";
    } else {
      text = describeValue(value);
    }
    rows.push({ label, text, secret: isSecret(prop) });
  }
  rows.push({ label: "Streams", text: describeStreams(connector, values.streams) });
  rows.push({ label: "Start date", text: values.start_date || "First day of this month" });
  const frequency = FREQUENCIES.find(([cron]) => cron === (values.schedule || "").trim());
  rows.push({ label: "Schedule", text: frequency ? `${frequency[1]} (${frequency[0]})` : values.schedule || "" });
  const destination = destinations.find(([value]) => value === values.destination);
  rows.push({ label: "Destination", text: destination ? destination[1] : values.destination || "" });
  const policy = SCHEMA_POLICIES.find(([value]) => value === (values.schema_policy || DEFAULT_POLICY));
  rows.push({ label: "When the source changes", text: policy ? policy[1] : values.schema_policy || "" });
  const format = MESSAGE_FORMATS.find(([value]) => value === (values.message_format || DEFAULT_FORMAT));
  rows.push({ label: "How records travel", text: format ? format[1] : values.message_format || "" });
  return rows;
}

// -- messages at a field -------------------------------------------------------------

/** The message shown at each field: the server's, else the schema check's once the field
 * was changed or left (`shown`), for the form's keys in `order` and the fields inside them. */
export function fieldMessages(order: string[], client: Record<string, string>, server: Record<string, string>,
  shown: (key: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of order) {
    const message = server[key] || (shown(key) ? client[key] : undefined);
    if (message) out[key] = message;
  }
  for (const [key, message] of Object.entries(client)) {
    if (key in out || order.includes(key) || !order.includes(topKey(key, order))) continue;
    if (shown(key)) out[key] = message;
  }
  return out;
}

/** The path of a validation error's property: ".config.client_id" → "config.client_id". */
export function errorPath(property: string | undefined): string {
  return (property || "")
    .replace(/\['([^']+)'\]/g, ".$1")
    .replace(/\[(\d+)\]/g, ".$1")
    .replace(/^\./, "");
}

/** The schema of the field at `path` ("config.lookback_window", "config.streams.0.path").
 * A setting's own name may hold dots ("config.cloud_provider.aws.aws_bucket"): at each
 * level the longest name the schema has is taken. */
export function schemaAt(schema: WizardSchema, path: string): SettingSchema | undefined {
  let node: SettingSchema | FormSchema | undefined = schema as unknown as FormSchema;
  const parts = path.split(".");
  let at = 0;
  while (at < parts.length) {
    if (!node) return undefined;
    if (node.type === "array" && /^\d+$/.test(parts[at] ?? "")) {
      node = (node as SettingSchema).items;
      at += 1;
      continue;
    }
    const properties: Record<string, SettingSchema> = node.properties || {};
    let end = parts.length;
    while (end > at && !(parts.slice(at, end).join(".") in properties)) end -= 1;
    if (end === at) return undefined;
    node = properties[parts.slice(at, end).join(".")];
    at = end;
  }
  return node as SettingSchema | undefined;
}

/** The form key a field's key belongs to: "config.streams.0.path" → "config.streams".
 * With the form's keys (`known`), the longest one the key starts with: a setting whose
 * name holds dots stays whole. */
export function topKey(key: string, known: string[] = []): string {
  const match = known
    .filter((k) => key === k || key.startsWith(`${k}.`))
    .sort((a, b) => b.length - a.length)[0];
  if (match) return match;
  const parts = key.split(".");
  return parts[0] === "config" ? parts.slice(0, 2).join(".") : parts[0] || "";
}

/** The keys whose values differ between two states of the form: each form key, and each
 * field inside an object or list ("config.streams", "config.streams.0.path"). */
export function changedKeys(before: unknown, after: unknown, prefix: string): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const out = prefix ? [prefix] : [];
  const nested = (value: unknown) => (isPlainObject(value) || Array.isArray(value) ? value as Record<string, unknown> : {});
  if (isPlainObject(before) || Array.isArray(before) || isPlainObject(after) || Array.isArray(after)) {
    const a = nested(before);
    const b = nested(after);
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      out.push(...changedKeys(a[key], b[key], prefix ? `${prefix}.${key}` : key));
    }
  }
  return out;
}

/** A server message about a place inside a setting, in words: "[0].path: missing" →
 * "Item 1, path: missing"; "port: expected type integer" stays as it is. */
export function describeServerMessage(message: string): string {
  const match = /^((?:\[\d+\]|\.?[A-Za-z_][\w-]*)+): ([\s\S]*)$/.exec(message);
  if (!match || !match[1]?.startsWith("[")) return capitalise(message);
  const place = (match[1].match(/\[\d+\]|[A-Za-z_][\w-]*/g) || [])
    .map((part) => (part.startsWith("[") ? `item ${Number(part.slice(1, -1)) + 1}` : part))
    .join(", ");
  return capitalise(`${place}: ${match[2]}`);
}

/** One validation error in the words of the page: what is wrong, and what to enter. */
export function fieldMessage(error: RJSFValidationError, schema: SettingSchema | undefined): string {
  const params = (error.params || {}) as Record<string, unknown>;
  switch (error.name) {
    case "required":
      return "Required.";
    case "type":
      if (params.type === "integer") return "Enter a whole number.";
      if (params.type === "number") return "Enter a number.";
      if (params.type === "object" && isFreeFormObject(schema)) return JSON_OBJECT_MESSAGE;
      if (params.type === "object") return "Enter an object.";
      if (params.type === "array") return "Enter a list.";
      return `Enter a ${String(params.type)}.`;
    case "minimum":
    case "exclusiveMinimum":
      return `Must be at least ${String(params.limit)}.`;
    case "maximum":
    case "exclusiveMaximum":
      return `Must be at most ${String(params.limit)}.`;
    case "enum":
      return `Choose one of ${(schema?.enum || []).join(", ")}.`;
    case "minLength":
      return `Enter at least ${String(params.limit)} characters.`;
    case "maxLength":
      return `Enter at most ${String(params.limit)} characters.`;
    case "minItems":
      if (!schema?.items) return "Choose at least one stream.";
      return `Add at least ${String(params.limit)} ${params.limit === 1 ? "item" : "items"}.`;
    case "pattern":
      return schema?.["x-pattern-message"] || "This does not have the expected format.";
    case "format":
      switch (params.format) {
        case "uri":
          return "Enter a web address such as https://example.my.salesforce.com.";
        case "date":
          return "Enter a date as YYYY-MM-DD, e.g. 2024-01-01.";
        case "date-time":
          return "Enter a date and time such as 2024-01-01T00:00:00Z.";
        case "email":
          return "Enter an email address.";
        default:
          return "This does not have the expected format.";
      }
    default:
      return capitalise(error.message || "This value is not valid");
  }
}

/** The form's keys a server error key may name: "client_id" / "config.client_id" →
 * "config.client_id"; "streams.0.name" → "streams"; "name" → "name". */
export function serverErrorKey(connector: ConnectorDetail, key: string): string | null {
  const settings = new Set(Object.keys(connector.form_schema.properties || {}));
  if (settings.has(key)) return `config.${key}`;
  const known = new Set(["name", ...INTEGRATION_KEYS, ...[...settings].map((s) => `config.${s}`)]);
  const parts = key.split(".");
  for (let length = parts.length; length > 0; length -= 1) {
    const prefix = parts.slice(0, length).join(".");
    if (known.has(prefix)) return prefix;
  }
  return null;
}

/** The form's keys in the order the fields are shown (server errors are listed so). */
export function fieldOrder(connector: ConnectorDetail): string[] {
  const settings = orderedSettings(connector.form_schema);
  const required = new Set(connector.form_schema.required || []);
  const main = settings.filter(([, p]) => !p["x-advanced"]);
  const advanced = settings.filter(([, p]) => p["x-advanced"]);
  return [
    "name",
    ...main.filter(([n]) => required.has(n)).map(([n]) => `config.${n}`),
    ...main.filter(([n]) => !required.has(n)).map(([n]) => `config.${n}`),
    ...advanced.map(([n]) => `config.${n}`),
    ...INTEGRATION_KEYS,
  ];
}

/** A field's label, for summaries. */
export function fieldLabel(schema: WizardSchema, key: string): string {
  return schemaAt(schema, key)?.title || key;
}
