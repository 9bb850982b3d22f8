"""Read Meltano's JSON log lines: who said what, and the Singer METRIC lines in them."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

_METRIC = re.compile(r"METRIC:\s*(\{.*\})\s*$")
_LEVEL = re.compile(r"^(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b[\s:]*")


@dataclass(frozen=True)
class LogLine:
    """One line of a sync's output."""

    source: str  # "meltano", or the plugin's name
    kind: str  # "meltano", "extractor", "loader"
    level: str  # "debug", "info", "warning", "error"
    message: str

    def redacted(self, redact: Callable[[str], str]) -> "LogLine":
        """The same line with its message (and source) passed through ``redact``."""
        return replace(self, source=redact(self.source), message=redact(self.message))

    def format(self) -> str:
        """``[tap-salesforce] INFO message`` as shown in the run log."""
        return f"[{self.source}] {self.message}"


def parse_line(raw: str) -> LogLine:
    """Parse one line Meltano wrote with ``MELTANO_CLI_LOG_FORMAT=json``."""
    text = raw.rstrip("\n")
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or "event" not in data:
        return LogLine("meltano", "meltano", "info", text)
    message = str(data.get("event", ""))
    metric = data.get("metric_info")
    if message == "METRIC" and isinstance(metric, dict):
        # A plugin with the `structured-logging` capability logs JSON, and Meltano passes
        # its metric on as a field: read as the classic `METRIC: {...}` text.
        message = f"METRIC: {json.dumps(metric)}"
    kind = str(data.get("cmd_type") or ("extractor" if data.get("type") == "discovery" else ""))
    source = str(data.get("name") or "meltano") if "stdio" in data else "meltano"
    level = str(data.get("level", "info"))
    if source != "meltano":
        found = _LEVEL.match(message)
        if found:
            found_level = found.group(1).lower()
            level = {"warn": "warning", "critical": "error", "fatal": "error"}.get(
                found_level, found_level
            )
    exception = data.get("exception")
    if isinstance(exception, str) and exception.strip():
        message = f"{message}\n{exception.rstrip()}"
    return LogLine(source, kind or "meltano", level, message)


def parse_metric(line: LogLine) -> dict[str, Any] | None:
    """The Singer metric a plugin's line carries, if any."""
    if line.source == "meltano":
        return None
    found = _METRIC.search(line.message)
    if not found:
        return None
    try:
        metric = json.loads(found.group(1))
    except ValueError:
        return None
    return metric if isinstance(metric, dict) else None


class RecordCount(NamedTuple):
    """A ``record_count`` counter: a delta for one stream (and one window, if tagged)."""

    stream: str
    value: int
    window: str | None = None


def record_count(metric: dict[str, Any]) -> RecordCount | None:
    """The count a ``record_count`` counter carries, else None.

    singer-python tags the stream as ``endpoint``; the Singer SDK as ``stream``; the
    window mapper adds ``window``. All emit deltas, so counts are summed by the caller.
    """
    if metric.get("metric") != "record_count" or metric.get("type") != "counter":
        return None
    tags = metric.get("tags") or {}
    stream = tags.get("stream") or tags.get("endpoint")
    value = metric.get("value")
    if not stream or not isinstance(value, int | float):
        return None
    window = tags.get("window")
    return RecordCount(str(stream), int(value), str(window) if window is not None else None)
