// The wizard's steps and form widgets in jsdom, against a stand-in for the config API
// (fetch answers as the API would); the page's own code runs unmodified.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ConfirmProvider } from "@/components/Confirm";
import { ToastProvider } from "@/components/Toasts";
import { Wizard, type WizardOpening } from "@/components/Wizard";
import { rememberToken } from "@/lib/api";

import { type Answers, type Call, DISCOVERED, fakeApi, SALESFORCE, STORED } from "./fixtures";

let calls: Call[] = [];
let answers: Answers = {};

beforeEach(() => {
  rememberToken("test-token-000000");
  ({ calls, answers } = fakeApi());
});

afterEach(() => vi.unstubAllGlobals());

function open(opening: WizardOpening, onClosed = vi.fn(), onSaved = vi.fn()) {
  render(
    <ToastProvider>
      <ConfirmProvider>
        <Wizard opening={opening} connectors={[SALESFORCE]} onClosed={onClosed} onSaved={onSaved} onDirty={() => undefined} />
      </ConfirmProvider>
    </ToastProvider>,
  );
  return { onClosed, onSaved, dialog: screen.getByRole("dialog") };
}

describe("the settings step", () => {
  it("generates the form from the schema: required first, secrets write-only, advanced collapsed", () => {
    const { dialog } = open({ mode: "create", connector: SALESFORCE });
    const labels = [...dialog.querySelectorAll("#wizard-form label")].map((l) => l.textContent?.replace(/ \*$/, ""));
    expect(labels.slice(0, 4)).toEqual(["Integration name", "Client ID", "Client Secret", "Instance URL"]);
    const secret = within(dialog).getByLabelText(/Client Secret/) as HTMLInputElement;
    expect(secret.type).toBe("password");
    expect(secret.autocomplete).toBe("new-password");
    expect(dialog.querySelector("details.advanced")?.hasAttribute("open")).toBe(false);
    expect(within(dialog).getByLabelText("API type").closest("details")).not.toBeNull();
  });

  it("checks as you type, and every field on Next", async () => {
    const user = userEvent.setup();
    const { dialog } = open({ mode: "create", connector: SALESFORCE });
    await user.click(within(dialog).getByText("Advanced options"));
    const lookback = within(dialog).getByLabelText("Lookback window (seconds)");
    await user.type(lookback, "abc");
    expect(dialog.querySelector("#field-config-lookback_window-error")?.textContent).toBe("Enter a whole number.");
    expect(lookback.getAttribute("aria-invalid")).toBe("true");
    await user.clear(lookback);
    expect(dialog.querySelector("#field-config-lookback_window-error")?.hasAttribute("hidden")).toBe(true);
    // Untouched required fields say nothing until Next.
    expect(dialog.querySelector("#field-config-client_id-error")?.hasAttribute("hidden")).toBe(true);
    await user.click(within(dialog).getByRole("button", { name: "Next" }));
    expect(dialog.querySelector("#field-config-client_id-error")?.textContent).toBe("Required.");
    expect(dialog.querySelector("#wizard-form-summary")?.textContent).toContain("Fix the highlighted fields");
    expect(document.activeElement?.id).toBe("field-name");
  });

  it("on edit: the name is fixed, a set secret says so and is not required", () => {
    const { dialog } = open({ mode: "edit", integration: STORED, etag: 'W/"3"', connector: SALESFORCE, field: "client_secret" });
    expect((within(dialog).getByLabelText(/Integration name/) as HTMLInputElement).disabled).toBe(true);
    const secret = within(dialog).getByLabelText(/Client Secret/) as HTMLInputElement;
    expect(secret.value).toBe("");
    expect(secret.getAttribute("aria-required")).toBeNull();
    expect(dialog.querySelector("#field-config-client_secret-hint")?.textContent).toBe("Set — leave blank to keep the stored value.");
    expect(dialog.querySelector('[data-field="config.client_secret"]')?.className).toContain("attention");
  });
});

