"""Queue throughput: 20 integrations synced at once through Dagster's queued run
coordinator and a running daemon, against one sync of the same total data.

Production mode on the local PostgreSQL (config store, Meltano state and Dagster's
storage in one fresh database), a real ``dagster dev`` (webserver, daemon, code
server) with the platform's rendered ``dagster.yaml``, real ``tap-postgres`` into
``target-jsonl``. The source is a fresh database holding ``public.whole`` (``--rows``
rows) and ``public.part_00`` … ``public.part_19`` (``--rows / 20`` rows each).

Interleaved, ``--reps`` times (every run is a full refresh, the output emptied before):

* baseline - launch integration ``whole`` (one run, every row), wait until it finishes;
* platform - launch ``part_00`` … ``part_19`` at once, wait until all 20 finish
  (at most ``--max-runs`` at a time: the queue's global limit, 4 by default).

Reported: the medians, ``ratio = 20 syncs / one sync`` (wall time for the same rows;
throughput relative to one sync is ``1 / ratio``), and how busy the machine's cores were
during each (from ``/proc/stat``): one sync of a tap and a target cannot use every core,
20 queued syncs can, so the question is how much of the cores' time the per-run overhead
(a run worker, Meltano and the tap starting 20 times) costs. Both sides must write exactly
``--rows`` lines.

    .venv/bin/python -m benchmarks.queue_throughput                      # 200,000 rows, 2 reps
    .venv/bin/python -m benchmarks.queue_throughput --rows 20000 --reps 1   # quick
"""

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa

from benchmarks._common import environment, log, median, temporary_database, write_results
from integrations_platform.catalog import load_catalog
from integrations_platform.deployment import prepare_dagster_home
from integrations_platform.launcher import start_dagster_dev, stop_group
from integrations_platform.orchestration.client import DagsterClient, DagsterUnavailableError
from integrations_platform.service import IntegrationService
from integrations_platform.settings import Settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key

