// Calls to the config API with the user's bearer token.
//
// The token is asked once and kept in sessionStorage only (this tab, until it closes);
// a 401 forgets it and asks again, then retries the call.

import type { SavedIntegration, TestOutcome } from "./types";

const TOKEN_KEY = "integrations.apiToken";

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

  constructor(status: number, body: ErrorBody | null) {
    const detail = body?.detail || (status === 0 ? "The API cannot be reached" : `HTTP ${status}`);
    super(detail);
    this.status = status;
    this.error = body?.error || "HTTPError";
    this.detail = detail;
    this.instruction = body?.instruction || "";
    this.fieldErrors = body?.field_errors || {};
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

type TokenPrompt = (reason: string | null) => Promise<string>;

let askForToken: TokenPrompt = async () => {
  throw new ApiError(401, { detail: "No API token" });
};
let pendingAsk: Promise<string> | null = null;

/** Install the function that shows the token prompt (resolves with a verified token). */
export function setTokenPrompt(prompt: TokenPrompt): void {
  askForToken = prompt;
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

/** The token, asking for it (once, for every caller waiting) when there is none. */
async function token(reason: string | null): Promise<string> {
  const known = storedToken();
  if (known && !reason) return known;
  if (!pendingAsk) {
    pendingAsk = askForToken(reason).finally(() => {
      pendingAsk = null;
    });
  }
  return pendingAsk;
}

/** Whether `candidate` is accepted (used by the token prompt before storing it). */
export async function checkToken(candidate: string): Promise<boolean> {
  const response = await fetch("/api/v1/connectors", {
    headers: { Authorization: `Bearer ${candidate}`, Accept: "application/json" },
    cache: "no-store",
  });
  return response.status !== 401;
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
  let reason: string | null = null;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const bearer = await token(reason);
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        cache: "no-store",
        headers: {
          Accept: "application/json",
          Authorization: `Bearer ${bearer}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, {
        detail: "The API cannot be reached",
        instruction: "Check that the platform is running (`integrations up`), then try again",
      });
    }
    if (response.status === 401) {
      forgetToken();
      reason = "The API refused the token: enter it again.";
      continue;
    }
    const data = await readBody(response).catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data as ErrorBody | null);
    return { data: data as T, status: response.status, etag: response.headers.get("ETag") };
  }
  throw new ApiError(401, { detail: "The API refused the token", instruction: "Reload the page and enter the right token" });
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
