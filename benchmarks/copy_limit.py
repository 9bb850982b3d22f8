"""Copy limit: a PostgreSQL → PostgreSQL full load through the platform, against the raw
COPY pipe between the same two databases, measured side by side in one process.

Sides, interleaved in every repetition (each loads the whole table into an empty table):

* ``copy`` - the physical limit: ``COPY public.events TO STDOUT`` on the source piped
  into ``COPY copy_pipe.events FROM STDIN`` on the warehouse (psycopg2, two connections,
  an OS pipe between them);
* ``meltano_run`` - ``meltano run tap-postgres target-postgres --full-refresh`` run
  directly in the ``meltano/`` project, record by record (the plugins' defaults);
* ``platform`` - an integration (connector ``postgres``, destination ``postgres``, the
  default message format) materialized through real Dagster with ``full_refresh``;
* ``platform_records`` - the same with ``message_format=records``: the platform's path
  before batch messages (``--sides`` leaves it out to save time).

Each side reports its wall time, rows/s, CPU (this process and its waited-for children;
the PostgreSQL server's own work is not counted on any side) and peak memory (the
largest sum of RSS over this process and its descendants, sampled every 0.1 s). The
warehouse row count of every side is checked. ``ratio`` = platform median / copy median.

    .venv/bin/python -m benchmarks.copy_limit                      # 1,000,000 rows, 3 reps
    .venv/bin/python -m benchmarks.copy_limit --rows 200000 --reps 2
    .venv/bin/python -m benchmarks.copy_limit --sides copy,platform
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import psutil
import sqlalchemy as sa

from benchmarks._common import (
    copy_catalog,
    cpu_seconds,
    environment,
    log,
    median,
    patched_environ,
    temporary_database,
    write_results,
)
from benchmarks.sync_throughput import (
    _PLATFORM_ENV,
    DEFAULT_ADMIN_URL,
    MELTANO,
    MELTANO_PROJECT,
    STREAM,
    PlatformSide,
    ensure_plugins,
    source_database,
    tap_config,
)
from integrations_platform.settings import ENV_ENCRYPTION_KEYS, Settings, get_settings
from integrations_platform.store import generate_key

NAME = "copy_limit"
TARGET_RATIO = 3.0
SIDES = ("copy", "meltano_run", "platform", "platform_records")


class PeakMemory:
    """The largest RSS of this process and its descendants while it runs."""

    def __init__(self, every_s: float = 0.1) -> None:
        self.every_s = every_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while True:
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            if self._stop.wait(self.every_s):
                return


def measured(fn: Callable[[], int]) -> dict[str, Any]:
    """Wall time, CPU, peak memory and the rows ``fn`` reports it loaded."""
    cpu = cpu_seconds()
    with PeakMemory() as memory:
        started = time.perf_counter()
        rows = fn()
        wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "cpu_s": cpu_seconds() - cpu,
        "peak_rss_mb": round(memory.peak / 2**20, 1),
        "rows": rows,
    }


def _psycopg2(url: sa.URL) -> Any:
    import psycopg2

    return psycopg2.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password or "",
        dbname=url.database,
    )


def count_rows(warehouse: sa.URL, table: str) -> int:
    engine = sa.create_engine(warehouse)
    try:
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
                return 0
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() or 0)
    finally:
        engine.dispose()


def drop_schema(warehouse: sa.URL, schema: str) -> None:
    engine = sa.create_engine(warehouse)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def copy_pipe(source: sa.URL, warehouse: sa.URL) -> int:
    """``COPY … TO STDOUT`` into ``COPY … FROM STDIN`` through an OS pipe."""
    drop_schema(warehouse, "copy_pipe")
    with _psycopg2(source) as src, _psycopg2(warehouse) as dst:
        with dst.cursor() as cur:
            cur.execute("CREATE SCHEMA copy_pipe")
            cur.execute(
                "CREATE TABLE copy_pipe.events (id bigint PRIMARY KEY, updated_at timestamptz, "
                "name text, amount numeric, payload text)"
            )
        read_end, write_end = os.pipe()
        failure: list[BaseException] = []

        def produce() -> None:
            try:
                with os.fdopen(write_end, "wb") as sink, src.cursor() as cur:
                    cur.copy_expert("COPY public.events TO STDOUT", sink)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                failure.append(exc)

        producer = threading.Thread(target=produce)
        producer.start()
        with os.fdopen(read_end, "rb") as pipe, dst.cursor() as cur:
            cur.copy_expert("COPY copy_pipe.events FROM STDIN", pipe)
        producer.join()
        if failure:
            raise failure[0]
    return count_rows(warehouse, "copy_pipe.events")


def meltano_run(source: sa.URL, warehouse: sa.URL, state_db: Path) -> int:
    """``meltano run tap-postgres target-postgres --full-refresh``, directly."""
    drop_schema(warehouse, "meltano_run")
    config = tap_config(source)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))},
        **{f"TAP_POSTGRES_{k.upper()}": str(v) for k, v in config.items()},
        "TAP_POSTGRES__SELECT": json.dumps([f"{STREAM}.*"]),
        "TARGET_POSTGRES_HOST": warehouse.host or "127.0.0.1",
        "TARGET_POSTGRES_PORT": str(warehouse.port or 5432),
        "TARGET_POSTGRES_USER": warehouse.username or "postgres",
        "TARGET_POSTGRES_PASSWORD": warehouse.password or "trust-auth-accepts-any",
        "TARGET_POSTGRES_DATABASE": str(warehouse.database),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": "meltano_run",
        "MELTANO_DATABASE_URI": f"sqlite:///{state_db}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [MELTANO, "run", "tap-postgres", "target-postgres", "--full-refresh"],
        cwd=MELTANO_PROJECT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    if result.returncode != 0:
        raise SystemExit(f"meltano run failed ({result.returncode}):\n{result.stdout[-4000:]}")
    return count_rows(warehouse, "meltano_run.events")


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns (and writes) the results."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.copy_limit", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows (default 1000000)")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions (default 3)")
    parser.add_argument(
        "--sides",
        default=",".join(SIDES),
        help=f"comma-separated sides among {', '.join(SIDES)} (copy and platform always run)",
    )
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--target", type=float, default=TARGET_RATIO)
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when the ratio misses the target"
    )
    args = parser.parse_args(argv)
    sides = [s for s in SIDES if s in {*args.sides.split(","), "copy", "platform"}]

    plugins = ensure_plugins()
    tmp = Path(tempfile.mkdtemp(prefix="bench-copy-"))
    try:
        with (
            temporary_database(args.admin_url, "bench_wh") as warehouse,
            patched_environ(
                {
                    "INTEGRATIONS_HOME": str(tmp / "home"),
                    "INTEGRATIONS_CATALOG_DIR": str(copy_catalog(tmp / "catalog")),
                    "INTEGRATIONS_WAREHOUSE_URL": warehouse.render_as_string(hide_password=False),
                    ENV_ENCRYPTION_KEYS: generate_key(),
                },
                remove=tuple(v for v in _PLATFORM_ENV if v != "INTEGRATIONS_WAREHOUSE_URL"),
                on_change=get_settings.cache_clear,
            ),
        ):
            log(f"[copy] creating a {args.rows:,}-row source table ...")
            with source_database(args.admin_url, args.rows, keep=False) as source:
                samples = _run(args, sides, source, warehouse, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    copy = median(s["wall_s"] for s in samples["copy"])
    summary: dict[str, Any] = {}
    for side, runs in samples.items():
        wall = median(r["wall_s"] for r in runs)
        summary[side] = {
            "wall_s": [round(r["wall_s"], 3) for r in runs],
            "median_s": round(wall, 3),
            "rows_per_s": round(args.rows / wall, 1),
            "cpu_median_s": round(median(r["cpu_s"] for r in runs), 3),
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
            "vs_copy": round(wall / copy, 3),
        }
    ratio = summary["platform"]["vs_copy"]
    results = {
        "benchmark": NAME,
        "ratio": ratio,
        "target_ratio": args.target,
        "meets_target": ratio <= args.target,
        "params": {"rows": args.rows, "reps": args.reps, "sides": sides},
        "sides": summary,
        "plugins": plugins,
        "environment": environment(),
    }
    print(f"\nCopy limit: {args.rows:,} rows PostgreSQL → PostgreSQL, {args.reps} rep(s)")
    print(f"  {'side':<18} {'median':>9} {'rows/s':>11} {'cpu':>8} {'peak MB':>8} {'× copy':>7}")
    for side, row in summary.items():
        print(
            f"  {side:<18} {row['median_s']:>8.2f}s {row['rows_per_s']:>11,.0f} "
            f"{row['cpu_median_s']:>7.2f}s {row['peak_rss_mb_max']:>8.0f} {row['vs_copy']:>6.2f}x"
        )
    print(f"  ratio (platform / copy): {ratio:.2f}x, target ≤ {args.target:.1f}x")
    results["results_file"] = str(write_results(NAME, results))
    print(json.dumps(results, indent=2))
    if args.check and not results["meets_target"]:
        raise SystemExit(1)
    return results


def _run(
    args: argparse.Namespace, sides: list[str], source: sa.URL, warehouse: sa.URL, tmp: Path
) -> dict[str, list[dict[str, Any]]]:
    settings = Settings.from_env()
    samples: dict[str, list[dict[str, Any]]] = {s: [] for s in sides}
    (tmp / "dagster").mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(temp_dir=str(tmp / "dagster")) as instance:
        platform = PlatformSide(settings, instance, source)
        try:
            integrations = {
                "platform": ("bench_copy", platform.prepare("bench_copy", STREAM, "postgres")),
                "platform_records": (
                    "bench_records",
                    platform.prepare("bench_records", STREAM, "postgres", message_format="records"),
                ),
            }

            def through_platform(side: str) -> int:
                name, assets = integrations[side]
                drop_schema(warehouse, name)
                platform.run(name, STREAM, assets, full_refresh=True)
                return count_rows(warehouse, f"{name}.events")

            do: dict[str, Callable[[], int]] = {
                "copy": lambda: copy_pipe(source, warehouse),
                "meltano_run": lambda: meltano_run(source, warehouse, tmp / "meltano-state.db"),
                "platform": lambda: through_platform("platform"),
                "platform_records": lambda: through_platform("platform_records"),
            }
            for rep in range(args.reps):
                for side in sides:
                    sample = measured(do[side])
                    if sample["rows"] != args.rows:
                        raise SystemExit(f"{side} loaded {sample['rows']} rows, not {args.rows}")
                    samples[side].append(sample)
                    log(
                        f"[copy] rep {rep + 1}/{args.reps} {side:<17} {sample['wall_s']:8.2f}s "
                        f"cpu {sample['cpu_s']:7.2f}s peak {sample['peak_rss_mb']:7.1f} MB"
                    )
        finally:
            platform.close()
    return samples


if __name__ == "__main__":
    run()
