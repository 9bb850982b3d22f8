"""`integrations up` owns its processes: one per home, and its stack stops with it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from integrations_platform.errors import PlatformError
from integrations_platform.supervisor import (
    HOME_MARKER_ENV,
    SESSION_ENV,
    HomeLock,
    Supervisor,
    stack_processes,
)

# A child that ignores SIGTERM, makes its own session and starts a grandchild that does
# the same: what Dagster run workers and Meltano plugins look like to the watchdog.
STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if len(sys.argv) > 1:
    subprocess.Popen([sys.executable, __file__], start_new_session=True)
time.sleep(600)
"""


def _wait(predicate, seconds: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_second_lock_on_the_same_home_is_refused_naming_the_holder(tmp_path: Path) -> None:
    first = HomeLock(tmp_path / "home")
    first.acquire()
    try:
        with pytest.raises(PlatformError) as info:
            HomeLock(tmp_path / "home").acquire()
        assert f"pid {os.getpid()}" in info.value.reason
        assert "kill" in info.value.instruction
        # Another home is free.
        other = HomeLock(tmp_path / "other")
        other.acquire()
        other.release()
    finally:
        first.release()
    again = HomeLock(tmp_path / "home")
    again.acquire()
    again.release()


def test_the_watchdog_stops_every_marked_process_when_up_dies(tmp_path: Path) -> None:
    """`up` here is a real process killed with SIGKILL: its watchdog must sweep the stack,
    including processes in their own sessions that ignore SIGTERM, and free the home."""
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN)
    home = tmp_path / "home"
    fake_up = tmp_path / "fake_up.py"
    fake_up.write_text(
        "import subprocess, sys, time\n"
        "from pathlib import Path\n"
        "from integrations_platform.supervisor import Supervisor\n"
        f"supervisor = Supervisor(Path({str(home)!r}))\n"
        "env = {}\n"
        "import os; env.update(os.environ)\n"
        "supervisor.start(env)\n"
        f"subprocess.Popen([sys.executable, {str(script)!r}, 'spawn'], env=env,\n"
        "                 start_new_session=True)\n"
        "print(supervisor.session, flush=True)\n"
        "time.sleep(600)\n"
    )
    up = subprocess.Popen(
        [sys.executable, str(fake_up)], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert up.stdout is not None
        session = up.stdout.readline().strip()
        assert session
        assert _wait(lambda: len(stack_processes(SESSION_ENV, session)) == 2, 20)
        assert len(stack_processes(HOME_MARKER_ENV, str(home.resolve()))) == 2
        with pytest.raises(PlatformError, match="is running on"):
            HomeLock(home).acquire()

        up.send_signal(signal.SIGKILL)
        up.wait()

        assert _wait(lambda: not stack_processes(SESSION_ENV, session), 15), stack_processes(
            SESSION_ENV, session
        )
        # The watchdog released the home once it had swept.
        assert _wait(lambda: _can_lock(home), 10)
    finally:
        if up.poll() is None:
            up.kill()
        for process in stack_processes(HOME_MARKER_ENV, str(home.resolve())):
            os.kill(process.pid, signal.SIGKILL)


def _can_lock(home: Path) -> bool:
    lock = HomeLock(home)
    try:
        lock.acquire()
    except PlatformError:
        return False
    lock.release()
    return True


def test_leftovers_of_an_earlier_up_are_named_and_refused(tmp_path: Path) -> None:
    home = (tmp_path / "home").resolve()
    env = {**os.environ, HOME_MARKER_ENV: str(home), SESSION_ENV: "earlier"}
    leftover = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], env=env)
    try:
        assert _wait(lambda: stack_processes(HOME_MARKER_ENV, str(home)), 10)
        with pytest.raises(PlatformError) as info:
            HomeLock(home).acquire()
        assert str(leftover.pid) in info.value.reason
        assert f"kill {leftover.pid}" in info.value.instruction
    finally:
        leftover.kill()
        leftover.wait()
    HomeLock(home).acquire()


def test_a_clean_stop_sweeps_and_frees_the_home(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path / "home")
    env = dict(os.environ)
    supervisor.start(env)
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], env=env, start_new_session=True
    )
    try:
        supervisor.stop()
        assert _wait(lambda: child.poll() is not None, 10)
        assert _can_lock(tmp_path / "home")
    finally:
        if child.poll() is None:
            child.kill()
