// A connector and an integration as the API returns them.

import { vi } from "vitest";

import type { ConnectorDetail, Destination, DestinationConnectorDetail, DiscoveredStream, Integration } from "@/lib/types";

export const SALESFORCE: ConnectorDetail = {
  id: "salesforce",
  label: "Salesforce",
  category: "CRM",
  description: "Accounts, contacts and opportunities.",
  streams: ["Account", "Contact"],
  logo_url: "/api/v1/connectors/salesforce/logo",
  docs_url: null,
  dynamic_streams: true,
  stream_name_help: "",
  default_schedule: "0 * * * *",
  stream_specs: [
    { name: "Account", description: "Companies", selected_by_default: true },
    { name: "Contact", description: null, selected_by_default: true },
  ],
  form_schema: {
    type: "object",
    required: ["client_id", "client_secret"],
    properties: {
      client_id: { type: "string", title: "Client ID", "x-order": 1 },
      client_secret: { type: "string", title: "Client Secret", "x-secret": true, writeOnly: true, "x-order": 2 },
      instance_url: { type: "string", title: "Instance URL", format: "uri", "x-order": 4 },
      lookback_window: { type: "integer", title: "Lookback window (seconds)", minimum: 0, "x-advanced": true, "x-order": 15 },
      api_type: { type: "string", title: "API type", enum: ["REST", "BULK"], default: "REST", "x-advanced": true, "x-order": 11 },
    },
  },
};

export const STORED: Integration = {
  name: "crm",
  connector: "salesforce",
  enabled: true,
  version: 3,
  config: { client_id: "cid", api_type: "BULK" },
  secrets: { client_secret: "set" },
  config_error: null,
  streams: [{ name: "Account", replication_key: "SystemModstamp", excluded_columns: ["Phone"] }],
  start_date: "2024-01-01T00:00:00Z",
  schedule: "0 6 * * *",
  destination: "jsonl",
};

const column = (name: string, inclusion = "available") => ({ name, type: "string", format: null, nullable: true, inclusion });

export const DISCOVERED: DiscoveredStream[] = [
  {
    name: "Account",
    primary_key: ["Id"],
    replication_keys: ["SystemModstamp", "LastModifiedDate"],
    default_replication_key: "SystemModstamp",
    incremental: true,
    columns: [column("Id", "automatic"), column("Name"), column("Phone"), column("SystemModstamp"), column("LastModifiedDate")],
  },
  {
    name: "Lead",
    primary_key: ["Id"],
    replication_keys: [],
    default_replication_key: null,
    incremental: false,
    columns: [column("Id", "automatic"), column("Company")],
  },
];

/** A connector with every structured kind of setting: a list of objects, a secret object
 * with a nested credential, a free-form secret object, a secret file and a choice. */
export const REST_API: ConnectorDetail = {
  id: "rest_api",
  label: "REST API",
  category: "Developer tools",
  description: "Any JSON API over HTTP.",
  streams: [],
  logo_url: "/api/v1/connectors/rest_api/logo",
  docs_url: null,
  dynamic_streams: true,
  stream_name_help: "",
  default_schedule: "0 * * * *",
  stream_specs: [],
  form_schema: {
    type: "object",
    required: ["api_url", "streams"],
    properties: {
      api_url: { type: "string", title: "API URL", format: "uri", "x-order": 1 },
      streams: {
        type: "array",
        title: "Streams",
        description: "The API's endpoints, one stream each.",
        "x-order": 2,
        items: {
          type: "object",
          required: ["name", "path"],
          properties: {
            name: { type: "string", title: "Name" },
            path: { type: "string", title: "Path" },
            primary_keys: { type: "array", title: "Primary keys", items: { type: "string" } },
            records_path: { type: "string", title: "Records path" },
          },
        },
      },
      auth_method: { type: "string", title: "Authentication", enum: ["no_auth", "api_key", "basic"], default: "no_auth", "x-order": 3 },
      ssh_tunnel: {
        type: "object",
        title: "SSH tunnel",
        writeOnly: true,
        "x-secret": true,
        "x-order": 4,
        required: ["host", "private_key"],
        properties: {
          host: { type: "string", title: "Host" },
          port: { type: "integer", title: "Port", default: 22 },
          private_key: { type: "string", title: "Private key", writeOnly: true, format: "password" },
        },
      },
      api_keys: { type: "object", title: "API keys", description: "Header names and their values.", writeOnly: true, "x-secret": true, "x-order": 5 },
      client_certificate: {
        type: "string",
        title: "Client certificate",
        "x-file": true,
        writeOnly: true,
        "x-secret": true,
        format: "password",
        minLength: 8,
        maxLength: 16384,
        "x-order": 6,
      },
    },
  },
};

