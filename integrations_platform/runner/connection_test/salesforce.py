"""Salesforce, natively: the OAuth refresh-token login, then the REST ``limits`` call."""

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.catalog.validation import effective_config
from integrations_platform.runner.connection_test.result import ConnectionTestResult, _Builder

LOGIN_URL_ENV = "INTEGRATIONS_SALESFORCE_LOGIN_URL"
SALESFORCE_LOGIN_URL = "https://login.salesforce.com"
SALESFORCE_SANDBOX_LOGIN_URL = "https://test.salesforce.com"
SALESFORCE_API_VERSION = "61.0"
DEFAULT_QUOTA_PERCENT_TOTAL = 80.0


# -- Salesforce, natively ------------------------------------------------------------


def salesforce_login_url(config: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """The OAuth base URL: the local sandbox when set, else Salesforce's login host."""
    override = environ.get(LOGIN_URL_ENV, "").strip().rstrip("/")
    if override:
        return override
    return SALESFORCE_SANDBOX_LOGIN_URL if config.get("is_sandbox") else SALESFORCE_LOGIN_URL


_HEADERS = {"Accept": "application/json", "User-Agent": "integrations-platform"}


def _token_request(
    client: httpx.Client, token_url: str, values: Mapping[str, Any], timeout_s: float
) -> httpx.Response:
    """The OAuth refresh-token grant."""
    return client.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": str(values.get("client_id", "")),
            "client_secret": str(values.get("client_secret", "")),
            "refresh_token": str(values.get("refresh_token", "")),
        },
        timeout=timeout_s,
    )


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _transport_failure(
    result: _Builder, exc: httpx.TransportError, url: str, what: str, timeout_s: float
) -> ConnectionTestResult:
    host = urlsplit(url).netloc or url
    detail = str(exc) or type(exc).__name__
    details = {"url": url, "error": type(exc).__name__}
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return result.fail(
            "timeout",
            f"{what[0].upper()}{what[1:]} at {host} did not answer within {timeout_s:g} s.",
            "Salesforce may be slow or degraded (see https://status.salesforce.com): "
            "test again in a few minutes.",
            details,
        )
    return result.fail(
        "network",
        f"Cannot reach {what} at {host}: {detail}.",
        f"Check that this server can reach {host} (DNS, firewall, proxy), then test again.",
        details,
    )


_TOKEN_ERRORS: dict[str, tuple[str, str]] = {
    "invalid_grant": (
        "Salesforce refused the refresh token",
        "The refresh token is expired or revoked: generate a new one for the connected app "
        "(scopes 'api' and 'refresh_token') and enter it again.",
    ),
    "invalid_client_id": (
        "Salesforce does not know this Client ID",
        "Check the Client ID: it is the Consumer Key of the connected app "
        "(Setup → App Manager → your app → View).",
    ),
    "invalid_client": (
        "Salesforce refused the Client Secret",
        "Check the Client Secret: it is the Consumer Secret of the same connected app; "
        "enter it again.",
    ),
}

_PERMISSION_CODES = ("API_DISABLED_FOR_ORG", "INSUFFICIENT_ACCESS")
_API_ENABLED_HINT = (
    'The Salesforce user who authorised the refresh token needs the "API Enabled" '
    "permission (Setup → Profiles or Permission Sets), in an edition that includes "
    "API access."
)


def _test_salesforce(
    connector: ConnectorSpec,
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    timeout_s: float,
    result: _Builder,
) -> ConnectionTestResult:
    values = effective_config(connector, config)
    login_url = salesforce_login_url(values, environ)
    token_url = f"{login_url}/services/oauth2/token"
    deadline = result.started + timeout_s

    def remaining() -> float:
        return max(deadline - time.monotonic(), 0.05)

    with httpx.Client(headers=_HEADERS, follow_redirects=False) as client:
        try:
            response = _token_request(client, token_url, values, remaining())
        except httpx.TransportError as exc:
            return _transport_failure(result, exc, token_url, "the Salesforce login", timeout_s)
        payload = _json(response)
        if response.status_code != 200:
            return _token_failure(result, response.status_code, payload, values, environ)
        if not (
            isinstance(payload, dict)
            and isinstance(payload.get("access_token"), str)
            and isinstance(payload.get("instance_url"), str)
            and payload["access_token"]
            and payload["instance_url"].startswith(("http://", "https://"))
        ):
            return result.fail(
                "connector",
                f"{login_url} answered the login without an access token and instance URL.",
                "Check that the login URL is a Salesforce login host, then test again.",
                {"login_url": login_url, "status": response.status_code},
            )
        access_token: str = payload["access_token"]
        result.add_secret(access_token)
        instance_url = payload["instance_url"].rstrip("/")
        details: dict[str, Any] = {"instance_url": instance_url, "login_url": login_url}
        identity = str(payload.get("id") or "").rstrip("/").split("/")
        if len(identity) >= 2 and identity[-3:-2] == ["id"]:
            details["organization_id"], details["user_id"] = identity[-2], identity[-1]
        configured = str(values.get("instance_url") or "").strip()
        if configured and _origin(configured) != _origin(instance_url):
            details["warning"] = (
                f"The token belongs to {instance_url}, not to the configured instance URL "
                f"{configured}: check that the refresh token was issued for this org "
                f"(syncs use {instance_url})."
            )

        limits_url = f"{instance_url}/services/data/v{SALESFORCE_API_VERSION}/limits"
        try:
            response = client.get(
                limits_url,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=remaining(),
            )
        except httpx.TransportError as exc:
            return _transport_failure(result, exc, limits_url, "the Salesforce API", timeout_s)
        payload = _json(response)
        if response.status_code != 200:
            return _limits_failure(result, response.status_code, payload, details)
        if str(values.get("api_type") or "").upper() == "BULK":
            failed = _test_bulk(client, instance_url, access_token, payload, remaining(), result)
            if failed is not None:
                return failed
            details["bulk_api"] = "reachable"
    checked = _limits_ok(result, payload, values, details)
    if checked.ok and details.get("bulk_api"):
        return result.done(
            True, "ok", f"{checked.message.rstrip('.')}; the Bulk API answers.", "", details
        )
    return checked


