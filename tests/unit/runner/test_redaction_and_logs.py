"""Redaction of secrets, and parsing of Meltano's JSON log lines and Singer metrics."""

import json
from urllib.parse import quote, quote_plus, urlencode

import pytest

from integrations_platform.runner.logs import LogLine, parse_line, parse_metric, record_count
from integrations_platform.runner.redaction import MASK, Redactor

# -- Redactor --------------------------------------------------------------------------

SECRET = 'p@ss word/"x"\\y=z&1+2'


def test_raw_secret_is_masked_everywhere() -> None:
    redactor = Redactor(["hunter2"])
    assert redactor.redact("a hunter2 b hunter2hunter2") == f"a {MASK} b {MASK}{MASK}"
    assert redactor


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        quote(SECRET, safe=""),
        quote_plus(SECRET, safe=""),
        json.dumps(SECRET)[1:-1],
        json.dumps(json.dumps(SECRET)[1:-1])[1:-1],
        urlencode({"client_secret": SECRET}).split("=", 1)[1],
    ],
    ids=["raw", "quote", "quote_plus", "json", "json-twice", "form-body"],
)
def test_encoded_forms_are_masked(form: str) -> None:
    text = f"before {form} after"
    assert Redactor([SECRET]).redact(text) == f"before {MASK} after"


def test_secret_inside_a_json_log_line_is_masked() -> None:
    inner = json.dumps({"client_secret": SECRET, "ok": 1})
    line = json.dumps({"event": f"config {inner}", "level": "info"})
    redacted = Redactor([SECRET]).redact(line)
    assert SECRET not in redacted
    assert json.dumps(SECRET)[1:-1] not in redacted
    assert json.dumps(json.dumps(SECRET)[1:-1])[1:-1] not in redacted
    assert MASK in redacted
    json.loads(redacted)  # still a JSON line


def test_secret_in_a_url_is_masked() -> None:
    token = "tok/en+with=special&chars"
    url = f"https://login.example.com/token?refresh_token={quote(token, safe='')}&x=1"
    redacted = Redactor([token]).redact(url)
    assert redacted == f"https://login.example.com/token?refresh_token={MASK}&x=1"


def test_a_secret_contained_in_another_is_fully_masked() -> None:
    redactor = Redactor(["abc", "abcdef123"])
    assert redactor.redact("x=abcdef123 y=abc") == f"x={MASK} y={MASK}"
    # The order the secrets are given in does not matter.
    assert Redactor(["abcdef123", "abc"]).redact("abcdef123") == MASK


def test_overlapping_secrets_leave_neither_visible() -> None:
    redacted = Redactor(["secret-one", "one-two"]).redact("value secret-one-two end")
    assert "secret-one" not in redacted and "one-two" not in redacted
    assert redacted.startswith(f"value {MASK}")


def test_regex_metacharacters_are_literal() -> None:
    redactor = Redactor(["a.b*c"])
    assert redactor.redact("a.b*c axbbbc") == f"{MASK} axbbbc"


@pytest.mark.parametrize("secrets", [[], [""], ["", ""]])
def test_no_secrets_is_a_no_op(secrets: list[str]) -> None:
    redactor = Redactor(secrets)
    assert not redactor
    for text in ("", "plain text", '{"a": "b"}', MASK):
        assert redactor.redact(text) == text


def test_empty_text_stays_empty() -> None:
    assert Redactor(["s"]).redact("") == ""


# -- parse_line ------------------------------------------------------------------------


def tap_line(event: str, name: str = "tap-salesforce", **extra: object) -> str:
    return json.dumps(
        {
            "name": name,
            "cmd_type": "extractor",
            "run_id": "f1d2",
            "state_id": "acme",
            "stdio": "stderr",
            "event": event,
            "level": "info",
            "timestamp": "2026-01-01T00:00:00Z",
            **extra,
        }
    )


def loader_line(event: str) -> str:
    return json.dumps(
        {
            "name": "target-jsonl",
            "cmd_type": "loader",
            "stdio": "stderr",
            "event": event,
            "level": "info",
        }
    )


def test_parse_tap_stderr_line() -> None:
    line = parse_line(tap_line("INFO Starting sync of Account") + "\n")
    assert line == LogLine("tap-salesforce", "extractor", "info", "INFO Starting sync of Account")
    assert line.format() == "[tap-salesforce] INFO Starting sync of Account"


@pytest.mark.parametrize(
    ("event", "level"),
    [
        ("ERROR Could not connect", "error"),
        ("CRITICAL boom", "error"),
        ("FATAL boom", "error"),
        ("WARNING slow", "warning"),
        ("WARN slow", "warning"),
        ("DEBUG detail", "debug"),
        ("INFO: fine", "info"),
        ("no level prefix", "info"),
    ],
)
def test_plugin_line_level_comes_from_the_message(event: str, level: str) -> None:
    assert parse_line(tap_line(event)).level == level


def test_parse_loader_line() -> None:
    line = parse_line(loader_line("INFO Writing Account"))
    assert (line.source, line.kind) == ("target-jsonl", "loader")


