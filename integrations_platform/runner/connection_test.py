"""Test a connector config without syncing: can the platform log in and read?

Two strategies, chosen per connector by ``ConnectorSpec.connection_test``:

``salesforce_oauth``
    Native and fast (two HTTP requests): the OAuth refresh-token login, then
    ``GET /services/data/v61.0/limits`` with the new access token, which also tells how
    much of the org's daily API allowance is left.

``meltano``
    Generic: ``meltano config test <extractor>`` with the same environment a sync gets
    (see :func:`~integrations_platform.runner.meltano.prepare_sync`). Meltano runs the
    tap's discovery, then the tap itself until its first record. The output is redacted,
    then classified into a :data:`Reason`.

Every string of a result (message, hint, details) goes through a
:class:`~integrations_platform.runner.redaction.Redactor` built from the config's secret
values (and, for Salesforce, the access token), so a result can be shown and stored.
"""

import copy
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.catalog.validation import effective_config, validate_config
from integrations_platform.errors import ConfigurationError, PlatformError
from integrations_platform.runner.logs import parse_line
from integrations_platform.runner.meltano import (
    SyncRequest,
    SyncStream,
    make_sys_dir,
    prepare_sync,
    stop_process_group,
)
from integrations_platform.runner.redaction import Redactor
from integrations_platform.settings import Settings

Reason = Literal[
    "ok",
    "authentication",
    "network",
    "permission",
    "quota",
    "configuration",
    "timeout",
    "connector_error",
]

LOGIN_URL_ENV = "INTEGRATIONS_SALESFORCE_LOGIN_URL"
SALESFORCE_LOGIN_URL = "https://login.salesforce.com"
SALESFORCE_SANDBOX_LOGIN_URL = "https://test.salesforce.com"
SALESFORCE_API_VERSION = "61.0"
DEFAULT_QUOTA_PERCENT_TOTAL = 80.0

# What the meltano strategy hands the tap: an early start date (so that an incremental
# stream has a record to show), one catalog stream, or every stream of a dynamic catalog.
_TEST_START_DATE = "2000-01-01T00:00:00Z"
_TEST_ID = "connection-test"
_ALL_STREAMS = "*"
_MAX_MESSAGE = 500
_TAIL_LINES = 15


@dataclass(frozen=True)
class ConnectionTestResult:
    """What a connection test found. Every string is redacted."""

    ok: bool
    reason: Reason
    message: str  # what happened, in one or two sentences
    hint: str  # what to do about it ("" when ok)
    duration_s: float
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "message": self.message,
            "hint": self.hint,
            "duration_s": round(self.duration_s, 3),
            "details": copy.deepcopy(self.details),
        }


def test_connection(
    connector: ConnectorSpec,
    config: Mapping[str, Any],
    settings: Settings,
    environ: Mapping[str, str],
    *,
    timeout_s: float = 30.0,
) -> ConnectionTestResult:
    """Check that ``config`` (decrypted) lets the platform log in to ``connector``'s source.

    Never raises for a problem of the config or the source: every outcome, including an
    invalid config and a timeout, is a :class:`ConnectionTestResult`.
    """
    started = time.monotonic()
    result = _Builder(started, connector.secret_values(config))
    try:
        validated = validate_config(connector, config)
    except ConfigurationError as exc:
        return result.fail(
            "configuration",
            f"{exc.reason.rstrip('.')}.",
            exc.instruction,
            {"field_errors": exc.field_errors},
        )
    if connector.connection_test == "salesforce_oauth":
        return _test_salesforce(connector, validated, environ, timeout_s, result)
    return _test_meltano(connector, validated, settings, environ, timeout_s, result)


# Not a test function, whatever its name says.
test_connection.__test__ = False  # type: ignore[attr-defined]


class _Builder:
    """Builds redacted results; learns secrets (the access token) on the way."""

    def __init__(self, started: float, secrets: list[str]) -> None:
        self.started = started
        self.secrets = list(secrets)
        self.redactor = Redactor(self.secrets)
        self.others: list[Redactor] = []

    def add_secret(self, value: str) -> None:
        # One redactor for all, so that the longest value is masked first.
        self.secrets.append(value)
        self.redactor = Redactor(self.secrets)

    def redact(self, text: str) -> str:
        text = self.redactor.redact(text)
        for other in self.others:
            text = other.redact(text)
        return text

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {str(k): self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._clean(v) for v in value]
        return value

    def done(
        self, ok: bool, reason: Reason, message: str, hint: str, details: Mapping[str, Any]
    ) -> ConnectionTestResult:
        return ConnectionTestResult(
            ok=ok,
            reason=reason,
            message=self.redact(message),
            hint=self.redact(hint),
            duration_s=time.monotonic() - self.started,
            details=self._clean(dict(details)),
        )

    def fail(
        self, reason: Reason, message: str, hint: str, details: Mapping[str, Any] | None = None
    ) -> ConnectionTestResult:
        return self.done(False, reason, message, hint, details or {})


