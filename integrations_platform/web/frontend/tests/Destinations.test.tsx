// The destination form, the destinations view and the wizard's "Configure a new
// destination…" in jsdom, against a stand-in for the config API.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ConfirmProvider } from "@/components/Confirm";
import { DestinationDialog, type DestinationOpening } from "@/components/DestinationDialog";
import { DestinationsView } from "@/components/DestinationsView";
import { ToastProvider } from "@/components/Toasts";
import { Wizard } from "@/components/Wizard";
import { rememberToken } from "@/lib/api";
import type { DestinationConnectorDetail, DestinationConnectorSummary } from "@/lib/types";

import {
  type Answers,
  type Call,
  DESTINATIONS,
  fakeApi,
  JSONL_DESTINATION,
  POSTGRES_DESTINATION,
  SALESFORCE,
  STORED,
  WAREHOUSE,
} from "./fixtures";

let calls: Call[] = [];
let answers: Answers = {};

/** A connector as the list answers it: without its form. */
const summary = (detail: DestinationConnectorDetail): DestinationConnectorSummary => {
  const { form_schema: form, ...rest } = detail;
  void form;
  return rest;
};
const PG_SUMMARY = summary(POSTGRES_DESTINATION);
const JSONL_SUMMARY = summary(JSONL_DESTINATION);
const CANARY = "canary-destination-password";

beforeEach(() => {
  rememberToken("test-token-000000");
  ({ calls, answers } = fakeApi());
  answers["GET /api/v1/destination-connectors"] = () => [200, [JSONL_SUMMARY, PG_SUMMARY]];
  answers["GET /api/v1/destination-connectors/postgres"] = () => [200, POSTGRES_DESTINATION];
  answers["GET /api/v1/destinations"] = () => [200, DESTINATIONS];
  answers["POST /api/v1/destinations"] = (body) => {
    const { name, connector } = body as { name: string; connector: string };
    return [201, { name, connector, label: "PostgreSQL", built_in: false, used_by: [], config: {}, secrets: { password: "set" }, version: 1, note: "" }];
  };
});

afterEach(() => vi.unstubAllGlobals());

function wrap(node: React.ReactNode) {
  return render(<ToastProvider><ConfirmProvider>{node}</ConfirmProvider></ToastProvider>);
}

function openDialog(opening: DestinationOpening) {
  const onSaved = vi.fn();
  const onClosed = vi.fn();
  wrap(<DestinationDialog opening={opening} onSaved={onSaved} onClosed={onClosed} />);
  return { onSaved, onClosed, dialog: screen.getByRole("dialog") };
}

/** Choose PostgreSQL, go on, and fill in a new destination's settings. */
async function fillNewPostgres(user: ReturnType<typeof userEvent.setup>, dialog: HTMLElement, name: string) {
  const choice = await within(dialog).findByRole("radio", { name: /PostgreSQL/ });
  await user.click(choice);
  await user.click(within(dialog).getByRole("button", { name: "Next" }));
  const nameField = await within(dialog).findByLabelText(/Destination name/);
  await user.type(nameField, name);
  await user.type(within(dialog).getByLabelText(/^Host/), "127.0.0.1");
  await user.type(within(dialog).getByLabelText(/^User/), "postgres");
  await user.type(within(dialog).getByLabelText(/^Password/), CANARY);
  await user.type(within(dialog).getByLabelText(/^Database/), "analytics");
}

