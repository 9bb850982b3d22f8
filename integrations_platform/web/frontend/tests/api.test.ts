// The API client: the session's CSRF token on changes only, the token path without it,
// one sign-in for every call a 401 stopped, a lost CSRF token read again, the wait a 429
// asks for, sign-out, and the one-time link taken out of the address.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { signInFailure } from "@/components/SignInDialog";
import {
  api,
  ApiError,
  currentIdentity,
  forgetSession,
  loadIdentity,
  rememberToken,
  setSignInPrompt,
  signIn,
  signInWithToken,
  signOut,
  storedToken,
  takeSignInLink,
  TOKEN_REFUSED,
  type SignInRequest,
} from "@/lib/api";

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  credentials: RequestCredentials | undefined;
  body: unknown;
}

type Answer = (call: Call) => [number, unknown, Record<string, string>?];

let calls: Call[] = [];
let answers: Record<string, Answer> = {};

const SESSION = { name: "ada", role: "editor", auth: "session", csrf_token: "csrf-1", expires_at: "2030-01-01T00:00:00Z" };

beforeEach(() => {
  calls = [];
  answers = {};
  forgetSession();
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    const call: Call = {
      method: init.method || "GET",
      url,
      headers: { ...(init.headers as Record<string, string>) },
      credentials: init.credentials,
      body: init.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(call);
    const answer = answers[`${call.method} ${url}`];
    const [status, data, headers = {}] = answer ? answer(call) : [404, { error: "NotFound", detail: "No such route" }];
    if (status === 204) return new Response(null, { status });
    return new Response(JSON.stringify(data), { status, headers: { "content-type": "application/json", ...headers } });
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
  setSignInPrompt(async () => {
    throw new ApiError(401, { detail: "Not signed in" });
  });
});

/** Whether the stand-in API has seen a sign-in (its cookie would be sent from then on). */
const signedIn = () => calls.some((c) => c.url === "/api/v1/auth/login");

describe("with the session cookie", () => {
  it("sends the CSRF token on a change, not on a read, and always the cookie", async () => {
    answers["GET /api/v1/me"] = () => [200, SESSION];
    answers["GET /api/v1/integrations"] = () => [200, []];
    answers["POST /api/v1/integrations/crm/sync"] = () => [200, { run_id: "r1" }];
    await loadIdentity();
    expect(currentIdentity()?.role).toBe("editor");
    await api("GET", "/api/v1/integrations");
    await api("POST", "/api/v1/integrations/crm/sync", { body: {} });
    const [, read, change] = calls;
    expect(read?.headers["X-CSRF-Token"]).toBeUndefined();
    expect(change?.headers["X-CSRF-Token"]).toBe("csrf-1");
    expect(change?.headers.Authorization).toBeUndefined();
    expect(calls.every((c) => c.credentials === "same-origin")).toBe(true);
  });

  it("reads a lost CSRF token again once, then retries the change", async () => {
    answers["GET /api/v1/me"] = () => [200, { ...SESSION, csrf_token: "csrf-2" }];
    answers["DELETE /api/v1/integrations/crm"] = (call) => (call.headers["X-CSRF-Token"] === "csrf-2"
      ? [200, { name: "crm" }]
      : [403, { error: "CsrfError", detail: "The CSRF token is missing" }]);
    const { data } = await api<{ name: string }>("DELETE", "/api/v1/integrations/crm");
    expect(data.name).toBe("crm");
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "DELETE /api/v1/integrations/crm", "GET /api/v1/me", "DELETE /api/v1/integrations/crm",
    ]);
  });

  it("gives up on a CSRF refusal the second time (no loop)", async () => {
    answers["GET /api/v1/me"] = () => [200, SESSION];
    answers["DELETE /api/v1/integrations/crm"] = () => [403, { error: "CsrfError", detail: "The CSRF token does not match" }];
    await expect(api("DELETE", "/api/v1/integrations/crm")).rejects.toMatchObject({ status: 403, error: "CsrfError" });
    expect(calls.filter((c) => c.method === "DELETE")).toHaveLength(2);
  });

  it("a 403 of the role is the API's answer, not retried", async () => {
    answers["GET /api/v1/me"] = () => [200, { ...SESSION, role: "viewer" }];
    answers["POST /api/v1/integrations/crm/sync"] = () => [403, { error: "Forbidden", detail: "A viewer cannot sync", instruction: "Ask an admin" }];
    await loadIdentity();
    const failure = await api("POST", "/api/v1/integrations/crm/sync").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).summary).toBe("A viewer cannot sync. Ask an admin.");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });
});

describe("with an API token", () => {
  it("sends the token, and no CSRF token even on a change", async () => {
    answers["GET /api/v1/me"] = (call) => (call.headers.Authorization === "Bearer good-token"
      ? [200, { name: "ci", role: "admin", auth: "token", csrf_token: null, expires_at: null }]
      : [401, { error: "Unauthorized", detail: "Sign in" }]);
    answers["POST /api/v1/integrations/bulk"] = () => [200, { results: [] }];
    expect(await signInWithToken("good-token")).toBe(true);
    expect(storedToken()).toBe("good-token");
    await api("POST", "/api/v1/integrations/bulk", { body: { action: "sync", names: [] } });
    const change = calls.at(-1);
    expect(change?.headers.Authorization).toBe("Bearer good-token");
    expect(change?.headers["X-CSRF-Token"]).toBeUndefined();
  });

  it("is not kept when the API refuses it", async () => {
    answers["GET /api/v1/me"] = () => [401, { error: "Unauthorized", detail: "Sign in" }];
    expect(await signInWithToken("bad-token")).toBe(false);
    expect(storedToken()).toBeNull();
  });
});

