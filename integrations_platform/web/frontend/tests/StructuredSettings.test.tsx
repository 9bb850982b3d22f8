// Settings that are objects, lists of objects, free-form objects and files, in the
// wizard's settings form (jsdom, against a stand-in for the config API).

import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ConfirmProvider } from "@/components/Confirm";
import { ToastProvider } from "@/components/Toasts";
import { Wizard, type WizardOpening } from "@/components/Wizard";
import { rememberToken } from "@/lib/api";
import { configToSend, describeServerMessage, fieldMessage, initialValues, reviewRows, schemaAt, updateBody, valuesToCheck, wizardSchema } from "@/lib/settings";
import type { JsonValue } from "@/lib/types";
import { validator } from "@/lib/validator";

import { type Answers, type Call, fakeApi, REST_API, REST_STORED } from "./fixtures";

let calls: Call[] = [];
let answers: Answers = {};
const PASSED = { ok: true, reason: "ok", message: "Connected.", hint: null, duration_s: 0.2, details: {} };

beforeEach(() => {
  rememberToken("test-token-000000");
  ({ calls, answers } = fakeApi());
});

afterEach(() => vi.unstubAllGlobals());

function open(opening: WizardOpening) {
  render(
    <ToastProvider>
      <ConfirmProvider>
        <Wizard opening={opening} connectors={[REST_API]} onClosed={vi.fn()} onSaved={vi.fn()} onDirty={() => undefined} />
      </ConfirmProvider>
    </ToastProvider>,
  );
  return screen.getByRole("dialog");
}

const CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n";

