// A connector and an integration as the API returns them.

import type { ConnectorDetail, DiscoveredStream, Integration } from "@/lib/types";

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
