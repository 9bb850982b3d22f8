// Calls to the config API with the user's bearer token.
//
// The token is asked once and kept in sessionStorage only (this tab, until it closes);
// a 401 forgets it and asks again, then retries the call.

const TOKEN_KEY = "integrations.apiToken";

/** An error answer of the API: {error, detail, instruction, field_errors}. */
export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && body.detail) || (status === 0 ? "The API cannot be reached" : `HTTP ${status}`);
    super(detail);
    this.status = status;
    this.error = (body && body.error) || "HTTPError";
    this.detail = detail;
    this.instruction = (body && body.instruction) || "";
    this.fieldErrors = (body && body.field_errors) || {};
  }

  /** One sentence for a message: what is wrong, then what to do. */
  get summary() {
    const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);
    return this.instruction ? `${sentence(this.detail)} ${sentence(this.instruction)}` : sentence(this.detail);
  }
}

let askForToken = async () => {
  throw new ApiError(401, { detail: "No API token" });
};
let pendingAsk = null;

/** Install the function that shows the token prompt (resolves with a verified token). */
export function setTokenPrompt(prompt) {
  askForToken = prompt;
}

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function rememberToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The token, asking for it (once, for every caller waiting) when there is none. */
async function token(reason) {
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
export async function checkToken(candidate) {
  const response = await fetch("/api/v1/connectors", {
    headers: { Authorization: `Bearer ${candidate}`, Accept: "application/json" },
    cache: "no-store",
  });
  return response.status !== 401;
}

async function body(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : null;
}

/**
 * Call the API: api("PATCH", "/api/v1/integrations/crm", {body, headers}).
 * Resolves {data, status, etag}; rejects with an ApiError.
 */
export async function api(method, path, { body: payload, headers = {} } = {}) {
  let reason = null;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const bearer = await token(reason);
    let response;
    try {
      response = await fetch(path, {
        method,
        cache: "no-store",
        headers: {
          Accept: "application/json",
          Authorization: `Bearer ${bearer}`,
          ...(payload === undefined ? {} : { "Content-Type": "application/json" }),
          ...headers,
        },
        body: payload === undefined ? undefined : JSON.stringify(payload),
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
    const data = await body(response).catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return { data, status: response.status, etag: response.headers.get("ETag") };
  }
  throw new ApiError(401, { detail: "The API refused the token", instruction: "Reload the page and enter the right token" });
}

/** Path segment, escaped. */
export function seg(value) {
  return encodeURIComponent(value);
}

/** Test settings: of a saved integration (`name`, edits merged as a PATCH would), or of
 * a connector's config not saved yet. */
export async function testSettings({ name = null, connectorId = null, config }) {
  const path = name
    ? `/api/v1/integrations/${seg(name)}/test`
    : `/api/v1/connectors/${seg(connectorId)}/test`;
  return (await api("POST", path, { body: { config } })).data;
}

/** Create an integration, or update `name` (refused if it changed since `etag`). */
export async function saveIntegration({ name = null, etag = null, body }) {
  const { data } = name
    ? await api("PATCH", `/api/v1/integrations/${seg(name)}`, { body, headers: { "If-Match": etag } })
    : await api("POST", "/api/v1/integrations", { body });
  return data;
}