export const REST_STORED: Integration = {
  name: "orders_api",
  connector: "rest_api",
  enabled: true,
  version: 2,
  config: { api_url: "https://api.example.com", streams: [{ name: "orders", path: "/orders", primary_keys: ["id"] }], auth_method: "api_key" },
  secrets: { ssh_tunnel: "set", api_keys: "set", client_certificate: "set" },
  config_error: null,
  streams: [{ name: "orders" }],
  start_date: "2024-01-01T00:00:00Z",
  schedule: "0 * * * *",
  destination: "jsonl",
};


/** A request the page made to the stand-in API. */
export interface Call {
  method: string;
  url: string;
  body: unknown;
}

/** The stand-in API's answers: "METHOD url" → (body) → [status, data]; others are 404. */
export type Answers = Record<string, (body: unknown) => [number, unknown]>;

/** Replaces fetch with a stand-in for the config API, answering from `answers` (fill it
 * in a test) and recording every call in `calls`. */
export function fakeApi(): { calls: Call[]; answers: Answers } {
  const calls: Call[] = [];
  const answers: Answers = {};
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    const method = init.method || "GET";
    calls.push({ method, url, body });
    const answer = answers[`${method} ${url}`];
    const [status, data] = answer ? answer(body) : [404, { error: "NotFound", detail: "No such route" }];
    if (status === 204) return new Response(null, { status });
    return new Response(JSON.stringify(data), { status, headers: { "content-type": "application/json" } });
  });
  return { calls, answers };
}

/** The PostgreSQL destination connector as GET /api/v1/destination-connectors/postgres
 * returns it. */
export const POSTGRES_DESTINATION: DestinationConnectorDetail = {
  id: "postgres",
  label: "PostgreSQL",
  category: "Warehouse",
  description: "A PostgreSQL database: one schema per integration, one table per stream.",
  docs_url: null,
  logo_url: "/api/v1/destination-connectors/postgres/logo",
  tier: "verified",
  connection_test: "postgres",
  form_schema: {
    type: "object",
    required: ["host", "user", "password", "database"],
    properties: {
      host: { type: "string", title: "Host", "x-order": 1 },
      user: { type: "string", title: "User", "x-order": 3 },
      password: { type: "string", title: "Password", writeOnly: true, format: "password", minLength: 8, "x-secret": true, "x-order": 4 },
      database: { type: "string", title: "Database", "x-order": 5 },
      port: { type: "integer", title: "Port", minimum: 1, maximum: 65535, default: 5432, "x-order": 2 },
      use_copy: { type: "boolean", title: "Load with COPY", default: false, "x-advanced": true, "x-order": 10 },
    },
  },
};

export const JSONL_DESTINATION: DestinationConnectorDetail = {
  id: "jsonl",
  label: "JSON Lines files (embedded)",
  category: "Files",
  description: "One JSON Lines file per stream.",
  docs_url: null,
  logo_url: "/api/v1/destination-connectors/jsonl/logo",
  tier: "community",
  connection_test: "none",
  form_schema: { type: "object", properties: {} },
};

/** GET /api/v1/destinations: the built-in ones and a configured warehouse. */
export const DESTINATIONS: Destination[] = [
  { name: "jsonl", connector: "jsonl", label: "JSON Lines files (embedded)", built_in: true, used_by: ["crm"], config: {}, secrets: {}, version: 0, note: "Embedded: JSON Lines files. Nothing to configure." },
  { name: "postgres", connector: "postgres", label: "PostgreSQL", built_in: true, used_by: [], config: {}, secrets: {}, version: 0, note: "The deployment's warehouse." },
  { name: "warehouse", connector: "postgres", label: "PostgreSQL", built_in: false, used_by: ["shop"], config: {}, secrets: {}, version: 2, note: "" },
];

/** GET /api/v1/destinations/warehouse. */
export const WAREHOUSE: Destination = {
  ...DESTINATIONS[2] as Destination,
  config: { host: "db.internal", user: "loader", database: "analytics", port: 5433 },
  secrets: { password: "set" },
};
