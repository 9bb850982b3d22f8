"""Helpers for the integration tests: build the real definitions and materialize them."""

import json
from pathlib import Path

import dagster as dg

from integrations_platform.orchestration.definitions import build_definitions
from integrations_platform.orchestration.resources import MeltanoResource


def integration_assets(platform, name: str) -> dg.AssetsDefinition:  # noqa: ANN001
    """The real assets definition of integration ``name``, as the code server builds it."""
    snapshots = [s.for_orchestration() for s in platform.service.store.list_all()]
    defs = build_definitions(platform.catalog, snapshots)
    for assets in defs.assets or []:
        if isinstance(assets, dg.AssetsDefinition) and assets.op.name == f"{name}_sync":
            return assets
    raise AssertionError(f"no assets for {name}")


def materialize(
    platform,  # noqa: ANN001
    name: str,
    instance: dg.DagsterInstance,
    streams: list[str] | None = None,
    raise_on_error: bool = True,
    full_refresh: bool = False,
    partition_range: tuple[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialize integration ``name`` (or some of its streams) on ``instance``."""
    assets = integration_assets(platform, name)
    selection = [dg.AssetKey([name, s]) for s in streams] if streams is not None else None
    return dg.materialize(
        [assets],
        instance=instance,
        resources={
            "meltano": MeltanoResource(encryption_keys=dg.EnvVar("INTEGRATIONS_ENCRYPTION_KEYS"))
        },
        selection=selection,
        raise_on_error=raise_on_error,
        tags={
            "integration": name,
            **(
                {
                    "dagster/asset_partition_range_start": partition_range[0],
                    "dagster/asset_partition_range_end": partition_range[1],
                }
                if partition_range
                else {}
            ),
            **(tags or {}),
        },
        run_config={"ops": {f"{name}_sync": {"config": {"full_refresh": full_refresh}}}},
    )


def rows_by_asset(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    """``{"stream": rows}`` from the run's materializations."""
    rows = {}
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        if "rows" in mat.metadata:  # not the partitions a sync covered
            rows[mat.asset_key.path[-1]] = mat.metadata["rows"].value
    return rows


def jsonl_rows(platform, name: str, stream: str) -> list[dict]:  # noqa: ANN001
    """The rows the JSONL destination holds for one stream."""
    path = Path(platform.settings.output_dir) / name / f"{stream}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle``."""
    found = []
    data = needle.encode()
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if data in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


def postgres_tables_containing(url: str, needle: str) -> list[str]:
    """Every table of the PostgreSQL database at ``url`` (all schemas) with a row whose
    text form contains ``needle``."""
    import sqlalchemy as sa

    found = []
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                sa.text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_type = 'BASE TABLE' "
                    "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            ).all()
            for schema, table in tables:
                hit = conn.execute(
                    sa.text(
                        f'SELECT 1 FROM "{schema}"."{table}" t '
                        "WHERE strpos(t::text, :needle) > 0 LIMIT 1"
                    ),
                    {"needle": needle},
                ).first()
                if hit:
                    found.append(f"{schema}.{table}")
    finally:
        engine.dispose()
    return found


SCHEDULES_QUERY = """{
  schedulesOrError(repositorySelector: {repositoryName: "__repository__",
                                        repositoryLocationName: "integrations"}) {
    ... on Schedules { results { name scheduleState { status } } }
  }
}"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate, seconds: float, what: str):  # noqa: ANN001, ANN201
    """Poll ``predicate`` until it returns something truthy; fail after ``seconds``."""
    import time

    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


STORES_BY_SCHEMA = {
    "integrations": "SELECT count(*) FROM integrations.integrations",
    "meltano": "SELECT count(*) FROM meltano.state",
    "dagster": "SELECT count(*) FROM dagster.runs",
}


def assert_stores_where_configured(platform) -> None:  # noqa: ANN001
    """In production mode every store is on PostgreSQL and nothing is on SQLite: the
    config store, Meltano's state and Dagster's runs each hold rows in their schema."""
    if not platform.settings.dagster_database_url:
        return
    import sqlalchemy as sa

    assert platform.sqlite_files() == []
    engine = sa.create_engine(platform.settings.database_url)
    try:
        with engine.connect() as conn:
            counts = {s: conn.execute(sa.text(q)).scalar() for s, q in STORES_BY_SCHEMA.items()}
    finally:
        engine.dispose()
    assert all(counts.values()), counts


def start_dagster_dev(env: dict[str, str], port: int):  # noqa: ANN201
    """A real ``dagster dev`` on the project's workspace, quiet; stop it with
    :func:`stop_process_group`. Waits until the code location
    has loaded."""
    import subprocess

    from integrations_platform.launcher import start_dagster_dev as start
    from integrations_platform.launcher import stop_group
    from integrations_platform.orchestration.client import DagsterClient, DagsterUnavailableError

    process = start(env, "127.0.0.1", port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = DagsterClient(f"http://127.0.0.1:{port}", timeout_s=10)

    def loaded() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"dagster dev exited with {process.returncode}")
        try:
            return client.location_loaded()
        except DagsterUnavailableError:
            return False

    try:
        wait_for(loaded, 240, "dagster dev to load the code location")
    except BaseException:
        stop_group(process)
        raise
    return process


def stop_process_group(process) -> None:  # noqa: ANN001
    """Stop a process group started by :func:`start_dagster_dev` (Ctrl-C, then kill)."""
    from integrations_platform.launcher import stop_group

    stop_group(process)


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals ``[start, end)`` in progress at one instant."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    running = peak = 0
    for _, delta in events:  # at a tie an end (-1) sorts before a start (+1)
        running += delta
        peak = max(peak, running)
    return peak


# Rows of the ``source_url`` fixture's ``public.orders`` (tests/integration/conftest.py).
ORDERS = 250


def source_config(url: str) -> dict:
    """The ``postgres`` connector's config for the local database at ``url``."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return {
        "host": parsed.host,
        "port": parsed.port or 5432,
        "user": parsed.username,
        "password": "trust-auth-accepts-any",
        "database": parsed.database,
        "filter_schemas": ["public"],
    }


def start_up(cwd: Path, env: dict[str, str], ports: list[int], log: Path):  # noqa: ANN201
    """``integrations up`` on the given Dagster, API and sandbox ports, in its own process
    group, its output to ``log`` (an unread pipe fills up and blocks every writer)."""
    import subprocess
    import sys

    handle = log.open("wb")
    try:
        return subprocess.Popen(
            [
                str(Path(sys.executable).parent / "integrations"),
                "up",
                "--dagster-port",
                str(ports[0]),
                "--api-port",
                str(ports[1]),
                "--sandbox-port",
                str(ports[2]),
            ],
            cwd=cwd,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        handle.close()


# The daemon runs schedules: one that fired during a test (an hourly one at the top of the
# hour) would add a run the test does not expect.
NOT_DURING_THE_TEST = "0 3 29 2 *"


def queued_dagster_home(tmp_path: Path) -> tuple[dict[str, str], Path, dict[str, int]]:
    """The process environment with a fresh DAGSTER_HOME set up as `up` does (the run
    queue's dagster.yaml, the pool limits): ``(environ, dagster_home, pool limits)``."""
    import os

    from integrations_platform.deployment import prepare_dagster_home
    from integrations_platform.settings import Settings

    environ = dict(os.environ)
    environ["DAGSTER_HOME"] = str(tmp_path / "dagster")
    dagster_home, limits = prepare_dagster_home(Settings.from_env(environ), environ)
    return environ, dagster_home, limits


def meltano_runs(platform, name: str) -> int:  # noqa: ANN001
    """How many Meltano runs integration ``name`` made (its system database's records)."""
    import sqlalchemy as sa

    state_id = platform.service.get(name).state_id
    engine = sa.create_engine(platform.settings.meltano_database_uri)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT count(*) FROM runs WHERE job_name = :s"), {"s": state_id}
                ).scalar()
                or 0
            )
    finally:
        engine.dispose()


def add_new_orders(source_url: str) -> None:
    """Ten new rows (ids 251-260, updated now) in the test source's ``public.orders``."""
    import sqlalchemy as sa

    engine = sa.create_engine(source_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO public.orders SELECT g, now(), g, 'new ' || g "
                    "FROM generate_series(251, 260) AS g"
                )
            )
    finally:
        engine.dispose()
