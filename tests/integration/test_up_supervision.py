"""`integrations up` for real: a second one on the same home refuses, and SIGKILL of the
first during a sync leaves no process of its stack behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from integrations_platform.errors import PlatformError
from integrations_platform.supervisor import HOME_MARKER_ENV, HomeLock, stack_processes
from tests.integration.helpers import free_port, start_up, wait_for

pytestmark = pytest.mark.usefixtures("meltano_plugins")
CLI = str(Path(sys.executable).parent / "integrations")


def test_sigkill_of_up_during_a_sync_stops_the_whole_stack(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "DAGSTER_"))}
    home = (tmp_path / "home").resolve()
    env["INTEGRATIONS_HOME"] = str(home)
    ports = [free_port() for _ in range(3)]
    api = f"http://127.0.0.1:{ports[1]}"
    up = start_up(tmp_path, env, ports, tmp_path / "up.log")
    try:
        wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{ports[0]}/server_info", timeout=2).is_success,
            240,
            "the Dagster webserver",
        )
        wait_for(lambda: httpx.get(f"{api}/healthz", timeout=2).is_success, 60, "the API")

        # A second `up` on the same home refuses at once, naming the first.
        second = subprocess.run(
            [CLI, "up", "--dagster-port", str(free_port()), "--api-port", str(free_port())],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 1, second.stdout + second.stderr
        assert f"pid {up.pid}" in second.stderr and str(home) in second.stderr
        assert up.poll() is None  # the first one still runs
        assert httpx.get(f"{api}/healthz", timeout=5).is_success

        token = (home / "api-token").read_text().strip()
        launched = httpx.post(
            f"{api}/api/v1/integrations/demo_salesforce/sync",
            headers={"Authorization": f"Bearer {token}"},
            json={},
            timeout=60,
        )
        assert launched.is_success, launched.text
        # Wait until the sync's Meltano pipeline runs under the stack's marker.
        meltano = wait_for(
            lambda: [
                p
                for p in stack_processes(HOME_MARKER_ENV, str(home))
                if "meltano" in p.command and " el " in f" {p.command} "
            ],
            180,
            "the sync's Meltano process",
        )
        stack = stack_processes(HOME_MARKER_ENV, str(home))
        commands = " | ".join(p.command for p in stack)
        assert "dagster" in commands and " api" in commands, commands
        assert meltano

        up.send_signal(signal.SIGKILL)
        up.wait()
        killed_at = time.monotonic()

        survivors = stack
        while time.monotonic() - killed_at < 20:
            survivors = stack_processes(HOME_MARKER_ENV, str(home))
            if not survivors:
                break
            time.sleep(0.2)
        assert survivors == [], [p.command for p in survivors]
        elapsed = time.monotonic() - killed_at
        assert elapsed < 15, elapsed
        # The home is free again: the lock a new `up` takes can be taken.
        lock = wait_for(lambda: _lockable(HomeLock(home)), 20, "the home lock")
        lock.release()
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
        for process in stack_processes(HOME_MARKER_ENV, str(home)):
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _lockable(lock: HomeLock) -> HomeLock | None:
    try:
        lock.acquire()
    except PlatformError:
        return None
    return lock
