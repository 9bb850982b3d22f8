"""The native Salesforce connection test, against the real local sandbox server.

Also the reading of ``meltano config test`` output, from output shaped like Meltano's.
"""

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrations_platform.catalog import load_catalog
from integrations_platform.runner import connection_test as ct
from integrations_platform.runner.connection_test import ConnectionTestResult
from integrations_platform.runner.connection_test.meltano import _classify
from integrations_platform.runner.connection_test.result import _Builder
from integrations_platform.runner.processes import Finished
from integrations_platform.sandbox import SalesforceSandbox, SandboxCredentials
from integrations_platform.settings import PROJECT_ROOT, Settings

CATALOG = load_catalog(PROJECT_ROOT / "connector_catalog")
SALESFORCE = CATALOG.get("salesforce")
POSTGRES = CATALOG.get("postgres")
CLIENT_ID = "ct-client-id"


@pytest.fixture
def server(canary: str) -> Iterator[SalesforceSandbox]:
    """The sandbox, with the canary as both client secret and refresh token."""
    credentials = SandboxCredentials(
        client_id=CLIENT_ID, client_secret=canary, refresh_token=canary
    )
    with SalesforceSandbox(credentials) as sandbox:
        yield sandbox


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"INTEGRATIONS_HOME": str(tmp_path / "home")})


def good_config(server: SalesforceSandbox, **overrides: object) -> dict[str, object]:
    creds = server.credentials
    config: dict[str, object] = {
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
    }
    config.update(overrides)
    return config


def check(
    server: SalesforceSandbox, settings: Settings, config: dict[str, object], **kwargs: float
) -> ConnectionTestResult:
    environ = {ct.LOGIN_URL_ENV: server.url}
    result = ct.test_connection(SALESFORCE, config, settings, environ, **kwargs)
    tokens = list(server._tokens)  # the access tokens the sandbox issued
    text = json.dumps(result.as_dict())
    for secret in [server.credentials.client_secret, server.credentials.refresh_token, *tokens]:
        assert secret not in text
    return result


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_catalog_says_how_each_connector_is_tested() -> None:
    assert SALESFORCE.connection_test == "salesforce_oauth"
    assert POSTGRES.connection_test == "meltano"


def test_ok_with_good_credentials_reports_the_api_quota(server, settings) -> None:
    server.set_api_usage(41, 15000)
    started = time.monotonic()
    result = check(server, settings, good_config(server))
    elapsed = time.monotonic() - started

    assert result.ok and result.reason == "ok"
    assert result.hint == ""
    details = result.details
    # The limits request itself is one more API request.
    assert details["api_requests_used"] == 42
    assert details["api_requests_max"] == 15000
    assert details["api_requests_remaining"] == 14958
    assert details["instance_url"] == server.url
    assert "warning" not in details
    assert "42 of 15000" in result.message
    assert elapsed < 2.0 and result.duration_s <= elapsed
    assert server.request_log == [
        ("POST", "/services/oauth2/token"),
        ("GET", "/services/data/v61.0/limits"),
    ]
    as_dict = result.as_dict()
    assert set(as_dict) == {"ok", "reason", "message", "hint", "duration_s", "details"}
    json.dumps(as_dict)  # JSON-ready


@pytest.mark.parametrize(
    ("override", "hint_says"),
    [
        ({"refresh_token": "a-revoked-refresh-token"}, "expired or revoked"),
        ({"client_id": "another-client-id"}, "Check the Client ID"),
        ({"client_secret": "another-client-secret"}, "Check the Client Secret"),
    ],
    ids=["invalid_grant", "invalid_client_id", "invalid_client"],
)
def test_refused_logins_are_authentication_problems(server, settings, override, hint_says) -> None:
    result = check(server, settings, good_config(server, **override))

    assert not result.ok and result.reason == "authentication"
    assert hint_says in result.hint
    assert result.details["error"] in ("invalid_grant", "invalid_client_id", "invalid_client")
    assert server.request_log == [("POST", "/services/oauth2/token")]


def test_usage_above_the_quota_setting_is_a_quota_problem(server, settings) -> None:
    server.set_api_usage(14000, 15000)

    result = check(server, settings, good_config(server))

    assert not result.ok and result.reason == "rate_limit"
    assert result.details["api_requests_used"] == 14001
    assert result.details["api_requests_remaining"] == 999
    assert result.details["quota_percent_total"] == 80
    assert "daily reset" in result.hint and "Total API quota" in result.hint


def test_a_higher_quota_setting_lets_the_same_usage_pass(server, settings) -> None:
    server.set_api_usage(14000, 15000)

    result = check(server, settings, good_config(server, quota_percent_total=95))

    assert result.ok and result.details["quota_percent_total"] == 95