# -- Salesforce, natively ------------------------------------------------------------


def salesforce_login_url(config: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    """The OAuth base URL: the local sandbox when set, else Salesforce's login host."""
    override = environ.get(LOGIN_URL_ENV, "").strip().rstrip("/")
    if override:
        return override
    return SALESFORCE_SANDBOX_LOGIN_URL if config.get("is_sandbox") else SALESFORCE_LOGIN_URL


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

    with httpx.Client(
        headers={"Accept": "application/json", "User-Agent": "integrations-platform"},
        follow_redirects=False,
    ) as client:
        try:
            response = client.post(
                token_url,
                data={
                    "grant_type": "refresh_token",
                    "client_id": str(values.get("client_id", "")),
                    "client_secret": str(values.get("client_secret", "")),
                    "refresh_token": str(values.get("refresh_token", "")),
                },
                timeout=remaining(),
            )
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
                "connector_error",
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
    return _limits_ok(result, payload, values, details)


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
            "connector_error",
            f"The Salesforce login failed with HTTP {status}" + (f" ({said})." if said else "."),
            "Salesforce may be unavailable (see https://status.salesforce.com): "
            "test again in a few minutes.",
            details,
        )
    return result.fail(
        "connector_error",
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
            "quota",
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
        "connector_error",
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
            "quota",
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


# -- Any connector, through `meltano config test` --------------------------------------


def _test_streams(connector: ConnectorSpec) -> list[SyncStream]:
    """One stream is enough to prove access; a dynamic catalog gets every stream."""
    if connector.streams:
        name = (connector.default_streams or [connector.streams[0].name])[0]
        return [SyncStream(name)]
    return [SyncStream(_ALL_STREAMS)]


def _test_meltano(
    connector: ConnectorSpec,
    config: Mapping[str, Any],
    settings: Settings,
    environ: Mapping[str, str],
    timeout_s: float,
    result: _Builder,
) -> ConnectionTestResult:
    streams = _test_streams(connector)
    request = SyncRequest(
        integration=_TEST_ID,
        state_id=_TEST_ID,
        connector=connector,
        config=config,
        start_date=_TEST_START_DATE,
        destination="jsonl",  # never started: `config test` runs the extractor alone
        streams=streams,
    )
    sys_dir = make_sys_dir(settings)
    process: subprocess.Popen[str] | None = None
    try:
        try:
            prepared = prepare_sync(request, settings, environ, sys_dir)
        except PlatformError as exc:
            return result.fail("configuration", exc.reason, exc.instruction)
        result.others.append(prepared.redactor)
        # At debug level Meltano shows what the tap printed after discovery (at info
        # level, only its last line): an error while reading is then visible too.
        args = [prepared.args[0], "--log-level=debug", "config", "test", prepared.extractor]
        details: dict[str, Any] = {
            "extractor": prepared.extractor,
            "command": f"meltano config test {prepared.extractor}",
            "streams": [s.name for s in streams],
        }
        try:
            process = subprocess.Popen(
                args,
                cwd=settings.meltano_project_dir,
                env=prepared.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,  # its own process group, to stop it whole
            )
        except OSError as exc:
            return result.fail(
                "connector_error",
                f"Cannot start Meltano: {exc.strerror}.",
                "Install the project (`pip install -e .`) so that `meltano` is on the PATH.",
                details,
            )
        remaining = max(result.started + timeout_s - time.monotonic(), 0.1)
        try:
            output, _ = process.communicate(timeout=remaining)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_process_group(process, grace_s=2.0)
            try:
                output, _ = process.communicate(timeout=5.0)
            except subprocess.TimeoutExpired:  # a stray holds the pipe: give up on it
                output = ""
        returncode = process.returncode
    finally:
        if process is not None and process.poll() is None:
            stop_process_group(process, grace_s=2.0)
        shutil.rmtree(sys_dir, ignore_errors=True)
    details["exit_code"] = returncode
    return _classify(connector, output or "", timed_out, returncode, timeout_s, result, details)


# Lines that say nothing about the problem: traceback frames and chaining...
_FRAME_FILE = re.compile(r'^File ".*", line \d+')
_CARETS = re.compile(r"^[\^~]+$")
_SOURCE_LINE = re.compile(r"^ {2,}\S")  # the source line of a frame, when still indented
# ... and Meltano's (or the Singer SDK's) routine chatter.
_CHATTER = re.compile(
    r"^(?:Traceback \(most recent call last\):"
    r"|The above exception was the direct cause of the following exception:"
    r"|During handling of the above exception, another exception occurred:"
    r"|\(Background on this error at: .*\)"
    r"|\d{4}-\d\d-\d\dT[\d:.]+Z? \[\w+\s*\] meltano "
    r"|Environment '.*' is active"
    r"|Running catalog discovery"
    r"|Need help fixing this problem\?"
    r"|Plugin configuration is (?:in)?valid"
    r"|Run 'meltano config list .*' to review the plugin settings"
    r"|Skipping parse of env var settings"
    r"|Validating config using jsonschema"
    r"|(?:INFO )?METRIC: \{"
    r"|\{\"type\": ?\"(?:SCHEMA|RECORD|STATE|BATCH|ACTIVATE_VERSION)\""  # Singer messages
    r"|Process return code"
    r"|The default environment '.*' will be ignored"
    r")"
)
# With --log-level=debug, Meltano logs every line the tap prints while it is tested
# (after discovery) through this logger; its other debug lines are Meltano's own.
_TEST_SERVICE_LOGGER = "plugin_test_service"
_LEVEL_PREFIX = re.compile(r"^(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b[\s:]*")
# `ValueError: ...`, `sqlalchemy.exc.OperationalError: ...`, `psycopg2.errors.X: ...`
_EXCEPTION = re.compile(
    r"^(?:(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit|Failure|Fault)\b"
    r"|(?:[a-z_]\w*\.)+[A-Z]\w*: )"
)
_EXCEPTION_PREFIX = re.compile(
    r"^(?:(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit|Failure|Fault)(?::\s*|\s+)"
    r"|(?:[a-z_]\w*\.)+[A-Z]\w*:\s*"
    r"|\((?:[a-z_]\w*\.)+[A-Z]\w*\)\s*|\([A-Z]\w*(?:Error|Exception)\)\s*)+"
)
_DISCOVERY_FAILED = re.compile(r"^Catalog discovery failed: command .* returned (-?\d+)")
_NO_RECORD = "No RECORD or BATCH message received"

# First match wins; each is searched in the lower-cased key lines of the output.
_RULES: tuple[tuple[Reason, re.Pattern[str]], ...] = (
    (
        "authentication",
        re.compile(
            r"password authentication failed|\bauthentication\b|\b401\b|unauthori[sz]ed"
            r"|invalid_grant|invalid_client|invalid_session_id|login failed"
            r'|role ".*" does not exist|invalid credentials|access denied for user'
        ),
    ),
    (
        "network",
        re.compile(
            r"could not connect|connection refused|could not translate host name"
            r"|name or service not known|temporary failure in name resolution|timed out"
            r"|timeout expired|no route to host|network is unreachable"
            r"|connection reset|server closed the connection unexpectedly"
        ),
    ),
    (
        "permission",
        re.compile(
            r"permission denied|insufficient_access|insufficient privilege|api_disabled_for_org"
            r"|\b403\b|forbidden"
        ),
    ),
    ("quota", re.compile(r"request_limit_exceeded|\bquota\b|rate limit|too many requests")),
    (
        "configuration",
        re.compile(
            r"does not exist|config validation|is a required property|invalid configuration"
            r"|unknown database|no such file or directory"
        ),
    ),
)


def _hint(reason: Reason, connector: ConnectorSpec, timeout_s: float) -> str:
    label = connector.label
    return {
        "authentication": (
            f"Check the credentials in the {label} settings (user, password, keys or "
            "tokens) and enter them again."
        ),
        "network": (
            f"Check the host and port in the {label} settings, and that the server accepts "
            "connections from this machine (firewall, allow-list, VPN)."
        ),
        "permission": (
            f"Give the {label} user read access to what the integration syncs, or use another user."
        ),
        "quota": (
            f"The {label} API allowance is used up: wait for it to reset or raise the "
            "limit, then test again."
        ),
        "configuration": (
            f"Check the {label} settings named in the message (for example a database "
            "name) and correct them."
        ),
        "timeout": (
            f"Check that the {label} server is reachable from this machine (a firewall that "
            "drops packets looks like this), or test again with a longer timeout."
        ),
        "connector_error": (
            f"Read the message; if it is unclear, see the {label} documentation "
            f"({connector.docs_url}) or the extractor's output in the details."
        ),
    }.get(reason, "")


@dataclass(frozen=True)
class _OutputLine:
    level: str
    text: str
    from_plugin: bool
    exception: bool


def _output_lines(output: str, redact: Callable[[str], str]) -> list[_OutputLine]:
    """The informative lines of Meltano's (JSON-logged) output, redacted, de-duplicated."""
    lines: list[_OutputLine] = []
    seen: set[str] = set()
    kept = False  # whether the previous informative line was kept (not a repeat)
    after_frame = False  # the line before was a traceback's `File "...", line N`
    for raw in output.splitlines():
        # Parsed as written, then redacted: a mask must not break the line's structure.
        parsed = parse_line(raw).redacted(redact)
        from_plugin = parsed.source != "meltano"
        if parsed.level == "debug":
            try:
                logger = str(json.loads(raw).get("_logger", ""))
            except (ValueError, AttributeError):
                logger = ""
            if _TEST_SERVICE_LOGGER not in logger:
                continue  # Meltano's own debug chatter
            from_plugin = True  # what the tap printed while it was tested
        for sub in parsed.message.splitlines():
            text = sub.strip()
            if not text or _CARETS.match(text) or _SOURCE_LINE.match(sub):
                continue
            if _FRAME_FILE.match(text):
                after_frame = True
                continue
            if after_frame:
                after_frame = False
                if not _EXCEPTION.match(text) and not _CHATTER.match(text):
                    continue  # the frame's source line, unindented by Meltano
            if _CHATTER.match(text):
                continue
            if sub.startswith("\t") and not kept:
                continue  # the continuation of a repeated line
            level = "info" if from_plugin else parsed.level
            if found := _LEVEL_PREFIX.match(text):
                word = found.group(1).lower()
                level = {"warn": "warning", "critical": "error", "fatal": "error"}.get(word, word)
                text = text[found.end() :]
            if discovery := _DISCOVERY_FAILED.match(text):
                text = f"Catalog discovery failed (exit code {discovery.group(1)})."
            exception = bool(_EXCEPTION.match(text))
            # A continuation line (tab-indented) belongs to the exception line before it.
            if sub.startswith("\t") and lines and lines[-1].exception:
                previous = lines[-1].text
                joined = f"{previous}{'' if previous.endswith(('.', '?', '!')) else '.'} {text}"
                lines[-1] = _OutputLine(lines[-1].level, joined, lines[-1].from_plugin, True)
                continue
            kept = text not in seen
            if kept:
                seen.add(text)
                lines.append(_OutputLine(level, text, from_plugin, exception))
    return lines


def _shorten(text: str, limit: int = _MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _clean_message(text: str) -> str:
    text = _EXCEPTION_PREFIX.sub("", text).strip() or text
    text = re.sub(r"\s+", " ", text).strip()
    return _shorten(text[:1].upper() + text[1:])


def _key_lines(lines: list[_OutputLine]) -> list[_OutputLine]:
    """The lines that describe the failure, best first."""
    errors = [ln for ln in lines if ln.level == "error" and not ln.exception]
    exceptions = [ln for ln in lines if ln.exception]
    # The last error a plugin logged, then the outermost exception, then Meltano's own.
    ordered = [ln for ln in reversed(errors) if not ln.text.startswith("Catalog discovery")]
    ordered += list(reversed(exceptions))
    ordered += [ln for ln in errors if ln.text.startswith("Catalog discovery")]
    return ordered


def _classify(
    connector: ConnectorSpec,
    output: str,
    timed_out: bool,
    returncode: int | None,
    timeout_s: float,
    result: _Builder,
    details: dict[str, Any],
) -> ConnectionTestResult:
    lines = _output_lines(output, result.redact)
    key = _key_lines(lines)
    if not timed_out and returncode != 0:
        details["output_tail"] = [_shorten(ln.text) for ln in lines[-_TAIL_LINES:]]
    if timed_out:
        last = _clean_message(key[0].text) if key else ""
        return result.fail(
            "timeout",
            f"The {connector.label} test did not finish within {timeout_s:g} s"
            + (f"; last error: {last}" if last else "."),
            _hint("timeout", connector, timeout_s),
            details,
        )
    if returncode == 0:
        return result.done(
            True,
            "ok",
            f"Connected to {connector.label}: the extractor read a first record.",
            "",
            details,
        )
    if any(_NO_RECORD in ln.text for ln in lines):
        # Meltano says so only when the tap itself finished without an error.
        details["warning"] = (
            "The extractor connected and finished without an error, but read no record: "
            "the tested streams may be empty."
        )
        return result.done(
            True,
            "ok",
            f"Connected to {connector.label}, but the tested streams returned no record.",
            "",
            details,
        )
    searched = [ln.text.lower() for ln in key] or [ln.text.lower() for ln in lines]
    reason: Reason = "connector_error"
    for candidate, pattern in _RULES:
        if any(pattern.search(text) for text in searched):
            reason = candidate
            break
    if key:
        message = _clean_message(key[0].text)
    elif lines:
        message = _clean_message(lines[-1].text)
    else:
        message = f"Meltano exited with code {returncode} without saying why."
    if not message.endswith((".", "?", "!", "…")):
        message += "."
    return result.fail(reason, message, _hint(reason, connector, timeout_s), details)