describe("structured settings in the form", () => {
  it("renders a list of objects, groups, a choice, JSON text and a file upload", () => {
    const dialog = open({ mode: "create", connector: REST_API });
    const streams = within(dialog).getByRole("group", { name: "Streams" });
    expect(within(streams).getByText("No items yet.")).toBeTruthy();
    expect(within(streams).getByRole("button", { name: "Add an item to Streams" })).toBeTruthy();
    const auth = within(dialog).getByLabelText("Authentication") as HTMLSelectElement;
    expect(auth.tagName).toBe("SELECT");
    expect([...auth.options].map((o) => o.value)).toEqual(["", "no_auth", "api_key", "basic"]);
    expect(auth.value).toBe("no_auth");
    const tunnel = within(dialog).getByRole("group", { name: "SSH tunnel" });
    expect((within(tunnel).getByLabelText(/Host/) as HTMLInputElement).type).toBe("text");
    const key = within(tunnel).getByLabelText(/Private key/) as HTMLInputElement;
    expect(key.type).toBe("password");
    expect(key.autocomplete).toBe("new-password");
    expect(within(dialog).getByLabelText("API keys").tagName).toBe("TEXTAREA");
    expect(within(dialog).getByLabelText("Client certificate").tagName).toBe("TEXTAREA");
    expect((within(dialog).getByLabelText("Upload a file for Client certificate") as HTMLInputElement).type).toBe("file");
    expect(within(dialog).getByRole("button", { name: "Upload a file" })).toBeTruthy();
  });

  it("adds and removes stream items, each with its own fields and messages", async () => {
    const user = userEvent.setup();
    const dialog = open({ mode: "create", connector: REST_API });
    const add = within(dialog).getByRole("button", { name: "Add an item to Streams" });
    await user.click(add);
    await user.click(add);
    const first = within(dialog).getByRole("group", { name: "Streams item 1" });
    const second = within(dialog).getByRole("group", { name: "Streams item 2" });
    await user.type(within(first).getByLabelText(/Name/), "users");
    await user.type(within(second).getByLabelText(/Name/), "orders");
    await user.type(within(second).getByLabelText(/Path/), "/orders");
    await user.type(within(second).getByLabelText(/Primary keys/), "id");
    // Item 1 has no path: said at that field after Next.
    await user.click(within(dialog).getByRole("button", { name: "Next" }));
    expect(dialog.querySelector("#field-config-streams-0-path-error")?.textContent).toBe("Required.");
    expect(dialog.querySelector("#field-config-streams-1-path-error")?.hasAttribute("hidden")).toBe(true);
    expect(dialog.querySelector("#wizard-form-summary")?.textContent).toContain("Streams");
    await user.click(within(dialog).getByRole("button", { name: "Remove item 1 of Streams" }));
    expect(within(dialog).queryByRole("group", { name: "Streams item 2" })).toBeNull();
    const left = within(dialog).getByRole("group", { name: "Streams item 1" });
    expect((within(left).getByLabelText(/Name/) as HTMLInputElement).value).toBe("orders");
    expect((within(left).getByLabelText(/Path/) as HTMLInputElement).value).toBe("/orders");
    expect(dialog.querySelector("#field-config-streams-0-path-error")?.hasAttribute("hidden")).toBe(true);
  });

  it("says what to enter when the JSON text is not an object", async () => {
    const user = userEvent.setup();
    const dialog = open({ mode: "create", connector: REST_API });
    const keys = within(dialog).getByLabelText("API keys");
    await user.click(keys);
    await user.paste('{"X-Api-Key": ');
    const error = dialog.querySelector("#field-config-api_keys-error") as HTMLElement;
    expect(error.textContent).toBe('Enter a JSON object, e.g. {"X-Api-Key": "…"}.');
    expect(keys.getAttribute("aria-invalid")).toBe("true");
    expect(keys.getAttribute("aria-describedby")).toContain("field-config-api_keys-error");
    await user.paste('"k-123456789"}');
    expect(error.hasAttribute("hidden")).toBe(true);
    await user.clear(keys);
    await user.paste('["not", "an object"]');
    expect(error.textContent).toBe('Enter a JSON object, e.g. {"X-Api-Key": "…"}.');
  });

  it("reads an uploaded file's text into the setting, and refuses one over 16 KiB", async () => {
    const user = userEvent.setup();
    const dialog = open({ mode: "create", connector: REST_API });
    const upload = within(dialog).getByLabelText("Upload a file for Client certificate") as HTMLInputElement;
    const text = within(dialog).getByLabelText("Client certificate") as HTMLTextAreaElement;
    await user.upload(upload, new File([CERTIFICATE], "client.pem", { type: "application/x-pem-file" }));
    await waitFor(() => expect(text.value).toBe(CERTIFICATE));
    expect(dialog.textContent).toContain(`Read client.pem (${CERTIFICATE.length} bytes).`);
    await user.upload(upload, new File(["x".repeat(16 * 1024 + 1)], "big.pem"));
    const refusal = await waitFor(() => dialog.querySelector("#field-config-client_certificate-file-error") as HTMLElement);
    expect(refusal.getAttribute("role")).toBe("alert");
    expect(refusal.textContent).toBe("big.pem is too large (16,385 bytes): the largest file accepted is 16 KiB (16,384 bytes).");
    // The text read before stays.
    expect(text.value).toBe(CERTIFICATE);
  });

  it("sends objects and lists as JSON, not text, to the connection test", async () => {
    const user = userEvent.setup();
    answers["POST /api/v1/connectors/rest_api/test"] = () => [200, PASSED];
    const dialog = open({ mode: "create", connector: REST_API });
    await user.type(within(dialog).getByLabelText(/Integration name/), "orders_api");
    await user.type(within(dialog).getByLabelText(/API URL/), "https://api.example.com");
    await user.click(within(dialog).getByRole("button", { name: "Add an item to Streams" }));
    const item = within(dialog).getByRole("group", { name: "Streams item 1" });
    await user.type(within(item).getByLabelText(/Name/), "orders");
    await user.type(within(item).getByLabelText(/Path/), "/orders");
    await user.type(within(item).getByLabelText(/Primary keys/), "id{Enter}tenant");
    const tunnel = within(dialog).getByRole("group", { name: "SSH tunnel" });
    await user.type(within(tunnel).getByLabelText(/Host/), "bastion.example.com");
    await user.type(within(tunnel).getByLabelText(/Port/), "2222");
    await user.type(within(tunnel).getByLabelText(/Private key/), "ssh-ed25519-private");
    await user.click(within(dialog).getByLabelText("API keys"));
    await user.paste('{"X-Api-Key": "k-123456789"}');
    await user.selectOptions(within(dialog).getByLabelText("Authentication"), "api_key");
    await user.upload(within(dialog).getByLabelText("Upload a file for Client certificate"), new File([CERTIFICATE], "client.pem"));
    await waitFor(() => expect((within(dialog).getByLabelText("Client certificate") as HTMLTextAreaElement).value).toBe(CERTIFICATE));
    await user.click(within(dialog).getByRole("button", { name: "Next" }));
    expect(dialog.querySelector('[aria-current="step"]')?.textContent).toContain("Test connection");
    await user.click(within(dialog).getByRole("button", { name: "Test connection" }));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/v1/connectors/rest_api/test")).toBe(true));
    expect(calls.find((c) => c.url === "/api/v1/connectors/rest_api/test")?.body).toEqual({
      config: {
        api_url: "https://api.example.com",
        streams: [{ name: "orders", path: "/orders", primary_keys: ["id", "tenant"] }],
        auth_method: "api_key",
        ssh_tunnel: { host: "bastion.example.com", port: 2222, private_key: "ssh-ed25519-private" },
        api_keys: { "X-Api-Key": "k-123456789" },
        client_certificate: CERTIFICATE,
      },
    });
  });

  it("on edit: set secrets say so, are not required, and are left out when untouched", async () => {
    const user = userEvent.setup();
    answers["POST /api/v1/integrations/orders_api/test"] = () => [200, PASSED];
    const dialog = open({ mode: "edit", integration: REST_STORED, etag: 'W/"2"', connector: REST_API, field: null });
    const tunnel = within(dialog).getByRole("group", { name: "SSH tunnel" });
    expect(dialog.querySelector("#field-config-ssh_tunnel-hint")?.textContent).toBe("Set — leave blank to keep the stored value.");
    expect(tunnel.getAttribute("aria-describedby")).toContain("field-config-ssh_tunnel-hint");
    expect((within(tunnel).getByLabelText(/Host/) as HTMLInputElement).value).toBe("");
    expect((within(tunnel).getByLabelText(/Private key/) as HTMLInputElement).value).toBe("");
    expect(dialog.querySelector("#field-config-api_keys-hint")?.textContent).toBe("Set — leave blank to keep the stored value.");
    expect((within(dialog).getByLabelText("API keys") as HTMLTextAreaElement).value).toBe("");
    expect(dialog.querySelector("#field-config-client_certificate-hint")?.textContent).toBe("Set — leave blank to keep the stored value.");
    expect((within(dialog).getByLabelText("Client certificate") as HTMLTextAreaElement).value).toBe("");
    // The stored list, as stored.
    const item = within(dialog).getByRole("group", { name: "Streams item 1" });
    expect((within(item).getByLabelText(/Path/) as HTMLInputElement).value).toBe("/orders");
    expect((within(item).getByLabelText(/Primary keys/) as HTMLTextAreaElement).value).toBe("id");
    await user.type(within(item).getByLabelText(/Path/), "/v2");
    await user.click(within(dialog).getByRole("button", { name: "Next" }));
    expect(dialog.querySelector('[aria-current="step"]')?.textContent).toContain("Test connection");
    await user.click(within(dialog).getByRole("button", { name: "Test connection" }));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/v1/integrations/orders_api/test")).toBe(true));
    expect(calls.find((c) => c.url === "/api/v1/integrations/orders_api/test")?.body).toEqual({
      config: { streams: [{ name: "orders", path: "/orders/v2", primary_keys: ["id"] }] },
    });
  });

  it("shows the server's message about a place inside a setting at that setting", async () => {
    const user = userEvent.setup();
    answers["POST /api/v1/integrations/orders_api/test"] = () => [422, {
      error: "ConfigurationError", detail: "Invalid settings", field_errors: { streams: "[0]: missing path", ssh_tunnel: "port: expected type integer" },
    }];
    const dialog = open({ mode: "edit", integration: REST_STORED, etag: 'W/"2"', connector: REST_API, field: null });
    await user.click(within(dialog).getByRole("button", { name: "Next" }));
    await user.click(within(dialog).getByRole("button", { name: "Test connection" }));
    await waitFor(() => expect(dialog.querySelector("#field-config-streams-error")?.textContent).toBe("Item 1: missing path."));
    expect(dialog.querySelector("#field-config-ssh_tunnel-error")?.textContent).toBe("Port: expected type integer.");
    // The test step lists them; its button goes back to the first, highlighted.
    await user.click(within(dialog).getByRole("button", { name: "Fix the settings" }));
    const tunnel = within(dialog).getByRole("group", { name: "SSH tunnel" });
    expect(tunnel.getAttribute("aria-invalid")).toBe("true");
    await waitFor(() => expect(document.activeElement?.getAttribute("data-key")).toBe("config.streams"));
  });
});

