"""How Meltano processes start and stop, and the private system directory each run
gets (where Meltano writes the resolved config while a plugin runs)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from integrations_platform.errors import SyncError
from integrations_platform.processes import process_alive
from integrations_platform.settings import Settings

# Plugin venvs live in these folders of the shared `.meltano` directory.
_SHARED_SYS_DIRS = ("extractors", "loaders", "mappers", "utilities")


def meltano_executable() -> str:
    """The ``meltano`` command beside this interpreter (else from PATH)."""
    here = Path(sys.executable).parent / "meltano"
    return str(here) if here.exists() else "meltano"


def make_sys_dir(settings: Settings) -> Path:
    """A private Meltano system directory for one run, sharing the plugin venvs.

    Its name carries this process's id. A run worker killed outright never deletes its
    directory, where Meltano keeps the tap's resolved config (secrets) while it runs:
    the next sync removes the directories of processes that no longer exist.
    """
    shared = settings.meltano_project_dir / ".meltano"
    root = _scratch_root(settings)
    remove_orphaned_sys_dirs(root)
    sys_dir = Path(tempfile.mkdtemp(prefix=f"sync-{os.getpid()}-", dir=root))
    for name in _SHARED_SYS_DIRS:
        (shared / name).mkdir(parents=True, exist_ok=True)
        (sys_dir / name).symlink_to(shared / name, target_is_directory=True)
    return sys_dir


def remove_orphaned_sys_dirs(root: Path) -> list[Path]:
    """Delete the per-run directories under ``root`` whose process is gone."""
    removed = []
    for path in root.glob("sync-*-*"):
        pid = path.name.split("-")[1]
        if not pid.isdigit() or process_alive(int(pid)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _scratch_root(settings: Settings) -> Path:
    root = settings.home / "runs"
    root.mkdir(parents=True, exist_ok=True)
    return root


def start_meltano(
    args: Sequence[str],
    settings: Settings,
    env: Mapping[str, str],
    *,
    separate_stderr: bool = False,
) -> subprocess.Popen[str]:
    """Meltano in the project, in its own process group (to stop it whole), its output
    merged (or, with ``separate_stderr``, its logs apart from what it prints) and
    line-buffered; a clear error when it cannot start."""
    try:
        return subprocess.Popen(
            list(args),
            cwd=settings.meltano_project_dir,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if separate_stderr else subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
    except OSError as exc:
        raise SyncError(
            f"Cannot start Meltano: {exc.strerror}",
            "Install the project (`pip install -e .`) so that `meltano` is on the PATH.",
        ) from None


def stop_process_group(
    process: subprocess.Popen[Any],
    grace_s: float = 10.0,
    first: signal.Signals = signal.SIGTERM,
) -> None:
    """Signal the process's group (``first``: SIGTERM, or SIGINT as Ctrl-C would), then
    SIGKILL whatever is left after ``grace_s``."""
    try:
        pgid = os.getpgid(process.pid)
    except ProcessLookupError:
        return
    for sig, wait in ((first, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            # The leader is gone; make sure no plugin outlives it.
            os.killpg(pgid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


@dataclass(frozen=True)
class Finished:
    """What a Meltano command printed, and how it ended."""

    stdout: str
    stderr: str  # "" when merged into stdout
    returncode: int | None
    timed_out: bool


def run_meltano(
    args: Sequence[str],
    settings: Settings,
    env: Mapping[str, str],
    timeout_s: float,
    *,
    separate_stderr: bool = False,
) -> Finished:
    """Run a Meltano command to its end or ``timeout_s``; its whole process group is
    stopped after a timeout, and on the way out whatever happens."""
    process = start_meltano(args, settings, env, separate_stderr=separate_stderr)
    try:
        try:
            out, err = process.communicate(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_process_group(process, grace_s=2.0)
            try:
                out, err = process.communicate(timeout=5.0)
            except subprocess.TimeoutExpired:  # a stray holds the pipe: give up on it
                out, err = "", ""
    finally:
        if process.poll() is None:
            stop_process_group(process, grace_s=2.0)
    return Finished(out or "", err or "", process.returncode, timed_out)