describe("the destination form", () => {
  it("configures a new destination: a connector with its tier, its settings, a test, a save", async () => {
    const user = userEvent.setup();
    answers["POST /api/v1/destination-connectors/postgres/test"] = () => [200, {
      ok: true, reason: "ok", message: "Logged in as postgres to analytics; may create schemas.", hint: "", duration_s: 0.01, details: {},
    }];
    const { dialog, onSaved, onClosed } = openDialog({ mode: "create" });
    expect(within(dialog).getByRole("heading", { name: "Configure a destination" })).toBeTruthy();
    const tiers = await waitFor(() => {
      const found = [...dialog.querySelectorAll("[data-tier]")].map((n) => n.textContent);
      expect(found).toHaveLength(2);
      return found;
    });
    expect(tiers).toEqual(["Community", "Verified"]);
    // Nothing chosen: Next says so.
    await user.click(within(dialog).getByRole("button", { name: "Next" }));
    expect(dialog.querySelector("#destination-connector-error")?.textContent).toBe("Choose a destination connector.");
    await fillNewPostgres(user, dialog, "dwh");
    expect(within(dialog).getByRole("heading", { name: "Configure a PostgreSQL destination" })).toBeTruthy();
    // The fields have their own ids (the wizard's form may be on the page too).
    expect(dialog.querySelector("#destination-form #dest-config-host")).not.toBeNull();
    expect((within(dialog).getByLabelText(/^Password/) as HTMLInputElement).type).toBe("password");
    expect(within(dialog).getByLabelText("Load with COPY").closest("details")).not.toBeNull();

    await user.click(within(dialog).getByRole("button", { name: "Test connection" }));
    await waitFor(() => expect(dialog.querySelector("#destination-test-result .result")?.getAttribute("data-ok")).toBe("true"));
    expect(dialog.querySelector("#destination-test-result")?.textContent).toContain("Connection works");
    const test = calls.find((c) => c.method === "POST" && c.url.endsWith("/test"));
    expect(test).toEqual({
      method: "POST",
      url: "/api/v1/destination-connectors/postgres/test",
      body: { config: { host: "127.0.0.1", user: "postgres", password: CANARY, database: "analytics" } },
    });

    await user.click(within(dialog).getByRole("button", { name: "Save destination" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledTimes(1));
    expect(onSaved.mock.calls[0]?.[0]).toMatchObject({ name: "dwh", connector: "postgres" });
    expect(onClosed).toHaveBeenCalled();
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/v1/destinations")?.body).toEqual({
      name: "dwh", connector: "postgres", config: { host: "127.0.0.1", user: "postgres", password: CANARY, database: "analytics" },
    });
  });

  it("checks the fields before a test, and shows a failed test's reason and hint", async () => {
    const user = userEvent.setup();
    answers["POST /api/v1/destination-connectors/postgres/test"] = () => [200, {
      ok: false, reason: "authentication", message: "password authentication failed for user \"postgres\"", hint: "Check the user and password.", duration_s: 0.02, details: {},
    }];
    const { dialog } = openDialog({ mode: "create" });
    await user.click(await within(dialog).findByRole("radio", { name: /PostgreSQL/ }));
    await user.click(within(dialog).getByRole("button", { name: "Next" }));
    await within(dialog).findByLabelText(/Destination name/);
    await user.type(within(dialog).getByLabelText(/^Password/), "short");
    await user.click(within(dialog).getByRole("button", { name: "Test connection" }));
    expect(dialog.querySelector("#dest-config-password-error")?.textContent).toBe("Enter at least 8 characters.");
    expect(dialog.querySelector("#dest-config-host-error")?.textContent).toBe("Required.");
    // The name is not needed for a test.
    expect(dialog.querySelector("#destination-form-summary")?.textContent).toBe("Fix the highlighted fields: Host, User, Password, Database.");
    expect(calls.some((c) => c.url.endsWith("/test"))).toBe(false);
    await waitFor(() => expect(document.activeElement?.id).toBe("dest-config-host"));

    await user.type(within(dialog).getByLabelText(/^Host/), "127.0.0.1");
    await user.type(within(dialog).getByLabelText(/^User/), "postgres");
    await user.type(within(dialog).getByLabelText(/^Password/), "-and-more");
    await user.type(within(dialog).getByLabelText(/^Database/), "analytics");
    await user.click(within(dialog).getByRole("button", { name: "Test connection" }));
    const result = await waitFor(() => {
      const node = dialog.querySelector("#destination-test-result .result");
      expect(node).not.toBeNull();
      return node as HTMLElement;
    });
    expect(result.dataset.reason).toBe("authentication");
    expect(result.textContent).toContain("Connection failed — reason: authentication");
    expect(result.textContent).toContain("Check the user and password.");
  });

  it("places the server's refusal of a save at its field", async () => {
    const user = userEvent.setup();
    answers["POST /api/v1/destinations"] = () => [409, { error: "DestinationExistsError", detail: "A destination named 'dwh' already exists" }];
    const { dialog, onSaved } = openDialog({ mode: "create" });
    await fillNewPostgres(user, dialog, "dwh");
    await user.click(within(dialog).getByRole("button", { name: "Save destination" }));
    await waitFor(() => expect(dialog.querySelector("#dest-name-error")?.textContent).toBe("A destination named 'dwh' already exists: choose another name."));
    expect(dialog.querySelector("#destination-form-summary")?.textContent).toBe("The server refused a setting: Destination name.");
    expect(onSaved).not.toHaveBeenCalled();
  });

  it("edits a destination: the name fixed, the secret write-only, only changes sent", async () => {
    const user = userEvent.setup();
    answers["GET /api/v1/destinations/warehouse"] = () => [200, WAREHOUSE];
    answers["PATCH /api/v1/destinations/warehouse"] = () => [200, { ...WAREHOUSE, version: 3 }];
    const { dialog, onSaved } = openDialog({ mode: "edit", name: "warehouse" });
    const host = await within(dialog).findByLabelText(/^Host/) as HTMLInputElement;
    expect(host.value).toBe("db.internal");
    expect((within(dialog).getByLabelText(/Destination name/) as HTMLInputElement).disabled).toBe(true);
    const password = within(dialog).getByLabelText(/^Password/) as HTMLInputElement;
    expect(password.value).toBe("");
    expect(password.getAttribute("aria-required")).toBeNull();
    expect(dialog.querySelector("#dest-config-password-hint")?.textContent).toBe("Set — leave blank to keep the stored value.");
    expect(dialog.querySelector("#destination-back")?.hasAttribute("hidden")).toBe(true);
    await user.clear(host);
    await user.type(host, "db2.internal");
    await user.click(within(dialog).getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledTimes(1));
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ config: { host: "db2.internal" }, version: 2 });
  });
});

