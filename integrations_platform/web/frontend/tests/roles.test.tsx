// What each role sees: a viewer no control that changes anything (hidden, not disabled),
// an editor every integration control; the sign-in dialog's two ways; the users view's
// one-time link.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ConfirmProvider } from "@/components/Confirm";
import { InstalledList, type RowActions } from "@/components/InstalledList";
import { Marketplace } from "@/components/Marketplace";
import { NotificationBar } from "@/components/NotificationBar";
import { SignInDialog } from "@/components/SignInDialog";
import { ToastProvider } from "@/components/Toasts";
import { UsersView } from "@/components/UsersView";
import { forgetSession, storedToken } from "@/lib/api";
import { allows } from "@/lib/roles";
import type { Integration, Me, Notification, Role } from "@/lib/types";

import { SALESFORCE, STORED } from "./fixtures";

const INTEGRATION: Integration = { ...STORED, links: { dagster: "http://dagster.test/assets/crm" } };
const NOTE: Notification = {
  id: "n1",
  integration: "crm",
  kind: "auth_failed",
  severity: "error",
  title: "crm cannot sign in to Salesforce",
  action: "Re-enter the client secret.",
  count: 1,
  last_seen_at: "2026-01-01T00:00:00Z",
  settings_field: "client_secret",
  settings_url: "/#/integrations/crm?field=client_secret",
  run_url: "http://dagster.test/runs/r1",
};
const ACTIONS: RowActions = { sync: vi.fn(), edit: vi.fn(), setEnabled: vi.fn(), remove: vi.fn(), runs: vi.fn() };
const CHANGES = /^(Sync now|Edit|Disable|Enable|Delete|Dismiss|Re-enter|Open settings|Review|Add)\b/;

function page(role: Role) {
  const canChange = allows(role, "change");
  render(
    <>
      <NotificationBar items={[NOTE]} fieldLabels={new Map([["n1", "Client Secret"]])} known={() => true}
        openSettings={vi.fn()} dismiss={vi.fn()} canChange={canChange} />
      <InstalledList items={[INTEGRATION]} connectors={new Map([[SALESFORCE.id, SALESFORCE]])} selected={new Set()}
        onSelect={vi.fn()} onBulk={vi.fn()} actions={ACTIONS} canChange={canChange} />
      <Marketplace all={[SALESFORCE]} onAdd={canChange ? vi.fn() : null} />
    </>,
  );
}

const buttonNames = () => screen.getAllByRole("button").map((b) => b.textContent || "");

/** An accessible name as a browser computes it ("Runs" + hidden " of crm"): jsdom's
 * computation drops the space before the hidden part, so spaces are optional here. */
const named = (text: string) => new RegExp(`^${text.split(" ").map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s*")}$`);

describe("roles", () => {
  it("allow what the API allows", () => {
    expect(["viewer", "editor", "admin"].map((r) => [allows(r as Role, "read"), allows(r as Role, "change"), allows(r as Role, "administer")]))
      .toEqual([[true, false, false], [true, true, false], [true, true, true]]);
    expect(allows(null, "read")).toBe(false);
  });

  it("a viewer sees runs and links, and no control that changes anything", () => {
    page("viewer");
    expect(buttonNames().filter((name) => CHANGES.test(name))).toEqual([]);
    expect(screen.queryByRole("checkbox")).toBeNull();
    expect(screen.queryByRole("toolbar", { name: "Actions on the selected integrations" })).toBeNull();
    expect(screen.getByRole("button", { name: named("Runs of crm") })).toBeTruthy();
    expect(screen.getByRole("link", { name: named("Open in Dagster (crm)") })).toBeTruthy();
    expect(screen.getByRole("link", { name: named("Open run of crm") })).toBeTruthy();
    // The columns still line up with their headings (no selection column).
    const headings = screen.getAllByRole("columnheader").map((h) => h.textContent);
    expect(headings[0]).toBe("Integration");
    expect(screen.getByRole("row", { name: /crm/ }).children).toHaveLength(headings.length);
  });

  it("an editor sees every control on integrations and notifications", () => {
    page("editor");
    for (const name of ["Sync now crm", "Edit crm", "Disable crm", "Delete crm", "Dismiss: crm cannot sign in to Salesforce",
      "Re-enter Client Secret of crm", "Add Salesforce", "Select crm"]) {
      expect(screen.getByRole(name.startsWith("Select") ? "checkbox" : "button", { name: named(name) })).toBeTruthy();
    }
    expect(screen.getByRole("toolbar", { name: "Actions on the selected integrations" })).toBeTruthy();
  });
});

