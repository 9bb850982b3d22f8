// What the config API returns (the parts the page reads).

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One property of a connector's settings schema, with the platform's own keywords. */
export interface SettingSchema {
  type?: "string" | "integer" | "number" | "boolean" | "array" | "object";
  title?: string;
  description?: string;
  default?: JsonValue;
  enum?: string[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  writeOnly?: boolean;
  items?: SettingSchema;
  /** An object setting's own fields (none: a free-form object, edited as JSON). */
  properties?: Record<string, SettingSchema>;
  required?: string[];
  additionalProperties?: boolean | SettingSchema;
  "x-secret"?: boolean;
  /** A text setting that is usually a file's content (a private key, a certificate, a CSV). */
  "x-file"?: boolean;
  "x-advanced"?: boolean;
  "x-order"?: number;
  "x-enum-labels"?: string[];
  "x-pattern-message"?: string;
  placeholder?: string;
}

export interface FormSchema {
  type: "object";
  properties: Record<string, SettingSchema>;
  required?: string[];
}

export interface ConnectorSummary {
  id: string;
  label: string;
  category: string;
  description: string;
  streams: string[];
  logo_url: string;
  docs_url?: string | null;
  /** verified: synced end to end in the project's tests; community: the others. */
  tier?: "verified" | "community";
}

export interface StreamSpec {
  name: string;
  description?: string | null;
  selected_by_default: boolean;
}

export interface ConnectorDetail extends ConnectorSummary {
  form_schema: FormSchema;
  stream_specs: StreamSpec[];
  dynamic_streams: boolean;
  stream_name_help?: string;
  default_schedule: string;
  can_hash_columns?: boolean;
}

export interface StreamSelection {
  name: string;
  replication_key?: string | null;
  excluded_columns?: string[];
  hashed_columns?: string[];
}

export interface RunSummary {
  run_id: string;
  status: string;
  started_at: string | null;
  ended_at: string | null;
  duration_s?: number | null;
  row_counts?: Record<string, number>;
  url: string;
  /** While the run syncs: rows so far per stream. */
  progress?: RunProgress | null;
}

export interface RunProgress {
  rows: Record<string, number>;
  total: number;
  rows_per_s: number;
  elapsed_s: number;
  updated_at: string;
}

export interface IntegrationStatus {
  last_run?: RunSummary | null;
  next_run_at?: string | null;
  row_counts?: Record<string, number>;
}

export interface NotificationSummary {
  id: string;
  title: string;
}

export interface Integration {
  id?: string;
  name: string;
  connector: string;
  enabled: boolean;
  version: number;
  config: Record<string, JsonValue>;
  secrets: Record<string, "set" | "not set">;
  config_error?: string | null;
  streams: StreamSelection[];
  schema_policy?: string;
  message_format?: string;
  start_date: string;
  schedule: string;
  destination: string;
  status?: IntegrationStatus | null;
  notifications?: NotificationSummary[];
  links?: { dagster?: string };
}

export interface Notification {
  id: string;
  integration: string;
  kind: string;
  severity: "critical" | "error" | "warning" | "info" | string;
  title: string;
  action: string;
  message?: string | null;
  count: number;
  last_seen_at: string;
  settings_field?: string | null;
  settings_url?: string | null;
  run_url?: string | null;
}

export interface TestOutcome {
  ok: boolean;
  reason: string;
  message: string;
  hint?: string | null;
  duration_s: number;
  details?: { warning?: string } | null;
}

export interface LogLine {
  timestamp: string | null;
  level: string;
  step: string | null;
  message: string;
}

export interface SavedIntegration {
  integration: Integration;
  definitions?: string;
}

export interface BulkResult {
  results: { name: string; ok: boolean; error?: string | null }[];
}

export interface DiscoveredColumn {
  name: string;
  type: string;
  format: string | null;
  nullable: boolean;
  /** automatic (always synced), available or unsupported */
  inclusion: string;
}

export interface DiscoveredStream {
  name: string;
  primary_key: string[];
  replication_keys: string[];
  default_replication_key: string | null;
  incremental: boolean;
  columns: DiscoveredColumn[];
}

export interface Discovery {
  discovered_at: string;
  duration_s: number;
  stream_count: number;
  streams: DiscoveredStream[];
}

export interface DiscoveryOutcome extends TestOutcome {
  discovered_at?: string | null;
  stream_count?: number | null;
  streams?: DiscoveredStream[] | null;
}

export interface SchemaChange {
  id: number | null;
  stream: string;
  column: string | null;
  kind: string;
  status: "applied" | "pending" | "approved";
  severity: string;
  description: string;
  seen_at: string | null;
}

export interface IntegrationSchema {
  schema_policy: string;
  pending: SchemaChange[];
  changes: SchemaChange[];
}

/** A role: what its holder may do (see lib/roles.ts). */
export type Role = "admin" | "editor" | "viewer";

/** GET /api/v1/me: who is signed in, how, and the session's CSRF token. */
export interface Me {
  name: string;
  role: Role;
  auth: "session" | "token" | "service" | "development";
  csrf_token: string | null;
  expires_at: string | null;
}

/** A user account (GET /api/v1/users). */
export interface User {
  name: string;
  role: Role;
  has_password: boolean;
  created_at: string | null;
  last_sign_in_at: string | null;
  /** Only in the answer creating a user without a password: "/#sign-in=TOKEN", shown once. */
  sign_in_link?: string;
}

/** One recorded change, sign-in or refusal (GET /api/v1/audit). */
export interface AuditEvent {
  id: number | string;
  at: string;
  actor: string;
  role: Role | null;
  source: "page" | "api" | "cli" | "schedule";
  action: string;
  integration: string | null;
  target: string | null;
  fields: string[];
  result: "ok" | "failed" | "denied";
  detail: string | null;
  address: string | null;
}

/** A destination connector of the catalog (GET /api/v1/destination-connectors). */
export interface DestinationConnectorSummary {
  id: string;
  label: string;
  category: string;
  description: string;
  docs_url?: string | null;
  logo_url: string;
  /** verified: loaded into end to end in the project's tests; community: the others. */
  tier?: "verified" | "community";
  /** What its connection test checks: postgres, folder, s3, reachability or none. */
  connection_test: string;
}

/** A destination connector with its settings form (GET /api/v1/destination-connectors/{id}). */
export interface DestinationConnectorDetail extends DestinationConnectorSummary {
  form_schema: FormSchema;
}

/** A destination (GET /api/v1/destinations): built in (jsonl, postgres) or configured;
 * secrets only as "set" / "not set"; the list has no config (GET one for it). */
export interface Destination {
  name: string;
  connector: string;
  label: string;
  built_in: boolean;
  used_by: string[];
  config: Record<string, JsonValue>;
  secrets: Record<string, "set" | "not set">;
  version: number;
  note?: string;
}