@pytest.mark.parametrize(
    ("code", "reason", "hint_says"),
    [
        ("REQUEST_LIMIT_EXCEEDED", "rate_limit", "daily reset"),
        ("API_DISABLED_FOR_ORG", "permission", '"API Enabled"'),
        ("INSUFFICIENT_ACCESS", "permission", '"API Enabled"'),
        ("INVALID_SESSION_ID", "authentication", "refresh token"),
        ("SERVER_UNAVAILABLE", "connector", "status.salesforce.com"),
    ],
)
def test_api_errors_after_login(server, settings, code, reason, hint_says) -> None:
    server.fail_requests_with(code)

    result = check(server, settings, good_config(server))

    assert not result.ok and result.reason == reason
    assert result.details["error_code"] == code
    assert code in result.message
    assert hint_says in result.hint


def test_a_closed_port_is_a_network_problem(settings, canary) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    config = {"client_id": CLIENT_ID, "client_secret": canary, "refresh_token": canary}

    result = ct.test_connection(SALESFORCE, config, settings, {ct.LOGIN_URL_ENV: url})

    assert not result.ok and result.reason == "network"
    assert "Connection refused" in result.message
    assert canary not in json.dumps(result.as_dict())


def test_a_server_that_never_answers_is_a_timeout(settings, canary) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        config = {"client_id": CLIENT_ID, "client_secret": canary, "refresh_token": canary}

        result = ct.test_connection(
            SALESFORCE, config, settings, {ct.LOGIN_URL_ENV: url}, timeout_s=0.5
        )

    assert not result.ok and result.reason == "timeout"
    assert result.duration_s < 2.0


def test_a_token_for_another_org_is_ok_with_a_warning(server, settings) -> None:
    config = good_config(server, instance_url="https://acme.my.salesforce.com")

    result = check(server, settings, config)

    assert result.ok
    assert "https://acme.my.salesforce.com" in result.details["warning"]


def test_the_same_org_in_another_spelling_gets_no_warning(server, settings) -> None:
    config = good_config(server, instance_url=server.url.replace("http://", "HTTP://") + "/")

    result = check(server, settings, config)

    assert result.ok and "warning" not in result.details


def test_an_invalid_config_is_reported_without_a_request(server, settings, canary) -> None:
    result = check(server, settings, {"client_id": CLIENT_ID, "client_secret": canary})

    assert not result.ok and result.reason == "configuration"
    assert result.details["field_errors"] == {"refresh_token": "required secret is not set"}
    assert server.request_log == []


def test_the_login_url() -> None:
    assert ct.salesforce_login_url({}, {}) == "https://login.salesforce.com"
    assert ct.salesforce_login_url({"is_sandbox": True}, {}) == "https://test.salesforce.com"
    local = {ct.LOGIN_URL_ENV: "http://127.0.0.1:8765/"}
    assert ct.salesforce_login_url({"is_sandbox": True}, local) == "http://127.0.0.1:8765"