def test_parse_meltano_line() -> None:
    raw = json.dumps(
        {"event": "Block run completed", "level": "warning", "timestamp": "2026-01-01T00:00Z"}
    )
    line = parse_line(raw)
    assert line == LogLine("meltano", "meltano", "warning", "Block run completed")
    assert line.format() == "[meltano] Block run completed"


def test_meltano_line_keeps_its_own_level_even_with_a_level_word() -> None:
    raw = json.dumps({"event": "ERROR-looking text", "level": "info"})
    assert parse_line(raw).level == "info"


def test_meltano_line_with_exception() -> None:
    raw = json.dumps(
        {"event": "Extraction failed", "level": "error", "exception": "Traceback...\nBoom\n"}
    )
    line = parse_line(raw)
    assert line.level == "error"
    assert line.message == "Extraction failed\nTraceback...\nBoom"


def test_plain_non_json_line() -> None:
    line = parse_line("just some text\n")
    assert line == LogLine("meltano", "meltano", "info", "just some text")


@pytest.mark.parametrize("raw", ["[1, 2]", "42", '"text"', '{"no_event": true}', "{broken"])
def test_json_without_an_event_is_plain_text(raw: str) -> None:
    line = parse_line(raw)
    assert (line.source, line.kind, line.message) == ("meltano", "meltano", raw)


# -- metrics ---------------------------------------------------------------------------

SINGER_PYTHON_METRIC = (
    'INFO METRIC: {"type": "counter", "metric": "record_count", "value": 42, '
    '"tags": {"endpoint": "Account"}}'
)
SDK_METRIC = (
    '2026-01-01 00:00:00,000 | INFO     | singer_sdk.metrics   | METRIC: {"type": "counter", '
    '"metric": "record_count", "value": 7, "tags": {"stream": "public-orders", '
    '"endpoint": null, "context": {}}}'
)


def test_singer_python_record_count() -> None:
    line = parse_line(tap_line(SINGER_PYTHON_METRIC))
    metric = parse_metric(line)
    assert metric == {
        "type": "counter",
        "metric": "record_count",
        "value": 42,
        "tags": {"endpoint": "Account"},
    }
    assert record_count(metric) == ("Account", 42, None)


def test_sdk_record_count() -> None:
    line = parse_line(tap_line(SDK_METRIC, name="tap-postgres"))
    metric = parse_metric(line)
    assert metric is not None
    assert record_count(metric) == ("public-orders", 7, None)


def test_structured_logging_record_count() -> None:
    # A plugin with the `structured-logging` capability (Singer SDK 0.4x and later):
    # Meltano passes its metric on as the field metric_info of the event "METRIC".
    counter = {
        "type": "counter",
        "metric": "record_count",
        "value": 4,
        "tags": {"stream": "customers", "pid": 1, "context": {}},
    }
    raw = tap_line(
        "METRIC",
        name="tap-spreadsheets",
        metric_info=counter,
        plugin_logger="singer_sdk.metrics",
        app_name="singer-sdk",
    )
    metric = parse_metric(parse_line(raw))
    assert metric == counter
    assert record_count(metric) == ("customers", 4, None)


def test_sdk_stream_tag_wins_over_endpoint() -> None:
    metric = {
        "type": "counter",
        "metric": "record_count",
        "value": 3,
        "tags": {"stream": "orders", "endpoint": "/v1/orders"},
    }
    assert record_count(metric) == ("orders", 3, None)


@pytest.mark.parametrize(
    "metric",
    [
        {
            "type": "timer",
            "metric": "http_request_duration",
            "value": 0.3,
            "tags": {"endpoint": "Account"},
        },
        {
            "type": "counter",
            "metric": "http_request_count",
            "value": 5,
            "tags": {"endpoint": "Account"},
        },
        {"type": "timer", "metric": "record_count", "value": 5, "tags": {"stream": "a"}},
        {"type": "counter", "metric": "record_count", "value": 5, "tags": {}},
        {"type": "counter", "metric": "record_count", "value": 5},
        {"type": "counter", "metric": "record_count", "value": "5", "tags": {"stream": "a"}},
    ],
)
def test_other_metrics_are_not_record_counts(metric: dict[str, object]) -> None:
    assert record_count(metric) is None


def test_loader_metrics_are_parsed_but_named_for_the_loader() -> None:
    # The runner counts rows only from lines whose source is the extractor.
    line = parse_line(loader_line(SINGER_PYTHON_METRIC))
    assert line.kind == "loader" and line.source != "tap-salesforce"
    assert parse_metric(line) is not None


def test_meltano_and_plain_lines_are_ignored_for_metrics() -> None:
    assert parse_metric(parse_line(json.dumps({"event": SINGER_PYTHON_METRIC}))) is None
    assert parse_metric(parse_line(SINGER_PYTHON_METRIC)) is None


@pytest.mark.parametrize(
    "event",
    ["INFO Synced 42 records", "INFO METRIC: {not json}", 'INFO METRIC: ["a list"]'],
)
def test_tap_lines_without_a_metric(event: str) -> None:
    assert parse_metric(parse_line(tap_line(event))) is None