describe("structured settings as data", () => {
  it("an untouched secret object keeps the stored one; a typed one replaces it", () => {
    const values = initialValues(REST_API, REST_STORED);
    expect(values.config).toEqual({ api_url: "https://api.example.com", streams: [{ name: "orders", path: "/orders", primary_keys: ["id"] }], auth_method: "api_key" });
    // rjsf keeps a cleared field as undefined: the group says nothing, so nothing is sent.
    const cleared = { host: undefined, private_key: undefined } as unknown as JsonValue;
    expect(updateBody(REST_API, REST_STORED, { ...values, config: { ...values.config, ssh_tunnel: cleared } })).toEqual({});
    const typed = { ...values.config, ssh_tunnel: { host: "h.example.com", private_key: "key-material" } };
    expect(configToSend(REST_API, REST_STORED, { ...values, config: typed })).toEqual({ ssh_tunnel: { host: "h.example.com", private_key: "key-material" } });
    expect(configToSend(REST_API, REST_STORED, { ...values, config: { ...values.config, streams: [] } })).toEqual({ streams: null });
  });

  it("checks nested fields against the schema, with x- keywords and writeOnly", () => {
    const schema = wizardSchema(REST_API, null);
    const values = {
      name: "orders_api",
      config: { api_url: "https://api.example.com", streams: [{ name: "orders" }], ssh_tunnel: { host: "h", port: "22x" }, api_keys: "{" },
      streams: [{ name: "orders" }],
      schedule: "0 * * * *",
      destination: "jsonl",
    };
    const found = Object.fromEntries(validator.validateFormData(valuesToCheck(values as never), schema as never).errors.map((error) => {
      const key = (error.property || "").replace(/^\./, "");
      return [key, fieldMessage(error, schemaAt(schema, key))];
    }));
    expect(found).toEqual({
      "config.streams.0.path": "Required.",
      "config.ssh_tunnel.port": "Enter a whole number.",
      "config.ssh_tunnel.private_key": "Required.",
      "config.api_keys": 'Enter a JSON object, e.g. {"X-Api-Key": "…"}.',
    });
    // An optional object left blank is not given (and a stored secret one is kept).
    const blank = { ...values, config: { api_url: "https://api.example.com", streams: [{ name: "orders", path: "/o" }], ssh_tunnel: {} } };
    expect(validator.validateFormData(valuesToCheck(blank as never), schema as never).errors).toEqual([]);
  });

  it("reviews lists of objects by name, and secrets only as set", () => {
    const rows = reviewRows(REST_API, REST_STORED, initialValues(REST_API, REST_STORED));
    expect(rows.find((r) => r.label === "Streams")?.text).toBe("1 item: orders");
    expect(rows.find((r) => r.label === "SSH tunnel")).toEqual({ label: "SSH tunnel", text: "set", secret: true });
    expect(rows.find((r) => r.label === "API keys")?.text).toBe("set");
  });

  it("puts the server's place inside a setting in words", () => {
    expect(describeServerMessage("[0]: missing path")).toBe("Item 1: missing path.");
    expect(describeServerMessage("[2].primary_keys: expected type array")).toBe("Item 3, primary_keys: expected type array.");
    expect(describeServerMessage("port: expected type integer")).toBe("Port: expected type integer.");
  });
});