def test_secrets_and_the_access_token_never_reach_the_result(canary, settings) -> None:
    """A server that echoes everything it got, the access token included, in its errors."""
    token = f"00D000000000001!{canary}-access"
    limits_calls: list[str] = []

    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            self._send(200, {"access_token": token, "instance_url": host, "id": "x"})

        def do_GET(self) -> None:  # noqa: N802
            limits_calls.append(self.headers["Authorization"])
            said = f"bad session {self.headers['Authorization']} for {canary}"
            self._send(500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": said}])

        def _send(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        config = {"client_id": CLIENT_ID, "client_secret": canary, "refresh_token": canary}
        result = ct.test_connection(SALESFORCE, config, settings, {ct.LOGIN_URL_ENV: url})
    finally:
        httpd.shutdown()
        httpd.server_close()

    assert limits_calls == [f"Bearer {token}"]
    assert result.reason == "connector"
    text = json.dumps(result.as_dict())
    assert "bad session Bearer ********" in text
    assert canary not in text and token not in text


# -- reading `meltano config test` output -------------------------------------------------


def meltano_output(*events: tuple[str, str, str]) -> str:
    """Lines as Meltano writes them with MELTANO_CLI_LOG_FORMAT=json."""
    lines = ["2026-01-01T00:00:00.000000Z [info     ] meltano      Meltano 4.4.1, Python 3.11"]
    for source, level, event in events:
        line: dict[str, str] = {"event": event, "level": level}
        if source != "meltano":
            line.update({"stdio": "stderr", "type": "discovery", "name": source})
        lines.append(json.dumps(line))
    return "\n".join(lines) + "\n"


def classify(output: str, returncode: int = 1, secrets: tuple[str, ...] = ()):
    builder = _Builder(time.monotonic(), list(secrets))
    return _classify(POSTGRES, Finished(output, "", returncode, False), 30.0, builder, {})


TAP = "tap-postgres"
FRAME = '  File "/venv/lib/python3.11/site-packages/psycopg2/__init__.py", line 122, in connect'


@pytest.mark.parametrize(
    ("error", "reason", "message"),
    [
        (
            'connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
            'database "nope" does not exist',
            "configuration",
            'Connection to server at "127.0.0.1", port 5432 failed: FATAL: '
            'database "nope" does not exist.',
        ),
        (
            'connection to server at "127.0.0.1", port 1 failed: Connection refused',
            "network",
            'Connection to server at "127.0.0.1", port 1 failed: Connection refused. '
            "Is the server running on that host and accepting TCP/IP connections?",
        ),
        (
            'connection to server at "db", port 5432 failed: FATAL:  '
            'password authentication failed for user "app"',
            "authentication",
            'Connection to server at "db", port 5432 failed: FATAL: '
            'password authentication failed for user "app".',
        ),
        (
            "permission denied for table orders",
            "permission",
            "Permission denied for table orders.",
        ),
    ],
)
def test_a_tap_traceback_is_reduced_to_its_error(error, reason, message) -> None:
    output = meltano_output(
        ("meltano", "info", "Running catalog discovery"),
        (TAP, "info", "Traceback (most recent call last):"),
        (TAP, "info", FRAME),
        (TAP, "info", "    conn = _connect(dsn, connection_factory=connection_factory)"),
        (TAP, "info", "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"),
        (TAP, "info", f"sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) {error}"),
        (TAP, "info", "\tIs the server running on that host and accepting TCP/IP connections?")
        if reason == "network"
        else (TAP, "info", "(Background on this error at: https://sqlalche.me/e/20/e3q8)"),
        (
            "meltano",
            "error",
            "Plugin configuration is invalid\nCatalog discovery failed: command "
            "['tap-postgres', '--discover'] returned 1 with stderr:\n"
            f"Traceback (most recent call last):\n{FRAME}\n"
            f"sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) {error}\n"
            "Run 'meltano config list tap-postgres' to review the plugin settings.",
        ),
    )

    result = classify(output)

    assert (result.ok, result.reason, result.message) == (False, reason, message)
    assert all("File " not in line for line in result.details["output_tail"])


def test_what_the_tap_printed_while_tested_is_read_from_debug_lines() -> None:
    """At debug level Meltano logs each line the tap prints, stripped, through its test
    service; its own debug lines come through other loggers and are ignored."""

    def debug(event: str, logger: str = "meltano.core.plugin_test_service") -> str:
        return json.dumps({"event": event, "level": "debug", "_logger": f"<L {logger} (DEBUG)>"})

    output = "\n".join(
        [
            debug("Invoking: ['tap-postgres', '--config', 'x.json']", "meltano.core.invoker"),
            debug("Beginning sync of 'public-orders' in full_table mode"),
            debug("Traceback (most recent call last):"),
            debug('File "/venv/site-packages/sqlalchemy/engine/base.py", line 1967, in _exec'),
            debug("self.dialect.do_execute("),
            debug("psycopg2.errors.InsufficientPrivilege: permission denied for table orders"),
            debug('{"type": "SCHEMA", "stream": "public-orders", "schema": {}}'),
            json.dumps(
                {
                    "event": "Plugin configuration is invalid\n(Background on this error at: "
                    "https://sqlalche.me/e/20/f405)\nRun 'meltano config list tap-postgres' "
                    "to review the plugin settings.",
                    "level": "error",
                }
            ),
        ]
    )

    result = classify(output)

    assert result.reason == "permission"
    assert result.message == "Permission denied for table orders."
    assert result.details["output_tail"] == [
        "Beginning sync of 'public-orders' in full_table mode",
        "psycopg2.errors.InsufficientPrivilege: permission denied for table orders",
    ]


def test_secrets_in_the_output_are_masked(canary) -> None:
    output = meltano_output(
        ("tap-x", "info", f"INFO Making POST request with body {{'client_secret': '{canary}'}}"),
        ("tap-x", "info", f"CRITICAL 401 Client Error: Unauthorized, secret {canary}"),
    )

    result = classify(output, secrets=(canary,))

    assert result.reason == "authentication"
    assert result.message == "401 Client Error: Unauthorized, secret ********."
    assert canary not in json.dumps(result.as_dict())


def test_no_record_from_a_tap_that_finished_is_ok_with_a_warning() -> None:
    output = meltano_output(
        (
            "meltano",
            "error",
            "Plugin configuration is invalid\nNo RECORD or BATCH message received. Verify "
            "that at least one stream is selected using 'meltano select tap-postgres --list'.",
        ),
    )

    result = classify(output)

    assert result.ok and result.reason == "ok"
    assert "no record" in result.details["warning"]


def test_exit_zero_is_ok() -> None:
    result = classify(meltano_output(), returncode=0)

    assert result.ok and result.reason == "ok" and result.hint == ""
