// Calls to the config API: same-origin, with the session cookie a sign-in sets, or with
// an API token the user gave instead (kept in sessionStorage only: this tab, until it
// closes).
//
// A call changing something with the cookie carries the session's CSRF token (kept in
// memory, from the sign-in or GET /api/v1/me); a call with a token needs none. A 401 asks
// the user to sign in (once, for every call waiting), then retries the call.

import type { Me, SavedIntegration, TestOutcome } from "./types";

const TOKEN_KEY = "integrations.apiToken";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const TOKEN_REFUSED = "The API refused the token: enter it again.";
export const SESSION_ENDED = "Your session has ended: sign in again.";
export const LINK_REFUSED = "This sign-in link was used or has expired; ask for a new one with `integrations users link NAME`.";

interface ErrorBody {
  error?: string;
  detail?: string;
  instruction?: string;
  field_errors?: Record<string, string>;
}

/** An error answer of the API: {error, detail, instruction, field_errors}. */
export class ApiError extends Error {
  readonly status: number;
  readonly error: string;
  readonly detail: string;
  readonly instruction: string;
  readonly fieldErrors: Record<string, string>;
  /** Seconds to wait before trying again (a 429's Retry-After), when the API said. */
  readonly retryAfter: number | null;

  constructor(status: number, body: ErrorBody | null, retryAfter: number | null = null) {
    const detail = body?.detail || (status === 0 ? "The API cannot be reached" : `HTTP ${status}`);
    super(detail);
    this.status = status;
    this.error = body?.error || "HTTPError";
    this.detail = detail;
    this.instruction = body?.instruction || "";
    this.fieldErrors = body?.field_errors || {};
    this.retryAfter = retryAfter;
  }

  /** One sentence for a message: what is wrong, then what to do. */
  get summary(): string {
    return this.instruction ? `${sentence(this.detail)} ${sentence(this.instruction)}` : sentence(this.detail);
  }
}

export function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** What an error says, whatever it is. */
export function describeError(error: unknown): string {
  return error instanceof ApiError ? error.summary : String(error);
}

const UNREACHABLE = {
  detail: "The API cannot be reached",
  instruction: "Check that the platform is running (`integrations up`), then try again",
};

// -- who is signed in ------------------------------------------------------------------

/** What the sign-in dialog opens on: a name and password, or the API token field (after
 * a token was refused), and why it is asked (null the first time). */
export interface SignInRequest {
  mode: "password" | "token";
  message: string | null;
}

type SignInPrompt = (request: SignInRequest) => Promise<void>;
type IdentityListener = (me: Me | null) => void;

let askUser: SignInPrompt = async () => {
  throw new ApiError(401, { detail: "Not signed in", instruction: "Reload the page and sign in" });
};
let pendingAsk: Promise<void> | null = null;
let identity: Me | null = null;
let csrfToken: string | null = null;
const listeners = new Set<IdentityListener>();
// Counts sign-ins: a call refused before the latest one is retried without asking again.
let generation = 0;

/** Install the function that shows the sign-in dialog (resolves once signed in). */
export function setSignInPrompt(prompt: SignInPrompt): void {
  askUser = prompt;
}

/** Show the sign-in dialog (once, for every caller waiting); resolves once signed in. */
export function askToSignIn(request: SignInRequest): Promise<void> {
  if (!pendingAsk) {
    pendingAsk = askUser(request).finally(() => {
      pendingAsk = null;
    });
  }
  return pendingAsk;
}

/** Who is signed in (null before GET /api/v1/me answered, or after signing out). */
export function currentIdentity(): Me | null {
  return identity;
}

