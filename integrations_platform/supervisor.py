"""``integrations up`` owns what it starts, even when it is killed outright.

Three pieces:

- :class:`HomeLock`: an exclusive ``flock`` on ``<home>/up.lock``, naming its holder, so
  a second ``up`` on the same home refuses instead of starting a second Dagster daemon.
- A session marker: every process of the stack (webserver, daemon, code servers, run
  workers, Meltano and its plugins, the API) inherits ``INTEGRATIONS_UP_SESSION`` in its
  environment, which survives re-parenting and new process groups.
- A watchdog (``python -m integrations_platform.supervisor``): a small process in its own
  session that holds the lock with ``up`` and waits for ``up``'s pipe to close. However
  ``up`` ends (Ctrl-C, SIGTERM, SIGKILL, a crash), the kernel closes the pipe; the
  watchdog then stops every process carrying the marker and releases the lock.
"""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from integrations_platform.errors import PlatformError
from integrations_platform.processes import process_alive
from integrations_platform.settings import ENV_HOME

SESSION_ENV = "INTEGRATIONS_UP_SESSION"
HOME_MARKER_ENV = "INTEGRATIONS_UP_HOME"
LOCK_NAME = "up.lock"
STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class StackProcess:
    """A live process started by an ``up``."""

    pid: int
    command: str


def _environ_of(pid: int) -> dict[bytes, bytes] | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def _command_of(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)[:200]


def stack_processes(variable: str, value: str) -> list[StackProcess]:
    """The live processes whose environment has ``variable=value`` (not this one)."""
    wanted = value.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        environ = _environ_of(int(entry.name))
        if environ is not None and environ.get(variable.encode()) == wanted:
            found.append(StackProcess(int(entry.name), _command_of(int(entry.name))))
    return found


def stop_stack(session: str, grace_s: float = STOP_GRACE_S) -> list[StackProcess]:
    """SIGTERM every process of ``session``, SIGKILL what is left after ``grace_s``."""
    stopped = stack_processes(SESSION_ENV, session)
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 0.0)):
        left = [p for p in stack_processes(SESSION_ENV, session) if process_alive(p.pid)]
        for process in left:
            try:
                os.kill(process.pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = [p for p in left if process_alive(p.pid)]
        # Processes started while the first signal went out are caught by the second.
    return stopped


class HomeLock:
    """The one ``up`` per home: an exclusive lock that names its holder."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise a clear error naming the ``up`` that holds it."""
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            pid = holder.get("pid", "?")
            started = holder.get("started", "an unknown time")
            raise PlatformError(
                f"Another `integrations up` (pid {pid}, started {started}) is running on "
                f"{self.home}, or is still stopping what it started",
                f"Stop it first (Ctrl-C in its terminal, or `kill {pid}`), or give this one "
                f"its own home: {ENV_HOME}=/another/folder integrations up.",
            ) from None
        leftovers = stack_processes(HOME_MARKER_ENV, str(self.home))
        if leftovers:
            os.close(fd)
            listed = "; ".join(f"{p.pid} ({p.command})" for p in leftovers[:10])
            pids = " ".join(str(p.pid) for p in leftovers)
            raise PlatformError(
                f"Processes of an earlier `integrations up` on {self.home} are still "
                f"running: {listed}",
                f"Stop them first: `kill {pids}`.",
            )
        os.ftruncate(fd, 0)
        record = {"pid": os.getpid(), "started": datetime.now(UTC).isoformat(timespec="seconds")}
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self.fd = fd

    def release(self) -> None:
        """Give the lock up (the watchdog may still hold it until it has cleaned up)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _read_holder(fd: int) -> dict[str, object]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class Supervisor:
    """Marks the stack's processes and starts the watchdog that outlives ``up``."""

    def __init__(self, home: Path) -> None:
        self.home = home.resolve()
        self.session = uuid.uuid4().hex
        self.lock = HomeLock(self.home)
        self._watchdog: subprocess.Popen[bytes] | None = None

    def start(self, environ: dict[str, str]) -> None:
        """Lock the home, start the watchdog, and mark ``environ`` for every child."""
        self.lock.acquire()
        assert self.lock.fd is not None
        self._watchdog = subprocess.Popen(
            [sys.executable, "-m", "integrations_platform.supervisor", self.session],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            pass_fds=(self.lock.fd,),
            start_new_session=True,  # a signal to up's process group does not reach it
            env={k: v for k, v in os.environ.items() if k not in (SESSION_ENV, HOME_MARKER_ENV)},
        )
        environ[SESSION_ENV] = self.session
        environ[HOME_MARKER_ENV] = str(self.home)

    def stop(self) -> None:
        """``up`` is done: let the watchdog sweep what is left and release the lock."""
        watchdog = self._watchdog
        self.lock.release()
        if watchdog is not None and watchdog.stdin is not None:
            watchdog.stdin.close()
            try:
                watchdog.wait(timeout=STOP_GRACE_S + 10)
            except subprocess.TimeoutExpired:
                watchdog.kill()


def main(argv: list[str]) -> int:
    """The watchdog: ``python -m integrations_platform.supervisor SESSION``.

    Waits until up's pipe on standard input closes (however up ended), then stops the
    stack; the lock it inherited is released when it exits.
    """
    # Ctrl-C in up's terminal is up's business: the watchdog waits for the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while True:
        try:
            if not os.read(0, 1024):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    stop_stack(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
