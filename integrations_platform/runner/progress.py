"""A running sync's progress: rows so far per stream and rows per second.

Nothing is added to the data's path. The numbers come from what the plugins already
say, each a lower bound of the rows moved so far, and the largest one is shown:

* the tap's ``record_count`` metrics (Singer taps log them about once a minute);
* a Singer SDK target's "sink is full ... Current size is 'N'. Draining" lines (every
  batch of rows it writes, 10,000 by default) and its own ``record_count`` metrics;
* for the embedded destination, the lines appended to each stream's file.

A ticker thread reports every ``every_s`` seconds, whether or not a plugin spoke.
"""

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Singer SDK targets (target_base.py), before each write of a full sink.
_DRAINING = re.compile(r"Target sink for '([^']+)' is full\. Current size is '(\d+)'")
EVERY_S = 5.0


@dataclass(frozen=True)
class ProgressSnapshot:
    """Rows so far per stream, and the whole sync's rate."""

    rows: dict[str, int]
    elapsed_s: float

    @property
    def total(self) -> int:
        """Rows of every stream."""
        return sum(self.rows.values())

    @property
    def rows_per_s(self) -> float:
        """Rows per second since the sync started."""
        return self.total / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def describe(self) -> str:
        """``Progress: 120,000 rows in 10 s (12,000 rows/s): public-events 120,000``"""
        per_stream = ", ".join(f"{name} {rows:,}" for name, rows in self.rows.items())
        return (
            f"Progress: {self.total:,} rows in {self.elapsed_s:.0f} s "
            f"({self.rows_per_s:,.0f} rows/s): {per_stream}"
        )


@dataclass
class _Stream:
    extracted: int = 0  # the tap's record_count deltas, summed
    drained: int = 0  # an SDK target's written batches, summed
    loaded: int = 0  # the target's record_count deltas, summed
    in_file: int = 0  # lines appended to the embedded destination's file
    file_offset: int | None = None

    @property
    def rows(self) -> int:
        return max(self.extracted, self.drained, self.loaded, self.in_file)


@dataclass
class Progress:
    """Collects a sync's counts; ``start`` reports them every ``every_s`` seconds to
    ``report`` from a thread of its own until ``stop``."""

    streams: Sequence[str]
    report: Callable[[ProgressSnapshot], None]
    # The embedded destination's file per stream (None for other destinations).
    files: Mapping[str, Path] = field(default_factory=dict)
    every_s: float = EVERY_S
    started: float = field(default_factory=time.monotonic)
    _counts: dict[str, _Stream] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._counts = {name: _Stream() for name in self.streams}
        for name, path in self.files.items():
            # Rows already in the file (an incremental sync appends) are not this sync's.
            self._counts[name].file_offset = path.stat().st_size if path.exists() else 0

    def extracted(self, stream: str, rows: int) -> None:
        """A ``record_count`` delta from the tap."""
        with self._lock:
            self._count(stream).extracted += rows

    def loaded(self, stream: str, rows: int) -> None:
        """A ``record_count`` delta from the target."""
        with self._lock:
            self._count(stream).loaded += rows

    def line(self, message: str) -> None:
        """A target's log line: counts the batches an SDK target writes."""
        found = _DRAINING.search(message)
        if found:
            with self._lock:
                self._count(found.group(1)).drained += int(found.group(2))

    def snapshot(self) -> ProgressSnapshot:
        """Rows so far per stream (reading the embedded destination's new lines)."""
        self._read_files()
        with self._lock:
            rows = {name: counts.rows for name, counts in self._counts.items()}
        return ProgressSnapshot(rows, time.monotonic() - self.started)

    def files_done(self) -> None:
        """Stop reading the embedded destination's files (their rows are counted; they
        may now be rewritten), keeping the counts."""
        self._read_files()
        with self._lock:
            self.files = {}

    def start(self) -> "Progress":
        """Report every ``every_s`` seconds until :meth:`stop`."""
        self._thread = threading.Thread(target=self._tick, name="sync-progress", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop reporting (waits for a report in progress)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _tick(self) -> None:
        while not self._stopped.wait(self.every_s):
            try:
                self.report(self.snapshot())
            except Exception:  # noqa: BLE001 - a report must never stop the sync
                continue

    def _count(self, stream: str) -> _Stream:
        return self._counts.setdefault(stream, _Stream())

    def _read_files(self) -> None:
        for name, path in self.files.items():
            counts = self._counts[name]
            offset = counts.file_offset or 0
            lines, read_to = 0, offset
            try:
                if path.stat().st_size < offset:  # the file was started again
                    offset = read_to = 0
                with path.open("rb") as handle:
                    handle.seek(offset)
                    position = offset
                    while chunk := handle.read(1 << 20):
                        found = chunk.count(b"\n")
                        if found:
                            lines += found
                            # Up to the last whole line: a line being written counts later.
                            read_to = position + chunk.rfind(b"\n") + 1
                        position += len(chunk)
            except OSError:  # not written yet
                continue
            with self._lock:
                counts.in_file += lines
                counts.file_offset = read_to
