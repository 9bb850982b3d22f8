import { describe, expect, it } from "vitest";

import {
  configToSend,
  createBody,
  fieldMessage,
  initialValues,
  reviewRows,
  schemaAt,
  serverErrorKey,
  topKey,
  updateBody,
  wizardSchema,
} from "@/lib/settings";
import { describeProgress } from "@/lib/format";
import { validator } from "@/lib/validator";

import { SALESFORCE, STORED } from "./fixtures";

describe("the wizard's schema", () => {
  it("requires a secret on create, not when one is stored", () => {
    expect(wizardSchema(SALESFORCE, null).properties.config).toMatchObject({ required: ["client_id", "client_secret"] });
    expect(wizardSchema(SALESFORCE, STORED).properties.config).toMatchObject({ required: ["client_id"] });
  });

  it("never starts with a secret, and starts with stored values", () => {
    const values = initialValues(SALESFORCE, STORED);
    expect(values.config).toEqual({ client_id: "cid", api_type: "BULK" });
    expect(values.start_date).toBe("2024-01-01");
    expect(initialValues(SALESFORCE, null).streams).toEqual([{ name: "Account" }, { name: "Contact" }]);
  });
});

describe("what is sent", () => {
  it("on create: what differs from the defaults, secrets only when typed", () => {
    const body = createBody(SALESFORCE, {
      name: "crm",
      config: { client_id: "cid", client_secret: "s3cret-value", api_type: "REST", lookback_window: 0 },
      streams: [{ name: "Account" }],
      schedule: "0 * * * *",
      destination: "jsonl",
    });
    expect(body.config).toEqual({ client_id: "cid", client_secret: "s3cret-value", lookback_window: 0 });
    expect(body).not.toHaveProperty("start_date");
  });

  it("on edit: a blank secret keeps the stored one; a cleared setting goes back to its default", () => {
    const config = configToSend(SALESFORCE, STORED, { config: { client_id: "cid", client_secret: "", api_type: undefined } });
    expect(config).toEqual({ api_type: null });
  });

  it("on edit: only what changed, streams keeping their stored columns", () => {
    const values = initialValues(SALESFORCE, STORED);
    expect(updateBody(SALESFORCE, STORED, values)).toEqual({});
    const body = updateBody(SALESFORCE, STORED, { ...values, schedule: "0 7 * * *", config: { ...values.config, client_secret: "new-secret-1" } });
    expect(body).toEqual({ schedule: "0 7 * * *", config: { client_secret: "new-secret-1" } });
  });

  it("sends a stored stream as a selection only, and a changed column list", () => {
    const stored = { ...STORED, streams: [{ name: "Account", replication_key: "SystemModstamp", excluded_columns: [], primary_key: ["Id"], columns: [["Id", "string"]] }] } as unknown as typeof STORED;
    const values = initialValues(SALESFORCE, stored);
    expect(values.streams).toEqual([{ name: "Account", replication_key: "SystemModstamp" }]);
    expect(updateBody(SALESFORCE, stored, values)).toEqual({});
    const body = updateBody(SALESFORCE, stored, { ...values, streams: [{ name: "Account", replication_key: "SystemModstamp", excluded_columns: ["Phone"] }] });
    expect(body).toEqual({ streams: [{ name: "Account", replication_key: "SystemModstamp", excluded_columns: ["Phone"] }] });
  });

  it("sends hashed columns and a changed schema policy, and reviews them", () => {
    const values = initialValues(SALESFORCE, STORED);
    expect(values.schema_policy).toBe("allow_columns");
    expect(updateBody(SALESFORCE, STORED, values)).toEqual({});
    const streams = [{ name: "Contact", hashed_columns: ["Email"] }];
    const body = updateBody(SALESFORCE, STORED, { ...values, schema_policy: "block_all", streams });
    expect(body).toEqual({ schema_policy: "block_all", streams: [{ name: "Contact", hashed_columns: ["Email"] }] });
    const created = createBody(SALESFORCE, { name: "crm", config: {}, streams, schema_policy: "allow_columns" });
    expect(created.schema_policy).toBeUndefined();
    const rows = reviewRows(SALESFORCE, null, { name: "crm", streams, schema_policy: "block_all" });
    expect(rows.find((r) => r.label === "Streams")?.text).toBe("Contact (hashing Email)");
    expect(rows.find((r) => r.label === "When the source changes")?.text).toContain("until I approve them");
  });

  it("sends a changed message format only, and reviews it", () => {
    const values = initialValues(SALESFORCE, STORED);
    expect(values.message_format).toBe("auto");
    expect(updateBody(SALESFORCE, STORED, { ...values, message_format: "records" })).toEqual({ message_format: "records" });
    expect(updateBody(SALESFORCE, { ...STORED, message_format: "records" }, { ...values, message_format: "records" })).toEqual({});
    expect(createBody(SALESFORCE, { name: "crm", config: {}, message_format: "auto" }).message_format).toBeUndefined();
    expect(createBody(SALESFORCE, { name: "crm", config: {}, message_format: "batch" }).message_format).toBe("batch");
    const rows = reviewRows(SALESFORCE, null, { name: "crm", message_format: "records" });
    expect(rows.find((r) => r.label === "How records travel")?.text).toBe("One message per record");
  });

  it("reviews secrets only as set or not set", () => {
    const rows = reviewRows(SALESFORCE, null, { name: "crm", config: { client_id: "cid", client_secret: "abcdefgh-canary" } });
    const secret = rows.find((r) => r.label === "Client Secret");
    expect(secret).toEqual({ label: "Client Secret", text: "set", secret: true });
    expect(JSON.stringify(rows)).not.toContain("abcdefgh-canary");
    expect(rows.find((r) => r.label === "API type")?.text).toBe("REST (default)");
  });
});