describe("the sign-in dialog", () => {
  let answers: Record<string, () => [number, unknown, Record<string, string>?]> = {};
  beforeEach(() => {
    answers = {};
    forgetSession();
    vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
      const answer = answers[`${init.method || "GET"} ${url}`];
      const [status, data, headers = {}] = answer ? answer() : [404, {}];
      return new Response(JSON.stringify(data), { status, headers: { "content-type": "application/json", ...headers } });
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("signs in with a name and password, and says how long to wait after too many tries", async () => {
    const user = userEvent.setup();
    const onSignedIn = vi.fn();
    answers["POST /api/v1/auth/login"] = () => [429, { error: "TooManySignIns", detail: "Too many failed sign-ins" }, { "Retry-After": "30" }];
    render(<SignInDialog request={{ mode: "password", message: null }} onSignedIn={onSignedIn} />);
    const dialog = screen.getByRole("dialog", { name: "Sign in" });
    expect(document.activeElement).toBe(within(dialog).getByLabelText("Name"));
    await user.type(within(dialog).getByLabelText("Name"), "ada");
    await user.type(within(dialog).getByLabelText("Password"), "not the right one");
    await user.click(within(dialog).getByRole("button", { name: "Sign in" }));
    expect(await within(dialog).findByText("Too many failed sign-ins. Try again in 30 seconds.")).toBeTruthy();
    expect(onSignedIn).not.toHaveBeenCalled();

    answers["POST /api/v1/auth/login"] = () => [200, { name: "ada", role: "editor", auth: "session", csrf_token: "c", expires_at: null }];
    await user.click(within(dialog).getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(onSignedIn).toHaveBeenCalledTimes(1));
  });

  it("offers an API token instead, kept for the tab once the API accepts it", async () => {
    const user = userEvent.setup();
    const onSignedIn = vi.fn();
    answers["GET /api/v1/me"] = () => [200, { name: "ci", role: "admin", auth: "token", csrf_token: null, expires_at: null }];
    render(<SignInDialog request={{ mode: "password", message: "Your session has ended: sign in again." }} onSignedIn={onSignedIn} />);
    const dialog = screen.getByRole("dialog", { name: "Sign in" });
    expect(within(dialog).getByRole("alert").textContent).toBe("Your session has ended: sign in again.");
    expect(dialog.querySelector("#token-form")?.hasAttribute("hidden")).toBe(true);
    await user.click(within(dialog).getByRole("button", { name: "Use an API token instead" }));
    const field = within(dialog).getByLabelText("API token");
    await waitFor(() => expect(document.activeElement).toBe(field));
    expect(dialog.querySelector("#sign-in-form")?.hasAttribute("hidden")).toBe(true);
    await user.type(field, "good-token");
    await user.click(within(dialog).getByRole("button", { name: "Connect" }));
    await waitFor(() => expect(onSignedIn).toHaveBeenCalledTimes(1));
    expect(storedToken()).toBe("good-token");
  });

  it("opens at the token field when a token was refused", () => {
    render(<SignInDialog request={{ mode: "token", message: "The API refused the token: enter it again." }} onSignedIn={vi.fn()} />);
    const dialog = screen.getByRole("dialog", { name: "Sign in" });
    expect(document.activeElement).toBe(within(dialog).getByLabelText("API token"));
    expect(dialog.querySelector("#token-error")?.textContent).toBe("The API refused the token: enter it again.");
  });
});

describe("the users view", () => {
  const ME: Me = { name: "root", role: "admin", auth: "session", csrf_token: "csrf-9", expires_at: null };
  let users: Array<Record<string, unknown>>;
  let sent: Array<{ method: string; url: string; body: unknown; csrf: string | undefined }>;

  beforeEach(() => {
    users = [
      { name: "root", role: "admin", has_password: true, created_at: "2026-01-01T00:00:00Z", last_sign_in_at: "2026-01-02T00:00:00Z" },
      { name: "bob", role: "viewer", has_password: true, created_at: "2026-01-01T00:00:00Z", last_sign_in_at: null },
    ];
    sent = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
      const method = init.method || "GET";
      const body = init.body ? JSON.parse(String(init.body)) : undefined;
      sent.push({ method, url, body, csrf: (init.headers as Record<string, string>)["X-CSRF-Token"] });
      let answer: [number, unknown] = [404, {}];
      if (method === "GET" && url === "/api/v1/users") answer = [200, users];
      if (method === "POST" && url === "/api/v1/users") {
        const created = { ...body, has_password: false, created_at: "2026-01-03T00:00:00Z", last_sign_in_at: null };
        users = [...users, created];
        answer = [201, { ...created, sign_in_link: "/#sign-in=one-time-token" }];
      }
      if (method === "PATCH" && url === "/api/v1/users/bob") {
        users = users.map((u) => (u.name === "bob" ? { ...u, ...body } : u));
        answer = [200, users.find((u) => u.name === "bob")];
      }
      return new Response(JSON.stringify(answer[1]), { status: answer[0], headers: { "content-type": "application/json" } });
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  function open() {
    render(<ToastProvider><ConfirmProvider><UsersView me={ME} /></ConfirmProvider></ToastProvider>);
  }

  it("lists the users; the admin's own row has no control", async () => {
    open();
    const table = await screen.findByRole("table");
    expect(within(table).getAllByRole("rowheader").map((r) => r.textContent)).toEqual(["bob", "root (you)"]);
    expect(screen.getByLabelText("Role of bob")).toBeTruthy();
    expect(screen.queryByLabelText("Role of root")).toBeNull();
    expect(screen.queryByRole("button", { name: named("Remove root") })).toBeNull();
    expect(screen.getByRole("button", { name: named("Remove bob") })).toBeTruthy();
  });

  it("adds a user without a password and shows the one-time link once, as a full address", async () => {
    const user = userEvent.setup();
    open();
    await screen.findByRole("table");
    await user.type(screen.getByLabelText("Name"), "carol");
    await user.selectOptions(screen.getByLabelText("Role", { exact: true }), "editor");
    await user.click(screen.getByRole("button", { name: "Add user" }));
    const link = await screen.findByLabelText("Sign-in link for carol");
    expect((link as HTMLInputElement).value).toBe(`${window.location.origin}/#sign-in=one-time-token`);
    expect(screen.getByRole("button", { name: "Copy link" })).toBeTruthy();
    expect(sent.find((s) => s.method === "POST")?.body).toEqual({ name: "carol", role: "editor" });
    expect(await screen.findByRole("rowheader", { name: "carol" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.queryByLabelText("Sign-in link for carol")).toBeNull();
  });

  it("refuses a short password before asking the API", async () => {
    const user = userEvent.setup();
    open();
    await screen.findByRole("table");
    await user.type(screen.getByLabelText("Name"), "dave");
    await user.type(screen.getByLabelText("Password (optional)"), "short");
    await user.click(screen.getByRole("button", { name: "Add user" }));
    expect(screen.getByText(/A password has at least 12 characters/)).toBeTruthy();
    expect(sent.some((s) => s.method === "POST")).toBe(false);
  });

  it("changes a user's role", async () => {
    open();
    const select = await screen.findByLabelText("Role of bob");
    const change = screen.getByRole("button", { name: named("Change role of bob") }) as HTMLButtonElement;
    expect(change.disabled).toBe(true);
    fireEvent.change(select, { target: { value: "editor" } });
    fireEvent.click(change);
    await waitFor(() => expect(sent.find((s) => s.method === "PATCH")?.body).toEqual({ role: "editor" }));
    await waitFor(() => expect((screen.getByLabelText("Role of bob") as HTMLSelectElement).value).toBe("editor"));
  });
});