describe("testing and saving", () => {
  it("tests the typed settings, shows the typed reason, and saves only what changed", async () => {
    const user = userEvent.setup();
    answers["POST /api/v1/integrations/crm/test"] = () => [200, {
      ok: false, reason: "authentication", message: "Salesforce refused the refresh token.", hint: "Generate a new one.", duration_s: 0.5, details: {},
    }];
    answers["PATCH /api/v1/integrations/crm"] = (body) => [200, { integration: { ...STORED, ...(body as object) }, definitions: "reloaded" }];
    const { dialog, onSaved } = open({ mode: "edit", integration: STORED, etag: 'W/"3"', connector: SALESFORCE, field: null });
    await user.type(within(dialog).getByLabelText(/Client Secret/), "a-new-secret-value");
    await user.click(within(dialog).getByRole("button", { name: "Next" }));
    await user.click(within(dialog).getByRole("button", { name: "Test connection" }));
    const result = await waitFor(() => {
      const node = dialog.querySelector("#test-result .result");
      expect(node).not.toBeNull();
      return node as HTMLElement;
    });
    expect(result.dataset.reason).toBe("authentication");
    expect(result.textContent).toContain("Connection failed — reason: authentication");
    expect(calls.at(-1)?.body).toEqual({ config: { client_secret: "a-new-secret-value" } });
    // The streams step lists the stored discovery.
    answers["GET /api/v1/integrations/crm/discovery"] = () => [200, { discovered_at: "2026-12-01T00:00:00Z", duration_s: 1, stream_count: 2, streams: DISCOVERED }];
    await user.click(within(dialog).getByRole("button", { name: "Next: streams" }));
    await waitFor(() => expect(dialog.querySelector("#discovery-status")?.textContent).toContain("2 streams found"));
    expect((within(dialog).getByRole("checkbox", { name: "Account" }) as HTMLInputElement).checked).toBe(true);
    expect((within(dialog).getByRole("checkbox", { name: "Lead" }) as HTMLInputElement).checked).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Next: review" }));
    const review = dialog.querySelector("#wizard-review") as HTMLElement;
    expect(review.textContent).toContain("Client Secretset");
    expect(review.textContent).not.toContain("a-new-secret-value");
    expect(dialog.querySelector("#wizard-save-error")?.textContent).toContain("The connection test failed");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith("crm"));
    const patch = calls.find((c) => c.method === "PATCH");
    expect(patch?.body).toEqual({ config: { client_secret: "a-new-secret-value" } });
  });

  it("shows the server's field errors at their field, opening the advanced options", async () => {
    const user = userEvent.setup();
    answers["POST /api/v1/integrations"] = () => [422, {
      error: "ValidationError", detail: "Invalid", field_errors: { schedule: "not a valid cron expression (e.g. '0 * * * *')" },
    }];
    const { dialog } = open({ mode: "create", connector: SALESFORCE });
    await user.type(within(dialog).getByLabelText(/Integration name/), "crm");
    await user.type(within(dialog).getByLabelText(/Client ID/), "cid");
    await user.type(within(dialog).getByLabelText(/Client Secret/), "secret-value-1");
    // Enter in the form (its submit) goes on, as the Next button does.
    fireEvent.submit(dialog.querySelector("#wizard-form") as HTMLFormElement);
    await waitFor(() => expect(dialog.querySelector('[aria-current="step"]')?.textContent).toContain("Test connection"));
    // Discovery fails (this stand-in has no such route): the connector's own list is offered.
    await user.click(within(dialog).getByRole("button", { name: "Next: streams" }));
    await waitFor(() => expect(dialog.querySelector("#discovery-status")?.textContent).toContain("could not be read"));
    expect(within(dialog).getByRole("checkbox", { name: "Account" })).toBeTruthy();
    await user.click(within(dialog).getByRole("button", { name: "Next: review" }));
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(dialog.querySelector("#field-schedule-error")?.textContent).toBe("Not a valid cron expression (e.g. '0 * * * *')."));
    expect(dialog.querySelector("#field-schedule")?.closest("details")?.hasAttribute("open")).toBe(true);
    expect(dialog.querySelector('[aria-current="step"]')?.textContent).toContain("Streams");
    expect(dialog.querySelector("#wizard-form-summary")?.textContent).toBe("The server refused a setting: Schedule.");
    await waitFor(() => expect(document.activeElement?.id).toBe("field-schedule"));
  });

  it("asks before discarding edits", async () => {
    const user = userEvent.setup();
    const { dialog, onClosed } = open({ mode: "create", connector: SALESFORCE });
    await user.type(within(dialog).getByLabelText(/Integration name/), "half");
    await user.keyboard("{Escape}");
    const confirm = await screen.findByRole("alertdialog", { name: "Discard your changes?" });
    expect(document.activeElement?.textContent).toBe("Keep editing");
    await user.click(within(confirm).getByRole("button", { name: "Discard changes" }));
    await waitFor(() => expect(onClosed).toHaveBeenCalled());
  });
});
