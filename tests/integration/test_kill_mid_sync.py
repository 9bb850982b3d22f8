"""SIGKILL to a sync's Meltano process group mid-run (mid-batch): the incremental state
stays at the last bookmark the target committed, no batch file is left behind, and the
next run completes with no row missing."""

import os
import signal
import threading
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from integrations_platform.keys import state_id
from integrations_platform.runner.state import get_state
from tests.conftest import START, day
from tests.integration.helpers import (
    files_containing,
    materialize,
    rows_by_asset,
    source_config,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")

FIRST, MORE = 1_000, 100_000
ROWS = FIRST + MORE


@pytest.fixture
def big_source(postgres_database):
    engine = sa.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE public.events (id bigint PRIMARY KEY, "
                "updated_at timestamptz NOT NULL, payload text)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO public.events SELECT g, "
                f"timestamptz '{START}' + g * interval '1 second', repeat('x', 40) "
                f"FROM generate_series(1, {FIRST}) AS g"
            )
        )
    engine.dispose()
    return postgres_database


def _meltano_children() -> list[int]:
    """This process's child processes running Meltano (a sync's process group leaders)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"meltano" in cmdline:
            found.append(int(entry.name))
    return found


def _warehouse(url: str) -> tuple[int, int, object]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            exists = conn.execute(sa.text("SELECT to_regclass('shop.events')")).scalar()
            if exists is None:
                return 0, 0, None
            return tuple(
                conn.execute(
                    sa.text("SELECT count(*), count(DISTINCT id), max(updated_at) FROM shop.events")
                ).one()
            )
    finally:
        engine.dispose()


def _add_rows(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO public.events SELECT g, "
                f"timestamptz '{day(10)}' + g * interval '1 second', repeat('y', 40) "
                f"FROM generate_series({FIRST + 1}, {ROWS}) AS g"
            )
        )
    engine.dispose()


@pytest.mark.parametrize("platform", ["postgres"], indirect=True)
def test_a_killed_sync_leaves_the_last_committed_bookmark_and_loses_no_row(
    platform, big_source, warehouse_url, dagster_home
):
    stored = platform.service.add(
        "postgres",
        "shop",
        source_config(big_source),
        streams=["public-events:updated_at"],
        destination="postgres",
        start_date=START,
    )
    sid = state_id(stored.name, stored.integration.id)

    def bookmark() -> datetime:
        state = get_state(platform.settings, os.environ, sid)
        return datetime.fromisoformat(state["bookmarks"]["public-events"]["replication_key_value"])

    with platform.dagster_instance(dagster_home) as instance:
        first = materialize(platform, "shop", instance)
        assert rows_by_asset(first) == {"public_events": FIRST}
        committed = bookmark()
        assert _warehouse(warehouse_url)[:2] == (FIRST, FIRST)

        _add_rows(big_source)
        outcome: dict[str, object] = {}
        run = threading.Thread(
            target=lambda: outcome.update(
                result=materialize(platform, "shop", instance, raise_on_error=False)
            )
        )
        run.start()
        # Mid-sync: the warehouse already holds some of the new rows (the target flushes
        # a batch at a time), and more are coming.
        wait_for(lambda: _warehouse(warehouse_url)[0] > FIRST, 300, "the first batch of new rows")
        # PostgreSQL into PostgreSQL goes in batch files (runner/batch.py): killed mid-batch.
        assert list((platform.home / "runs").rglob("batch-*.json.gz"))
        leaders = _meltano_children()
        assert len(leaders) == 1, leaders
        os.killpg(leaders[0], signal.SIGKILL)
        run.join(120)
        assert not run.is_alive()
        assert not outcome["result"].success
        assert list((platform.home / "runs").rglob("batch-*")) == []  # none left behind

        # The state is still the last bookmark the target committed; rows it flushed
        # after that are in the warehouse, ahead of the state...
        assert bookmark() == committed
        loaded, distinct, _ = _warehouse(warehouse_url)
        assert FIRST < loaded < ROWS and loaded == distinct

        resumed = materialize(platform, "shop", instance)
    # ...so the next run re-reads them from the bookmark (not from the start)...
    assert MORE <= rows_by_asset(resumed)["public_events"] <= MORE + 1
    # ...and every row is there exactly once: the warehouse's primary key deduplicated
    # the re-read ones.
    assert _warehouse(warehouse_url)[:2] == (ROWS, ROWS)
    assert bookmark() > committed


WORKER = """
import os
from integrations_platform.integration import StreamSelection
from integrations_platform.runner.meltano import SyncRequest, run_sync
from integrations_platform.catalog import load_catalog
from integrations_platform.settings import Settings

from integrations_platform.destinations import embedded_target

settings = Settings.from_env()
catalog = load_catalog(settings.catalog_dir)
request = SyncRequest(
    integration="shop",
    state_id="shop-state",
    connector=catalog.get("postgres"),
    config=__CONFIG__,
    start_date=__START__,
    destination=embedded_target(catalog),
    streams=[StreamSelection("public-events", "updated_at")],
)
run_sync(request, settings, os.environ, lambda line: print(line.format(), flush=True))
"""


def test_a_killed_run_worker_leaves_no_secret_behind_after_the_next_sync(platform, big_source):
    """SIGKILL to the run worker itself (its cleanup never runs) and to its Meltano: the
    files Meltano wrote for that run (the tap's resolved config, with the password) are
    removed by the next sync on this home."""
    import subprocess
    import sys

    config = source_config(big_source)
    config["password"] = f"pw-{os.getpid()}-never-left-behind"
    _add_rows(big_source)
    code = WORKER.replace("__CONFIG__", repr(config)).replace("__START__", repr(START))
    worker = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.DEVNULL, start_new_session=True
    )
    # Mid-sync: Meltano has written the tap's resolved config for this run.
    wait_for(
        lambda: files_containing(platform.home / "runs", config["password"]),
        120,
        "the tap's config file",
    )
    meltano = [p for p in _children_of(worker.pid) if b"meltano" in _cmdline(p)]
    os.killpg(worker.pid, signal.SIGKILL)
    for pid in meltano:
        os.killpg(pid, signal.SIGKILL)
    worker.wait(30)
    assert files_containing(platform.home / "runs", config["password"]), (
        "the killed run left nothing to clean up: the test proves nothing"
    )

    # The next sync on this home clears what dead runs left.
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert files_containing(platform.home, config["password"]) == []


def _cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def _children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return found