# A job id no org has: the Bulk API answers that it does not exist (InvalidJob).
_NO_JOB = "750000000000000AAA"


def _test_bulk(
    client: httpx.Client,
    instance_url: str,
    access_token: str,
    limits: Any,
    timeout_s: float,
    result: _Builder,
) -> ConnectionTestResult | None:
    """BULK mode: the org reports a Bulk API allowance and its endpoint answers (an
    unknown job is refused as such); None when it does."""
    version = SALESFORCE_API_VERSION.split(".")[0]
    url = f"{instance_url}/services/async/{version}.0/job/{_NO_JOB}"
    details: dict[str, Any] = {"bulk_url": url}
    if not (isinstance(limits, dict) and isinstance(limits.get("DailyBulkApiBatches"), dict)):
        return result.fail(
            "permission",
            "The login works, but the org reports no Bulk API allowance "
            "(DailyBulkApiBatches), which BULK mode needs.",
            "Use the REST API type, or enable the Bulk API for the org (an edition with "
            "API access and the user's 'API Enabled' permission).",
            details,
        )
    try:
        response = client.get(url, headers={"X-SFDC-Session": access_token}, timeout=timeout_s)
    except httpx.TransportError as exc:
        return _transport_failure(result, exc, url, "the Salesforce Bulk API", timeout_s)
    body = _json(response)
    code = str(body.get("exceptionCode", "")) if isinstance(body, dict) else ""
    details.update({"status": response.status_code, "error_code": code})
    if response.status_code == 200 or code == "InvalidJob":
        return None
    if code == "InvalidSessionId" or response.status_code == 401:
        return result.fail(
            "authentication",
            f"The REST API accepts the login, but the Bulk API refuses its session ({code}).",
            "Check the connected app's session policies, generate a new refresh token and "
            "enter it again.",
            details,
        )
    if code in ("API_DISABLED_FOR_ORG", "InvalidUser") or response.status_code == 403:
        return result.fail(
            "permission",
            f"The login works, but Salesforce refuses Bulk API access ({code or 'HTTP 403'}).",
            _API_ENABLED_HINT,
            details,
        )
    return result.fail(
        "connector",
        f"The login works, but the Bulk API at {instance_url}/services/async did not answer "
        f"as Salesforce does (HTTP {response.status_code}{f', {code}' if code else ''}).",
        "Choose the REST API type, or check that the instance URL is a Salesforce org's.",
        details,
    )


def _token_failure(
    result: _Builder,
    status: int,
    payload: Any,
    config: Mapping[str, Any],
    environ: Mapping[str, str],
) -> ConnectionTestResult:
    error = str(payload.get("error", "")) if isinstance(payload, dict) else ""
    description = str(payload.get("error_description", "")) if isinstance(payload, dict) else ""
    said = f"{error}: {description.rstrip('.')}" if description else error
    details = {"status": status, "error": error, "error_description": description}
    if error in _TOKEN_ERRORS:
        text, hint = _TOKEN_ERRORS[error]
        if (
            error == "invalid_grant"
            and not config.get("is_sandbox")
            and not environ.get(LOGIN_URL_ENV)
        ):
            hint += " If the org is a Salesforce sandbox, turn on 'Sandbox org'."
        return result.fail("authentication", f"{text} ({said}).", hint, details)
    if status >= 500:
        return result.fail(
            "connector",
            f"The Salesforce login failed with HTTP {status}" + (f" ({said})." if said else "."),
            "Salesforce may be unavailable (see https://status.salesforce.com): "
            "test again in a few minutes.",
            details,
        )
    return result.fail(
        "connector",
        f"The Salesforce login was refused with HTTP {status}" + (f" ({said})." if said else "."),
        "Check the connected app's OAuth settings (refresh token flow enabled, IP relaxation) "
        "and the credentials, then test again.",
        details,
    )