describe("the destinations view", () => {
  it("a viewer sees every destination, its connector, users and note, and no control", async () => {
    wrap(<DestinationsView canChange={false} />);
    const table = await screen.findByRole("table");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.getAttribute("data-destination"))).toEqual(["jsonl", "postgres", "warehouse"]);
    expect(rows[0]?.textContent).toContain("Embedded: JSON Lines files");
    expect(rows[0]?.textContent).toContain("crm");
    expect(rows[2]?.querySelector("img")?.getAttribute("src")).toBe("/api/v1/destination-connectors/postgres/logo");
    expect(screen.queryAllByRole("button")).toEqual([]);
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Destination", "Kind", "Used by", "About"]);
  });

  it("an editor tests, and is told why a destination in use cannot be removed", async () => {
    const user = userEvent.setup();
    answers["POST /api/v1/destinations/postgres/test"] = () => [200, {
      ok: false, reason: "configuration", message: "The postgres destination needs INTEGRATIONS_WAREHOUSE_URL", hint: "Set it where syncs run.", duration_s: 0, details: {},
    }];
    answers["DELETE /api/v1/destinations/warehouse"] = () => [409, {
      error: "DestinationInUseError", detail: "Destination 'warehouse' is in use by shop", instruction: "Move those integrations to another destination first",
    }];
    wrap(<DestinationsView canChange />);
    const table = await screen.findByRole("table");
    expect(screen.getByRole("button", { name: "Add a destination" })).toBeTruthy();
    const builtIn = within(table).getAllByRole("row")[2] as HTMLElement;
    expect(within(builtIn).queryByRole("button", { name: /^Edit/ })).toBeNull();
    expect(within(builtIn).queryByRole("button", { name: /^Remove/ })).toBeNull();
    await user.click(within(builtIn).getByRole("button", { name: /^Test/ }));
    const test = await waitFor(() => {
      const node = document.querySelector("#destination-test .result");
      expect(node).not.toBeNull();
      return node as HTMLElement;
    });
    expect(test.textContent).toContain("needs INTEGRATIONS_WAREHOUSE_URL");
    // A built-in one has no settings to change.
    expect(within(test).queryByRole("button")).toBeNull();

    const configured = within(table).getAllByRole("row")[3] as HTMLElement;
    await user.click(within(configured).getByRole("button", { name: /^Remove/ }));
    await user.click(await screen.findByRole("button", { name: "Remove warehouse" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe(
      "Destination 'warehouse' is in use by shop. Move those integrations to another destination first.",
    ));
  });
});

describe("the wizard's destination field", () => {
  it("lists the destinations, and selects one configured from the wizard", async () => {
    const user = userEvent.setup();
    render(
      <ToastProvider>
        <ConfirmProvider>
          <Wizard opening={{ mode: "edit", integration: STORED, etag: 'W/"3"', connector: SALESFORCE, field: null }}
            connectors={[SALESFORCE]} onClosed={vi.fn()} onSaved={vi.fn()} onDirty={() => undefined} />
        </ConfirmProvider>
      </ToastProvider>,
    );
    const wizard = screen.getByRole("dialog");
    const select = wizard.querySelector("#field-destination") as HTMLSelectElement;
    await waitFor(() => expect([...select.options].map((o) => o.textContent)).toEqual([
      "jsonl — JSON Lines files (embedded)", "postgres — PostgreSQL", "warehouse — PostgreSQL",
    ]));
    expect(select.value).toBe("jsonl");
    fireEvent.click(wizard.querySelector("#wizard-new-destination") as HTMLElement);
    const dialog = await screen.findByRole("dialog", { name: "Configure a destination" });
    await fillNewPostgres(user, dialog, "dwh");
    await user.click(within(dialog).getByRole("button", { name: "Save destination" }));
    await waitFor(() => expect(screen.queryByRole("dialog", { name: /destination/ })).toBeNull());
    await waitFor(() => expect((wizard.querySelector("#field-destination") as HTMLSelectElement).value).toBe("dwh"));
    expect([...(wizard.querySelector("#field-destination") as HTMLSelectElement).options].at(-1)?.textContent).toBe("dwh — PostgreSQL");
    expect(document.body.textContent).not.toContain(CANARY);
  });
});
