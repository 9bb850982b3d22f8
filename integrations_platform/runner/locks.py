"""One sync per integration at a time, whatever launched it.

Dagster's run queue already keeps runs of one integration apart (a tag limit and a
pool). This lock is the last line: two run workers that start a sync of the same
integration anyway (a run launched around the queue, two deployments sharing one
database) take turns instead of interleaving writes to one incremental state.

The lock lives where the state lives: a PostgreSQL advisory lock in Meltano's system
database, or an ``flock`` beside the SQLite file. Both are released by the operating
system or the server when the holder dies, so a killed run never leaves it behind.
"""

import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from integrations_platform.databases import advisory_lock
from integrations_platform.settings import ENV_MELTANO_DATABASE_URI

POLL_S = 1.0
REPORT_EVERY_S = 30.0


def lock_key(state_id: str) -> int:
    """A signed 64-bit advisory-lock key for ``state_id`` (stable across processes)."""
    digest = hashlib.blake2b(f"integrations-sync:{state_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def integration_lock(
    meltano_database_uri: str, state_id: str, wait: Callable[[float], None]
) -> Iterator[None]:
    """Hold the sync lock of ``state_id``; ``wait(seconds_waited)`` is called while
    another holder keeps it (every :data:`REPORT_EVERY_S` seconds)."""
    url = make_url(meltano_database_uri)
    if url.get_backend_name() == "postgresql":
        with _advisory_lock(meltano_database_uri, state_id, wait):
            yield
    elif url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database).with_name(Path(url.database).name + ".locks") / f"{state_id}"
        with _file_lock(path, wait):
            yield
    else:
        yield


@contextmanager
def _advisory_lock(uri: str, state_id: str, wait: Callable[[float], None]) -> Iterator[None]:
    with advisory_lock(
        uri,
        lock_key(state_id),
        variable=ENV_MELTANO_DATABASE_URI,
        poll=lambda take: _until(take, wait),
    ):
        yield


@contextmanager
def _file_lock(path: Path, wait: Callable[[float], None]) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:

        def take() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        _until(take, wait)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _until(take: Callable[[], bool], wait: Callable[[float], None]) -> None:
    started = time.monotonic()
    next_report = started
    while not take():
        now = time.monotonic()
        if now >= next_report:
            wait(now - started)
            next_report = now + REPORT_EVERY_S
        time.sleep(POLL_S)