/** Be told of every change of who is signed in; returns the function that stops it. */
export function onIdentityChange(listener: IdentityListener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

function setIdentity(me: Me | null): void {
  identity = me;
  csrfToken = me?.csrf_token ?? null;
  for (const listener of listeners) listener(me);
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function rememberToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Forget everything this tab knows of the user: the token, the CSRF token, who it is. */
export function forgetSession(): void {
  forgetToken();
  setIdentity(null);
}

/** The headers that authenticate a call: the token, or the cookie's CSRF token on a change. */
function authHeaders(method: string, bearer: string | null): Record<string, string> {
  if (bearer) return { Authorization: `Bearer ${bearer}` };
  if (csrfToken && !SAFE_METHODS.has(method.toUpperCase())) return { "X-CSRF-Token": csrfToken };
  return {};
}

function retryAfterOf(response: Response): number | null {
  const value = response.headers.get("Retry-After");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** POST /api/v1/auth/login: a name and password, or a one-time sign-in link's token.
 * Sets the session cookie; rejects with an ApiError (401 SignInFailed, 429 TooManySignIns). */
export async function signIn(credentials: { name: string; password: string } | { link: string }): Promise<Me> {
  let response: Response;
  try {
    response = await fetch("/api/v1/auth/login", {
      method: "POST",
      cache: "no-store",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(credentials),
    });
  } catch {
    throw new ApiError(0, UNREACHABLE);
  }
  const data = await readBody(response).catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data as ErrorBody | null, retryAfterOf(response));
  const session = data as Omit<Me, "auth"> & { auth?: Me["auth"] };
  const me: Me = { ...session, auth: session.auth ?? "session" };
  // The session replaces a token given before (it would be sent in its place).
  forgetToken();
  generation += 1;
  setIdentity(me);
  return me;
}

/** Whether the API accepts `candidate` as a bearer token: who it is, or null (a 401). */
export async function checkToken(candidate: string): Promise<Me | null> {
  let response: Response;
  try {
    response = await fetch("/api/v1/me", {
      headers: { Authorization: `Bearer ${candidate}`, Accept: "application/json" },
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, UNREACHABLE);
  }
  if (response.status === 401) return null;
  const data = await readBody(response).catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data as ErrorBody | null);
  return data as Me;
}

/** Sign in with an API token: kept for this tab if the API accepts it (false if not). */
export async function signInWithToken(candidate: string): Promise<boolean> {
  const me = await checkToken(candidate);
  if (!me) return false;
  rememberToken(candidate);
  generation += 1;
  setIdentity(me);
  return true;
}

/** GET /api/v1/me: who is signed in (asking to sign in first if nobody is), and the
 * session's CSRF token. */
export async function loadIdentity(): Promise<Me> {
  const { data } = await api<Me>("GET", "/api/v1/me");
  setIdentity(data);
  return data;
}

/** Sign out: end the session (POST /api/v1/auth/logout) and forget the token. */
export async function signOut(): Promise<void> {
  const wasSession = identity?.auth === "session";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  forgetSession();
  if (!wasSession) return;
  try {
    await fetch("/api/v1/auth/logout", { method: "POST", cache: "no-store", credentials: "same-origin", headers });
  } catch {
    // Unreachable: the cookie expires on its own, and this tab forgot the session.
  }
}

// The links already taken: a router restoring the address it loaded does not make one
// be used twice.
const takenLinks = new Set<string>();

/** The one-time sign-in link's token when the page was opened with one
 * (`#sign-in=TOKEN`), removed from the address at once so that it stays in no history;
 * null when there is none, or it was taken already. */
export function takeSignInLink(): string | null {
  const match = /^#(?:\/)?sign-in=([^&]+)/.exec(window.location.hash);
  if (!match?.[1]) return null;
  window.history.replaceState(window.history.state, "", `${window.location.pathname}${window.location.search}`);
  const link = decodeURIComponent(match[1]);
  if (takenLinks.has(link)) return null;
  takenLinks.add(link);
  return link;
}

async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : null;
}

export interface ApiResult<T> {
  data: T;
  status: number;
  etag: string | null;
}

interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Call the API: api("PATCH", "/api/v1/integrations/crm", {body, headers}).
 * Resolves {data, status, etag}; rejects with an ApiError.
 */
export async function api<T>(method: string, path: string, { body, headers = {} }: CallOptions = {}): Promise<ApiResult<T>> {
  let csrfRefreshed = false;
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const bearer = storedToken();
    const sentAt = generation;
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        cache: "no-store",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          ...authHeaders(method, bearer),
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, UNREACHABLE);
    }
    if (response.status === 401) {
      // Someone signed in while this call was on its way: it is only retried.
      if (generation !== sentAt) continue;
      if (bearer && storedToken() === bearer) forgetToken();
      await askToSignIn(bearer
        ? { mode: "token", message: TOKEN_REFUSED }
        : { mode: "password", message: identity ? SESSION_ENDED : null });
      continue;
    }
    const data = await readBody(response).catch(() => null);
    // A session whose CSRF token this tab lost (or never read): read it, then retry once.
    if (response.status === 403 && !bearer && !csrfRefreshed && (data as ErrorBody | null)?.error === "CsrfError") {
      csrfRefreshed = true;
      await refreshCsrfToken();
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, data as ErrorBody | null, retryAfterOf(response));
    return { data: data as T, status: response.status, etag: response.headers.get("ETag") };
  }
  throw new ApiError(401, { detail: "The API refused the credentials", instruction: "Reload the page and sign in again" });
}

async function refreshCsrfToken(): Promise<void> {
  try {
    const response = await fetch("/api/v1/me", { cache: "no-store", credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) setIdentity((await response.json()) as Me);
  } catch {
    // The retry then fails with the API's own answer.
  }
}

/** Path segment, escaped. */
export const seg = encodeURIComponent;

/** Test settings: of a saved integration (`name`, edits merged as a PATCH would), or of
 * a connector's config not saved yet. */
export async function testSettings(target: { name: string } | { connectorId: string }, config: Record<string, unknown>): Promise<TestOutcome> {
  const path = "name" in target
    ? `/api/v1/integrations/${seg(target.name)}/test`
    : `/api/v1/connectors/${seg(target.connectorId)}/test`;
  return (await api<TestOutcome>("POST", path, { body: { config } })).data;
}

/** Create an integration, or update `name` (refused if it changed since `etag`). */
export async function saveIntegration(target: { name: string; etag: string } | null, body: Record<string, unknown>): Promise<SavedIntegration> {
  const { data } = target
    ? await api<SavedIntegration>("PATCH", `/api/v1/integrations/${seg(target.name)}`, { body, headers: { "If-Match": target.etag } })
    : await api<SavedIntegration>("POST", "/api/v1/integrations", { body });
  return data;
}