describe("a 401", () => {
  it("asks to sign in once for every call waiting, then retries each", async () => {
    const asked: SignInRequest[] = [];
    setSignInPrompt(async (request) => {
      asked.push(request);
      await signIn({ name: "ada", password: "correct horse battery" });
    });
    answers["POST /api/v1/auth/login"] = () => [200, SESSION];
    answers["GET /api/v1/integrations"] = () => (signedIn() ? [200, ["crm"]] : [401, { error: "Unauthorized" }]);
    answers["GET /api/v1/notifications"] = () => (signedIn() ? [200, []] : [401, { error: "Unauthorized" }]);
    const [integrations, notifications] = await Promise.all([
      api<string[]>("GET", "/api/v1/integrations"),
      api<unknown[]>("GET", "/api/v1/notifications"),
    ]);
    expect(integrations.data).toEqual(["crm"]);
    expect(notifications.data).toEqual([]);
    expect(asked).toEqual([{ mode: "password", message: null }]);
    expect(calls.find((c) => c.url === "/api/v1/auth/login")?.body).toEqual({ name: "ada", password: "correct horse battery" });
    expect(currentIdentity()?.name).toBe("ada");
  });

  it("forgets a refused token and asks for one at the token field", async () => {
    rememberToken("revoked-token");
    const asked: SignInRequest[] = [];
    setSignInPrompt(async (request) => {
      asked.push(request);
      expect(storedToken()).toBeNull();
      await signInWithToken("good-token");
    });
    answers["GET /api/v1/me"] = (call) => (call.headers.Authorization === "Bearer good-token"
      ? [200, { name: "ci", role: "admin", auth: "token", csrf_token: null, expires_at: null }]
      : [401, {}]);
    answers["GET /api/v1/connectors"] = (call) => (call.headers.Authorization === "Bearer good-token" ? [200, []] : [401, {}]);
    await api("GET", "/api/v1/connectors");
    expect(asked).toEqual([{ mode: "token", message: TOKEN_REFUSED }]);
    expect(calls.at(-1)?.headers.Authorization).toBe("Bearer good-token");
  });

  it("after a session says it ended", async () => {
    answers["GET /api/v1/me"] = () => [200, SESSION];
    await loadIdentity();
    const asked: SignInRequest[] = [];
    setSignInPrompt(async (request) => {
      asked.push(request);
      throw new ApiError(401, { detail: "Not signed in" });
    });
    answers["GET /api/v1/integrations"] = () => [401, {}];
    await expect(api("GET", "/api/v1/integrations")).rejects.toBeInstanceOf(ApiError);
    expect(asked[0]?.message).toMatch(/session has ended/);
  });
});

describe("signing in and out", () => {
  it("a 429 says how long to wait", async () => {
    answers["POST /api/v1/auth/login"] = () => [429, {
      error: "TooManySignIns", detail: "Too many failed sign-ins for this account", instruction: "Wait, then try again",
    }, { "Retry-After": "90" }];
    const failure = await signIn({ name: "ada", password: "wrong password!" }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).retryAfter).toBe(90);
    expect(signInFailure(failure)).toBe("Too many failed sign-ins for this account. Try again in 2 minutes.");
  });

  it("a 401 gives the API's reason", async () => {
    answers["POST /api/v1/auth/login"] = () => [401, {
      error: "SignInFailed", detail: "The name or the password is wrong", instruction: "Check them, or ask an admin for a sign-in link",
    }];
    const failure = await signIn({ name: "ada", password: "wrong password!" }).catch((error: unknown) => error);
    expect(signInFailure(failure)).toBe("The name or the password is wrong. Check them, or ask an admin for a sign-in link.");
    expect(currentIdentity()).toBeNull();
  });

  it("a password sign-in replaces a token given before", async () => {
    rememberToken("old-token");
    answers["POST /api/v1/auth/login"] = () => [200, SESSION];
    await signIn({ name: "ada", password: "correct horse battery" });
    expect(storedToken()).toBeNull();
    expect(currentIdentity()).toMatchObject({ name: "ada", auth: "session", csrf_token: "csrf-1" });
  });

  it("signing out ends the session with its CSRF token and forgets it", async () => {
    answers["POST /api/v1/auth/login"] = () => [200, SESSION];
    answers["POST /api/v1/auth/logout"] = () => [204, null];
    await signIn({ name: "ada", password: "correct horse battery" });
    await signOut();
    const logout = calls.at(-1);
    expect(logout?.url).toBe("/api/v1/auth/logout");
    expect(logout?.headers["X-CSRF-Token"]).toBe("csrf-1");
    expect(currentIdentity()).toBeNull();
  });

  it("takes the one-time link out of the address before anything else", () => {
    window.history.replaceState(null, "", "/#sign-in=abc-123_XYZ");
    expect(takeSignInLink()).toBe("abc-123_XYZ");
    expect(window.location.hash).toBe("");
    expect(window.location.href).not.toContain("abc-123");
    expect(takeSignInLink()).toBeNull();
    window.history.replaceState(null, "", "/#/integrations/crm");
    expect(takeSignInLink()).toBeNull();
    expect(window.location.hash).toBe("#/integrations/crm");
  });
});
