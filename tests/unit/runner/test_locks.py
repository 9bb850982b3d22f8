"""The per-integration sync lock, on PostgreSQL and beside SQLite, across processes."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from integrations_platform.runner import locks
from integrations_platform.runner.locks import integration_lock

HOLDER = """
import sys, time
from integrations_platform.runner.locks import integration_lock
with integration_lock(sys.argv[1], "crm-state", lambda s: None):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.fixture(params=["sqlite", "postgres"])
def state_uri(request, tmp_path: Path, postgres_database: str) -> str:
    if request.param == "postgres":
        return postgres_database
    return f"sqlite:///{tmp_path / 'meltano-state.db'}"


def _hold_in_another_process(uri: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, uri],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_sync_waits_for_the_first_then_runs(state_uri, monkeypatch):
    monkeypatch.setattr(locks, "POLL_S", 0.05)
    order: list[str] = []
    waited: list[float] = []
    first_in = threading.Event()
    release = threading.Event()

    def first() -> None:
        with integration_lock(state_uri, "crm-state", waited.append):
            order.append("first in")
            first_in.set()
            release.wait(10)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(10)
    second_done = threading.Event()

    def second() -> None:
        with integration_lock(state_uri, "crm-state", waited.append):
            order.append("second in")
        second_done.set()

    other = threading.Thread(target=second)
    other.start()
    time.sleep(0.5)
    assert not second_done.is_set() and waited == [pytest.approx(0, abs=0.5)]
    release.set()
    thread.join(10)
    other.join(10)
    assert order == ["first in", "first out", "second in"]


def test_another_integration_is_not_blocked(state_uri):
    with integration_lock(state_uri, "crm-state", lambda s: None):
        with integration_lock(state_uri, "shop-state", lambda s: pytest.fail("blocked")):
            pass


def test_a_killed_holder_leaves_no_lock_behind(state_uri, monkeypatch):
    monkeypatch.setattr(locks, "POLL_S", 0.05)
    holder = _hold_in_another_process(state_uri)
    waited: list[float] = []
    blocked = threading.Event()

    def take() -> None:
        with integration_lock(state_uri, "crm-state", lambda s: (waited.append(s), blocked.set())):
            pass

    taker = threading.Thread(target=take)
    taker.start()
    assert blocked.wait(10), "the second process was not blocked by the holder"
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait(10)
    taker.join(20)
    assert not taker.is_alive(), "the lock outlived its killed holder"
