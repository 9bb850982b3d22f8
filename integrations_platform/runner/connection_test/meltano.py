"""Any connector, through ``meltano config test`` with the environment a sync gets."""

import json
import re
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.errors import PlatformError, SyncError
from integrations_platform.failures import FailureCategory, classify_text
from integrations_platform.integration import StreamSelection
from integrations_platform.runner.connection_test.result import (
    ConnectionTestResult,
    Reason,
    _Builder,
)
from integrations_platform.runner.logs import parse_line
from integrations_platform.runner.meltano import SyncRequest, prepare_sync
from integrations_platform.runner.processes import Finished, make_sys_dir, run_meltano
from integrations_platform.settings import Settings

# What the meltano strategy hands the tap: an early start date (so that an incremental
# stream has a record to show), one catalog stream, or every stream of a dynamic catalog.
_TEST_START_DATE = "2000-01-01T00:00:00Z"
_TEST_ID = "connection-test"
_ALL_STREAMS = "*"
_MAX_MESSAGE = 500
_TAIL_LINES = 15


# -- Any connector, through `meltano config test` --------------------------------------


def _test_streams(connector: ConnectorSpec) -> list[StreamSelection]:
    """One stream is enough to prove access; a dynamic catalog gets every stream."""
    if connector.streams:
        name = (connector.default_streams or [connector.streams[0].name])[0]
        return [StreamSelection(name)]
    return [StreamSelection(_ALL_STREAMS)]


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
        destination=None,  # `config test` runs the extractor alone
        streams=streams,
    )
    sys_dir = make_sys_dir(settings)
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
        remaining = max(result.started + timeout_s - time.monotonic(), 0.1)
        try:
            finished = run_meltano(args, settings, prepared.env, remaining)
        except SyncError as exc:
            return result.fail("connector", f"{exc.reason}.", exc.instruction, details)
    finally:
        shutil.rmtree(sys_dir, ignore_errors=True)
    details["exit_code"] = finished.returncode
    return _classify(connector, finished, timeout_s, result, details)


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
_UNRESOLVED = re.compile(
    r"name or service not known|temporary failure in name resolution|failed to resolve"
    r"|nodename nor servname|getaddrinfo failed|could not translate host name"
    r"|no address associated with hostname",
    re.IGNORECASE,
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
        "rate_limit": (
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
        "source": (
            f"A table, object or column the test reads does not exist in {label}: check "
            "the names of the selected streams."
        ),
        "destination": (
            "The destination could not be written: check INTEGRATIONS_WAREHOUSE_URL and "
            "that the warehouse accepts connections and writes."
        ),
        "connector": (
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


def _unwrapped(message: str, redact: Callable[[str], str]) -> list[tuple[str, str | None]]:
    """The lines of ``message``, each with the level it states when it is a JSON log
    record (plugins with the `structured-logging` capability log those): the record's
    message and exception, redacted again once unescaped; its debug records dropped."""
    lines: list[tuple[str, str | None]] = []
    for sub in message.splitlines():
        record = _json_record(sub)
        if record is None:
            lines.append((sub, None))
            continue
        level = str(record.get("level") or "info").lower()
        level = {"warn": "warning", "critical": "error", "fatal": "error"}.get(level, level)
        if level == "debug":
            continue
        texts = str(record.get("message") or "").splitlines()
        exception = record.get("exception")
        if isinstance(exception, dict):
            kind = ".".join(str(exception[k]) for k in ("module", "type") if exception.get(k))
            said = " ".join(str(exception.get("message") or "").split())
            texts.append(f"{kind}: {said}" if kind else said)
        elif isinstance(exception, str) and exception.strip():
            texts += exception.strip().splitlines()[-1:]
        lines += [(redact(text.strip()), level) for text in texts if text.strip()]
    return lines


def _json_record(line: str) -> dict[str, Any] | None:
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or "level" not in record:
        return None
    return record if "message" in record or "exception" in record else None


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
        for sub, record_level in _unwrapped(parsed.message, redact):
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
            level = record_level or ("info" if from_plugin else parsed.level)
            if record_level is None and (found := _LEVEL_PREFIX.match(text)):
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
    finished: Finished,
    timeout_s: float,
    result: _Builder,
    details: dict[str, Any],
) -> ConnectionTestResult:
    output, timed_out, returncode = finished.stdout, finished.timed_out, finished.returncode
    lines = _output_lines(output, result.redact)
    if not timed_out and returncode == 0:
        return result.done(
            True,
            "ok",
            f"Connected to {connector.label}: the extractor read a first record.",
            "",
            details,
        )
    if not timed_out and any(_NO_RECORD in ln.text for ln in lines):
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
    return classify_failure(connector, output, timed_out, returncode, timeout_s, result, details)


def _reason(texts: list[str]) -> FailureCategory:
    """The failure category of these lines; a host name that does not resolve is a
    network problem whatever else its line says (GitHub's names its /rate_limit URL)."""
    if any(_UNRESOLVED.search(text) for text in texts):
        return "network"
    return classify_text(*texts)


def classify_failure(
    connector: ConnectorSpec,
    output: str,
    timed_out: bool,
    returncode: int | None,
    timeout_s: float,
    result: _Builder,
    details: dict[str, Any],
    *,
    action: str = "test",
) -> ConnectionTestResult:
    """The failed result of a Meltano command that timed out or exited non-zero, with
    the reason, message and hint its (redacted) output gives; ``action`` names the
    command in messages ("test", "discovery")."""
    lines = _output_lines(output, result.redact)
    key = _key_lines(lines)
    if not timed_out:
        details["output_tail"] = [_shorten(ln.text) for ln in lines[-_TAIL_LINES:]]
    if timed_out:
        # Still retrying a host it could not reach when its time ran out (as the Singer
        # SDK's taps do, for half a minute): a network problem, not a slow source.
        unreachable = [ln for ln in lines if _reason([ln.text]) == "network"]
        evidence = unreachable[-1:] or key[:1]
        last = _clean_message(evidence[0].text) if evidence else ""
        reason: FailureCategory = "network" if unreachable else "timeout"
        return result.fail(
            reason,
            f"The {connector.label} {action} did not finish within {timeout_s:g} s"
            + (f"; last error: {last}" if last else "."),
            _hint(reason, connector, timeout_s),
            details,
        )
    reason = _reason([ln.text for ln in key or lines])
    if key:
        message = _clean_message(key[0].text)
    elif lines:
        message = _clean_message(lines[-1].text)
    else:
        message = f"Meltano exited with code {returncode} without saying why."
    if not message.endswith((".", "?", "!", "…")):
        message += "."
    return result.fail(reason, message, _hint(reason, connector, timeout_s), details)