def _api_error(payload: Any) -> tuple[str, str]:
    """``(errorCode, message)`` of a Salesforce REST error answer."""
    first = payload[0] if isinstance(payload, list) and payload else payload
    if isinstance(first, dict):
        return str(first.get("errorCode", "")), str(first.get("message", ""))
    return "", ""


def _limits_failure(
    result: _Builder, status: int, payload: Any, details: dict[str, Any]
) -> ConnectionTestResult:
    code, text = _api_error(payload)
    said = f"{code}: {text.rstrip('.')}" if code else f"HTTP {status}"
    details = {**details, "status": status, "error_code": code}
    if code == "REQUEST_LIMIT_EXCEEDED":
        return result.fail(
            "rate_limit",
            f"The login works, but the org has used up its daily API requests ({said}).",
            "Syncs cannot run until the allowance recovers: wait for the daily reset "
            "(Salesforce counts requests over the last 24 hours) or ask Salesforce for a "
            "higher limit.",
            details,
        )
    if code in _PERMISSION_CODES or status == 403:
        return result.fail(
            "permission",
            f"The login works, but Salesforce refuses API access ({said}).",
            _API_ENABLED_HINT,
            details,
        )
    if status == 401:
        return result.fail(
            "authentication",
            f"Salesforce rejected the access token it had just issued ({said}).",
            "Check the connected app's session policies (IP restrictions, session timeout), "
            "generate a new refresh token and enter it again.",
            details,
        )
    return result.fail(
        "connector",
        f"The login works, but reading the API limits failed with HTTP {status} ({said}).",
        "Salesforce may be unavailable (see https://status.salesforce.com): "
        "test again in a few minutes.",
        details,
    )


def _limits_ok(
    result: _Builder, payload: Any, config: Mapping[str, Any], details: dict[str, Any]
) -> ConnectionTestResult:
    instance_url = details["instance_url"]
    daily = payload.get("DailyApiRequests") if isinstance(payload, dict) else None
    try:
        if not isinstance(daily, dict):
            raise TypeError("no DailyApiRequests")
        maximum, left = int(daily["Max"]), int(daily["Remaining"])
    except (TypeError, KeyError, ValueError):
        return result.done(
            True,
            "ok",
            f"Connected to Salesforce at {instance_url}; the org did not report its daily "
            "API requests.",
            "",
            details,
        )
    used = maximum - left
    percent = used / maximum * 100 if maximum > 0 else 100.0
    try:
        threshold = float(config.get("quota_percent_total") or DEFAULT_QUOTA_PERCENT_TOTAL)
    except (TypeError, ValueError):
        threshold = DEFAULT_QUOTA_PERCENT_TOTAL
    details.update(
        {
            "api_requests_used": used,
            "api_requests_max": maximum,
            "api_requests_remaining": left,
            "api_usage_percent": round(percent, 1),
            "quota_percent_total": threshold,
        }
    )
    usage = f"{used} of {maximum} daily API requests used ({percent:.1f}%)"
    if percent > threshold:
        return result.fail(
            "rate_limit",
            f"The login works, but the org has {usage}, above the {threshold:g}% this "
            "integration may use.",
            f"Syncs would stop right away at {threshold:g}% of the daily API requests: wait "
            "for the daily reset (Salesforce counts requests over the last 24 hours) or raise "
            "the 'Total API quota (%)' setting.",
            details,
        )
    return result.done(
        True, "ok", f"Connected to Salesforce at {instance_url}; {usage}.", "", details
    )


def salesforce_unqueryable(
    connector: ConnectorSpec,
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    timeout_s: float = 30.0,
) -> set[str] | None:
    """The org's objects the API cannot query (the global describe's ``queryable``), or
    None when they cannot be told (a refused login, a network error): best effort, for
    leaving them out of a discovery."""
    values = effective_config(connector, config)
    login_url = salesforce_login_url(values, environ)
    try:
        with httpx.Client(headers=_HEADERS, timeout=timeout_s) as client:
            login = _token_request(client, f"{login_url}/services/oauth2/token", values, timeout_s)
            token = _json(login) if login.status_code == 200 else None
            if not isinstance(token, dict) or not isinstance(token.get("instance_url"), str):
                return None
            described = client.get(
                f"{token['instance_url'].rstrip('/')}/services/data/"
                f"v{SALESFORCE_API_VERSION}/sobjects",
                headers={"Authorization": f"Bearer {token.get('access_token', '')}"},
            )
    except httpx.HTTPError:
        return None
    payload = _json(described) if described.status_code == 200 else None
    if not isinstance(payload, dict) or not isinstance(payload.get("sobjects"), list):
        return None
    return {
        str(o.get("name"))
        for o in payload["sobjects"]
        if isinstance(o, dict) and o.get("queryable") is False
    }
