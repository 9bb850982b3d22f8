"""A running sync's rows so far: from the tap's metrics, an SDK target's batches and the
embedded destination's file, reported every few seconds by a thread of its own."""

import threading
from pathlib import Path

from integrations_platform.runner.progress import Progress, ProgressSnapshot


def test_the_largest_lower_bound_of_each_stream_is_shown(tmp_path: Path):
    file = tmp_path / "public-events.jsonl"
    file.write_text('{"old": 1}\n')  # an earlier sync's row is not this one's
    progress = Progress(
        ["public-events", "public-users"], lambda _: None, files={"public-events": file}
    )
    progress.extracted("public-users", 10_000)
    progress.line("Target sink for 'public-users' is full. Current size is '10000'. Draining...")
    progress.line("Target sink for 'public-users' is full. Current size is '10000'. Draining...")
    with file.open("a") as handle:
        handle.write('{"id": 1}\n{"id": 2}\n{"id": 3, "half": ')  # a line being written
    snapshot = progress.snapshot()
    assert snapshot.rows == {"public-events": 2, "public-users": 20_000}
    with file.open("a") as handle:
        handle.write("true}\n")
    assert progress.snapshot().rows["public-events"] == 3
    assert snapshot.total == 20_002


def test_a_report_comes_every_interval_until_stopped():
    reports: list[ProgressSnapshot] = []
    done = threading.Event()

    def report(snapshot: ProgressSnapshot) -> None:
        reports.append(snapshot)
        if len(reports) == 3:
            done.set()

    progress = Progress(["s"], report, every_s=0.05).start()
    progress.loaded("s", 7)
    assert done.wait(5)
    progress.stop()
    count = len(reports)
    assert reports[-1].rows == {"s": 7}
    assert "Progress: 7 rows in 0 s" in reports[-1].describe()
    threading.Event().wait(0.2)
    assert len(reports) == count  # nothing after stop


def test_a_failing_report_never_stops_the_ticker():
    calls: list[int] = []
    done = threading.Event()

    def report(_: ProgressSnapshot) -> None:
        calls.append(1)
        if len(calls) >= 2:
            done.set()
        raise RuntimeError("the store is down")

    progress = Progress(["s"], report, every_s=0.05).start()
    assert done.wait(5)
    progress.stop()