describe("messages at a field", () => {
  const schema = wizardSchema(SALESFORCE, null);
  const messages = (values: object) => Object.fromEntries(
    validator.validateFormData(values, schema as never).errors.map((error) => {
      const key = (error.property || "").replace(/^\./, "");
      return [key, fieldMessage(error, schemaAt(schema, key))];
    }),
  );

  it("says what to enter, from the schema", () => {
    const found = messages({
      name: "Not A Name",
      config: { lookback_window: "abc", instance_url: "acme.example" },
      streams: [],
      schedule: "* *",
      destination: "jsonl",
      start_date: "2024-13-01",
    });
    expect(found).toMatchObject({
      name: "Use lower-case letters, digits and underscores, starting with a letter (at most 63).",
      "config.client_id": "Required.",
      "config.lookback_window": "Enter a whole number.",
      "config.instance_url": "Enter a web address such as https://example.my.salesforce.com.",
      streams: "Choose at least one stream.",
      schedule: "A cron expression has five fields, e.g. 0 * * * * (every hour).",
      start_date: "Enter a date as YYYY-MM-DD, e.g. 2024-01-01.",
    });
    expect(messages({ name: "ok", config: { client_id: "c", client_secret: "s", lookback_window: -5 }, streams: [{ name: "A" }], schedule: "0 * * * *", destination: "jsonl" }))
      .toEqual({ "config.lookback_window": "Must be at least 0." });
  });

  it("places the server's field errors", () => {
    expect(serverErrorKey(SALESFORCE, "client_id")).toBe("config.client_id");
    expect(serverErrorKey(SALESFORCE, "config.lookback_window")).toBe("config.lookback_window");
    expect(serverErrorKey(SALESFORCE, "streams.0.name")).toBe("streams");
    expect(serverErrorKey(SALESFORCE, "nonsense")).toBeNull();
  });
});

describe("progress", () => {
  it("says a running sync's rows so far and its rate", () => {
    const progress = { rows: { a: 1000, b: 11000 }, total: 12000, rows_per_s: 1199.6, elapsed_s: 10, updated_at: "2026-01-01T00:00:00Z" };
    expect(describeProgress(progress)).toBe("12,000 rows so far (1,200 rows/s)");
  });
});

describe("settings whose names hold dots", () => {
  const schema = {
    type: "object",
    properties: {
      config: {
        type: "object",
        properties: {
          "cloud_provider.aws.aws_bucket": { type: "string", title: "Bucket" },
          streams: { type: "array", items: { type: "object", properties: { path: { type: "string", title: "Path" } } } },
        },
      },
    },
  } as unknown as Parameters<typeof schemaAt>[0];

  it("finds a dotted setting's schema whole, and nested fields as before", () => {
    expect(schemaAt(schema, "config.cloud_provider.aws.aws_bucket")?.title).toBe("Bucket");
    expect(schemaAt(schema, "config.streams.0.path")?.title).toBe("Path");
    expect(schemaAt(schema, "config.cloud_provider")).toBeUndefined();
  });

  it("keeps a dotted setting's key whole when the form's keys are known", () => {
    const known = ["config.cloud_provider.aws.aws_bucket", "config.streams"];
    expect(topKey("config.cloud_provider.aws.aws_bucket", known)).toBe("config.cloud_provider.aws.aws_bucket");
    expect(topKey("config.streams.0.path", known)).toBe("config.streams");
    expect(topKey("config.streams.0.path")).toBe("config.streams");
  });
});