NAME = "queue_throughput"
SYNCS = 20
DEFAULT_ADMIN_URL = os.environ.get(
    "INTEGRATIONS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
# Variables of the surrounding shell that would change where the platform writes.
CLEARED = (
    "INTEGRATIONS_DATABASE_URL",
    "MELTANO_DATABASE_URI",
    "INTEGRATIONS_DAGSTER_DATABASE_URL",
    "INTEGRATIONS_WAREHOUSE_URL",
    "DAGSTER_HOME",
)


def _fill_source(url: str, rows: int) -> None:
    per_part = rows // SYNCS
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [("whole", 1, rows)] + [
            (f"part_{i:02}", i * per_part + 1, (i + 1) * per_part) for i in range(SYNCS)
        ]
        for table, first, last in tables:
            conn.execute(
                sa.text(
                    f"CREATE TABLE public.{table} (id bigint PRIMARY KEY, "
                    "updated_at timestamptz NOT NULL, name text, amount numeric(12,2), "
                    "payload text)"
                )
            )
            conn.execute(
                sa.text(
                    f"INSERT INTO public.{table} SELECT g, "
                    "timestamptz '2024-01-01' + g * interval '1 second', 'name ' || g, "
                    f"g * 1.5, repeat('x', 64) FROM generate_series({first}, {last}) AS g"
                )
            )
    engine.dispose()


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine so far."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _lines(folder: Path) -> int:
    return sum(
        sum(1 for line in p.read_text().splitlines() if line.strip())
        for p in folder.rglob("*.jsonl")
    )


def _run_and_wait(
    client: DagsterClient, instance: dg.DagsterInstance, names: list[str]
) -> tuple[float, float]:
    """Launch ``names`` at once (full refresh); (wall seconds, busy cores on average)."""
    busy0, total0 = _busy_jiffies()
    started = time.perf_counter()
    run_ids = [client.launch_sync(name, full_refresh=True) for name in names]
    while True:
        records = instance.get_run_records(dg.RunsFilter(run_ids=run_ids))
        if len(records) == len(run_ids) and all(r.dagster_run.is_finished for r in records):
            break
        time.sleep(0.25)
    wall = time.perf_counter() - started
    busy1, total1 = _busy_jiffies()
    failed = [r.dagster_run.run_id for r in records if not r.dagster_run.is_success]
    if failed:
        raise RuntimeError(f"runs failed: {failed}; see the Dagster UI's run logs")
    cores = os.cpu_count() or 1
    return wall, cores * (busy1 - busy0) / max(total1 - total0, 1)


def measure(rows: int, reps: int, max_runs: int, admin_url: str) -> dict[str, Any]:
    """Set everything up, run the interleaved repetitions, tear down."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    with (
        temporary_database(admin_url, "bench_queue_stores") as stores_url,
        temporary_database(admin_url, "bench_queue_source") as source_url,
    ):
        stores = stores_url.render_as_string(hide_password=False)
        source = source_url.render_as_string(hide_password=False)
        log(f"filling the source: {rows:,} rows in one table and in {SYNCS} parts")
        _fill_source(source, rows)
        environ.update(
            INTEGRATIONS_HOME=str(workdir / "home"),
            INTEGRATIONS_POSTGRES_URL=stores,
            INTEGRATIONS_ENCRYPTION_KEYS=generate_key(),
            INTEGRATIONS_MAX_CONCURRENT_RUNS=str(max_runs),
            DAGSTER_HOME=str(workdir / "dagster"),
        )
        settings = Settings.from_env(environ)
        store = ConfigStore.open(settings.database_url)
        service = IntegrationService(
            load_catalog(settings.catalog_dir),
            store,
            lambda: KeyRing.from_value(environ["INTEGRATIONS_ENCRYPTION_KEYS"]),
            settings=settings,
            environ=environ,
        )
        parsed = sa.engine.make_url(source)
        config = {
            "host": parsed.host,
            "port": parsed.port or 5432,
            "user": parsed.username,
            "password": parsed.password or "trust-auth-accepts-any",
            "database": parsed.database,
            "filter_schemas": ["public"],
        }
        parts = [f"part_{i:02}" for i in range(SYNCS)]
        for table in ["whole", *parts]:
            service.add(
                "postgres",
                table,
                config,
                streams=[f"public-{table}:updated_at"],
                start_date="2024-01-01",
            )
            # As the wizard does when it lists a source's streams: every sync measured
            # then hands the stored catalog to the tap (steady state, not first syncs).
            found = service.discover(table)
            assert found.discovery is not None, f"discovery of {table} failed"
        log(f"added and discovered {1 + SYNCS} integrations")
        store.close()
        dagster_home, _ = prepare_dagster_home(settings, environ)
        os.environ["INTEGRATIONS_DAGSTER_DATABASE_URL"] = environ[
            "INTEGRATIONS_DAGSTER_DATABASE_URL"
        ]
        port = 3900 + os.getpid() % 1000
        dagster_log = (workdir / "dagster.log").open("wb")
        process = start_dagster_dev(
            environ, "127.0.0.1", port, stdout=dagster_log, stderr=subprocess.STDOUT
        )
        client = DagsterClient(f"http://127.0.0.1:{port}", timeout_s=30)
        try:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if client.location_loaded():
                        break
                except DagsterUnavailableError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    tail = (workdir / "dagster.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"dagster dev did not start:\n{tail}")
                time.sleep(1)
            one_s: list[float] = []
            many_s: list[float] = []
            one_cores: list[float] = []
            many_cores: list[float] = []
            output = settings.output_dir
            with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
                for rep in range(reps):
                    shutil.rmtree(output, ignore_errors=True)
                    wall, cores = _run_and_wait(client, instance, ["whole"])
                    assert _lines(output) == rows, "the one sync did not write every row"
                    one_s.append(wall)
                    one_cores.append(cores)
                    log(f"rep {rep + 1}: one sync {wall:.1f} s ({cores:.2f} cores busy)")
                    shutil.rmtree(output, ignore_errors=True)
                    wall, cores = _run_and_wait(client, instance, parts)
                    written = _lines(output)
                    assert written == rows // SYNCS * SYNCS, f"20 syncs wrote {written} rows"
                    many_s.append(wall)
                    many_cores.append(cores)
                    log(f"rep {rep + 1}: {SYNCS} syncs {wall:.1f} s ({cores:.2f} cores busy)")
        finally:
            stop_group(process)
            dagster_log.close()
            shutil.rmtree(workdir, ignore_errors=True)
    one, many = median(one_s), median(many_s)
    cores = os.cpu_count() or 1
    return {
        "rows": rows,
        "syncs": SYNCS,
        "max_concurrent_runs": max_runs,
        "one_sync_s": [round(x, 2) for x in one_s],
        "twenty_syncs_s": [round(x, 2) for x in many_s],
        "one_sync_median_s": round(one, 2),
        "twenty_syncs_median_s": round(many, 2),
        "ratio": round(many / one, 3),
        "throughput_relative_to_one_sync": round(one / many, 3),
        "cores": cores,
        "one_sync_busy_cores": round(median(one_cores), 2),
        "twenty_syncs_busy_cores": round(median(many_cores), 2),
        # Core-seconds spent per run of the same rows: the overhead of 20 runs over one.
        "core_seconds_ratio": round((many * median(many_cores)) / (one * median(one_cores)), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.queue_throughput", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rows", type=int, default=200_000, help="total rows (default 200,000)")
    parser.add_argument("--reps", type=int, default=2, help="interleaved repetitions")
    parser.add_argument("--max-runs", type=int, default=4, help="the queue's global limit")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL admin URL")
    args = parser.parse_args(argv)
    result = measure(args.rows, args.reps, args.max_runs, args.admin_url)
    print(f"\nQueue throughput: {args.rows:,} rows, queue limit {args.max_runs} runs")
    print(f"  {'side':<24} {'median':>9} {'busy cores':>11}")
    for label, key in (
        ("one sync, all rows", "one_sync"),
        (f"{SYNCS} syncs, same rows", "twenty_syncs"),
    ):
        print(
            f"  {label:<24} {result[key + '_median_s']:>8.1f}s "
            f"{result[key + '_busy_cores']:>7.2f} / {result['cores']}"
        )
    print(
        f"ratio (20 syncs / one): {result['ratio']}  throughput vs one sync: "
        f"{result['throughput_relative_to_one_sync']}  core-seconds ratio: "
        f"{result['core_seconds_ratio']}"
    )
    path = write_results(NAME, {"environment": environment(), **result})
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
