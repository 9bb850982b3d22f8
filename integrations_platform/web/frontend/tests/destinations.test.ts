// The destination form as data: its schema from the connector's, the bodies of create,
// update and test (a blank secret keeps the stored one: it is never sent), and the
// wizard's choices of destination.

import { describe, expect, it } from "vitest";

import {
  destinationChoices,
  destinationCreateBody,
  destinationFieldOrder,
  destinationInitialValues,
  destinationSchema,
  destinationTestRequest,
  destinationText,
  destinationUpdateBody,
  formConnector,
  outcomeFieldErrors,
  usedByText,
} from "@/lib/destinations";
import { BUILT_IN_DESTINATIONS, fieldMessages, reviewRows, schemaAt, wizardSchema, fieldMessage } from "@/lib/settings";
import { validator } from "@/lib/validator";

import { DESTINATIONS, POSTGRES_DESTINATION, SALESFORCE, WAREHOUSE } from "./fixtures";

const PG = formConnector(POSTGRES_DESTINATION);

describe("the destination form's schema", () => {
  it("is the name and the connector's settings; a stored secret is not required", () => {
    const created = destinationSchema(PG, null);
    expect(created.required).toEqual(["name"]);
    expect(Object.keys(created.properties)).toEqual(["name", "config"]);
    expect(created.properties.config).toMatchObject({ title: "PostgreSQL connection", required: ["host", "user", "password", "database"] });
    expect(Object.keys((created.properties.config as { properties: object }).properties)).toEqual(["host", "port", "user", "password", "database", "use_copy"]);
    expect(destinationSchema(PG, WAREHOUSE).properties.config).toMatchObject({ required: ["host", "user", "database"] });
    expect(destinationFieldOrder(PG)).toEqual(["name", "config.host", "config.user", "config.password", "config.database", "config.port", "config.use_copy"]);
  });

  it("says what is wrong at each field", () => {
    const schema = destinationSchema(PG, null);
    const { errors } = validator.validateFormData({ name: "Bad Name", config: { host: "h", port: "x", user: "u", password: "short", database: "d" } }, schema as never);
    const messages = Object.fromEntries(errors.map((e) => {
      const key = (e.property || "").replace(/^\./, "");
      return [key, fieldMessage(e, schemaAt(schema, key))];
    }));
    expect(messages).toEqual({
      name: "Use lower-case letters, digits and underscores, starting with a letter (at most 32).",
      "config.port": "Enter a whole number.",
      "config.password": "Enter at least 8 characters.",
    });
  });

  it("starts with the stored settings, never a secret, else the defaults", () => {
    expect(destinationInitialValues(PG, null)).toEqual({ name: undefined, config: { port: 5432, use_copy: false } });
    expect(destinationInitialValues(PG, WAREHOUSE)).toEqual({
      name: "warehouse", config: { host: "db.internal", user: "loader", database: "analytics", port: 5433, use_copy: false },
    });
  });
});

describe("what is sent", () => {
  const entered = { name: " dwh ", config: { host: "127.0.0.1", port: 5432, user: "postgres", password: "canary-secret-1", database: "e2e", use_copy: false } };

  it("on create: the name, the connector, and the settings that differ from the defaults", () => {
    expect(destinationCreateBody(PG, entered)).toEqual({
      name: "dwh", connector: "postgres", config: { host: "127.0.0.1", user: "postgres", password: "canary-secret-1", database: "e2e" },
    });
  });

  it("on edit: only what changed, and the version read; a blank secret is left out (kept)", () => {
    const values = destinationInitialValues(PG, WAREHOUSE);
    expect(destinationUpdateBody(PG, WAREHOUSE, values)).toEqual({ config: {}, version: 2 });
    const blank = { ...values, config: { ...values.config, password: "", host: "db2.internal" } };
    const body = destinationUpdateBody(PG, WAREHOUSE, blank);
    expect(body).toEqual({ config: { host: "db2.internal" }, version: 2 });
    expect(body.config).not.toHaveProperty("password");
    const typed = { ...values, config: { ...values.config, password: "a-new-password", port: undefined } };
    expect(destinationUpdateBody(PG, WAREHOUSE, typed)).toEqual({ config: { password: "a-new-password", port: null }, version: 2 });
  });

  it("tests a new destination with its connector, a saved one with the edits only", () => {
    expect(destinationTestRequest(PG, null, entered)).toEqual({
      path: "/api/v1/destination-connectors/postgres/test",
      body: { config: { host: "127.0.0.1", user: "postgres", password: "canary-secret-1", database: "e2e" } },
    });
    const values = destinationInitialValues(PG, WAREHOUSE);
    expect(destinationTestRequest(PG, WAREHOUSE, { ...values, config: { ...values.config, password: "" } })).toEqual({
      path: "/api/v1/destinations/warehouse/test", body: { config: {} },
    });
  });

  it("reads the field errors of a test's configuration failure", () => {
    const outcome = { ok: false, reason: "configuration", message: "Invalid", duration_s: 0, details: { field_errors: { password: "too short", n: 3 } } };
    expect(outcomeFieldErrors(outcome as never)).toEqual({ password: "too short" });
    expect(outcomeFieldErrors({ ok: true, reason: "ok", message: "", duration_s: 0, details: null })).toEqual({});
  });
});

describe("the wizard's destination field", () => {
  it("offers the live list, by name and label, keeping the current one", () => {
    expect(destinationChoices(DESTINATIONS)).toEqual([
      ["jsonl", "jsonl — JSON Lines files (embedded)"],
      ["postgres", "postgres — PostgreSQL"],
      ["warehouse", "warehouse — PostgreSQL"],
    ]);
    expect(destinationChoices(null, "jsonl", undefined)).toEqual(BUILT_IN_DESTINATIONS);
    expect(destinationChoices(DESTINATIONS.slice(0, 2), "gone", "postgres").map(([name]) => name)).toEqual(["jsonl", "postgres", "gone"]);
  });

  it("is an enum of the choices, and the review shows the destination's label", () => {
    const choices = destinationChoices(DESTINATIONS);
    const schema = wizardSchema(SALESFORCE, null, choices);
    expect(schema.properties.destination).toMatchObject({ enum: ["jsonl", "postgres", "warehouse"], "x-enum-labels": choices.map(([, l]) => l) });
    const rows = reviewRows(SALESFORCE, null, { name: "crm", destination: "warehouse" }, choices);
    expect(rows.find((r) => r.label === "Destination")?.text).toBe("warehouse — PostgreSQL");
    expect(destinationText(DESTINATIONS[0] as never)).toBe("jsonl — JSON Lines files (embedded)");
  });

  it("says who loads into a destination", () => {
    expect(usedByText([])).toBe("No integration");
    expect(usedByText(["crm", "shop"])).toBe("crm, shop");
  });
});

describe("messages at a field", () => {
  it("shows the server's at once, the checks' once a field was changed or left", () => {
    const order = ["name", "config.host", "config.streams"];
    const client = { name: "Required.", "config.host": "Required.", "config.streams.0.path": "Required." };
    expect(fieldMessages(order, client, {}, () => false)).toEqual({});
    expect(fieldMessages(order, client, { "config.host": "Unknown host." }, (key) => key === "name")).toEqual({ name: "Required.", "config.host": "Unknown host." });
    expect(fieldMessages(order, client, {}, (key) => key.startsWith("config.streams"))).toEqual({ "config.streams.0.path": "Required." });
  });
});
