"""Reading `meltano config test` output of Singer SDK taps that log JSON records (the
`structured-logging` capability), and of taps still retrying an unreachable host when
the test's time runs out: shaped like what meltano-tap-hubspot, meltanolabs-tap-github
and tap-airtable print offline."""

import json
import time

from integrations_platform.catalog import load_catalog
from integrations_platform.runner.connection_test.meltano import classify_failure
from integrations_platform.runner.connection_test.result import ConnectionTestResult, _Builder
from integrations_platform.settings import PROJECT_ROOT

POSTGRES = load_catalog(PROJECT_ROOT / "connector_catalog").get("postgres")
HOST = "api.example.com"
UNRESOLVED = (
    f"HTTPSConnectionPool(host='{HOST}', port=443): Max retries exceeded with url: "
    f"/rate_limit (Caused by NameResolutionError(\"HTTPSConnection(host='{HOST}', port=443): "
    f"Failed to resolve '{HOST}' ([Errno -2] Name or service not known)\"))"
)


def record(level: str, message: str | None = None, **fields: object) -> str:
    """One line as an SDK tap with structured logging prints it."""
    line: dict[str, object] = {"level": level, "pid": 1, "logger_name": "tap-x"}
    if message is not None:
        line["message"] = message
    return json.dumps({**line, **fields})


def while_tested(line: str) -> str:
    """A line the tap printed while tested, as Meltano logs it at debug level."""
    logger = "<_FixedFindCallerLogger meltano.core.plugin_test_service (DEBUG)>"
    return json.dumps({"event": line, "level": "debug", "_logger": logger})


def discovery_failed(*stderr: str) -> str:
    event = (
        "Plugin configuration is invalid\nCatalog discovery failed: command ['tap-x', "
        "'--discover'] returned 1 with stderr:\n" + "\n".join(stderr)
    )
    return json.dumps({"event": event, "level": "error"})


def discovery_line(line: str) -> str:
    """A line the tap printed during discovery, as Meltano logs it while it runs."""
    return json.dumps(
        {"stdio": "stderr", "type": "discovery", "name": "tap-x", "level": "info", "event": line}
    )


def classify(
    *lines: str, timed_out: bool = False, secrets: tuple[str, ...] = ()
) -> ConnectionTestResult:
    builder = _Builder(time.monotonic(), list(secrets))
    output = "\n".join(lines) + "\n"
    return classify_failure(
        POSTGRES, output, timed_out, None if timed_out else 1, 12.0, builder, {}
    )


CONNECTION_ERROR = {
    "type": "ConnectionError",
    "module": "requests.exceptions",
    "message": UNRESOLVED,
    "traceback": [{"filename": "/venv/bin/tap-x", "lineno": 10}],
}


def test_a_json_record_is_read_as_its_level_and_message_not_as_raw_json() -> None:
    # The debug record's schema mentions "429 rate-limit errors": debug records are chatter.
    schema = {"request_delay_seconds": {"description": "Raise it on 429 rate-limit errors"}}
    result = classify(
        discovery_failed(
            record("info", "Skipping parse of env var settings..."),
            record("debug", f"Validating config using jsonschema: {schema}"),
            record("error", None, exception=CONNECTION_ERROR),
            record("debug", f"Starting new HTTPS connection (1): {HOST}:443"),
        )
    )

    assert result.reason == "network"
    assert result.message == UNRESOLVED + "."
    assert not any(line.startswith("{") for line in result.details["output_tail"])


def test_a_host_that_does_not_resolve_is_a_network_problem_whatever_its_url_says() -> None:
    # GitHub's DNS failure names its /rate_limit endpoint.
    result = classify(
        while_tested(record("error", "An unhandled error occurred while syncing 'repositories'")),
        while_tested(record("error", "Fatal error", exception=CONNECTION_ERROR)),
    )

    assert result.reason == "network"
    assert "Failed to resolve 'api.example.com'" in json.dumps(result.as_dict())


def test_a_test_still_retrying_an_unresolved_host_when_its_time_ran_out_is_network() -> None:
    backing_off = (
        f"Backing off _request(...) for 4.2s (requests.exceptions.ConnectionError: {UNRESOLVED})"
    )
    live = [
        record("info", backing_off),
        record("error", "Backing off 4.2 seconds after 2 tries calling function _request"),
    ]
    result = classify(
        json.dumps({"event": "Running catalog discovery", "level": "info"}),
        *(discovery_line(line) for line in live),
        timed_out=True,
    )

    assert result.reason == "network"
    assert result.message.startswith(
        "The PostgreSQL test did not finish within 12 s; last error: Backing off _request(...)"
    )
    assert result.hint.startswith("Check the host and port")


def test_a_test_that_ran_out_of_time_without_a_network_error_is_a_timeout() -> None:
    result = classify(
        while_tested(record("info", "Beginning full_table sync of 'public-orders'")),
        timed_out=True,
    )

    assert result.reason == "timeout"
    assert result.message == "The PostgreSQL test did not finish within 12 s."


def test_a_secret_escaped_inside_a_json_record_is_masked_once_unescaped() -> None:
    secret = 'canary"with-a-quote-5d1f'
    result = classify(
        while_tested(record("error", f"401 Client Error: Unauthorized for token {secret}")),
        secrets=(secret,),
    )

    assert result.reason == "authentication"
    assert "canary" not in json.dumps(result.as_dict())
