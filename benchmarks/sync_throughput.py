"""Sync throughput: a 200,000-row PostgreSQL table into JSONL, direct Meltano vs the platform.

Compares, in one process and interleaved (baseline, platform, baseline, platform, ...):

* baseline - ``meltano el tap-postgres target-jsonl --state-id bench-direct --full-refresh``
  run directly as a subprocess in the ``meltano/`` project, config passed as environment
  variables (``TAP_POSTGRES_HOST`` ..., ``TAP_POSTGRES__SELECT``,
  ``TARGET_JSONL_DESTINATION_PATH`` ...), system database in a temporary SQLite file;
* platform - an integration added through ``IntegrationService`` (connector
  ``postgres``, stream ``public-events``, destination ``jsonl``), materialized through
  real Dagster: ``dg.materialize([assets], instance=<dg.instance_for_test>,
  resources={"meltano": MeltanoResource(...)})`` with run config ``full_refresh: true``
  on one integration. (With an older asset that takes no ``full_refresh`` config, every
  repetition uses a new integration instead: fresh state.) The output folder is emptied
  before every run: both sides copy the whole table every time.

Both sides must write exactly ``--rows`` lines. The table is
``public.events(id bigint primary key, updated_at timestamptz, name text, amount numeric,
payload text)`` in a fresh database on the local server, filled with ``generate_series``
and dropped at the end.

Target: platform <= 1.10 x baseline (median wall time).

    .venv/bin/python -m benchmarks.sync_throughput                 # 200,000 rows, 3 reps
    .venv/bin/python -m benchmarks.sync_throughput --rows 20000 --reps 2   # quick
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa

from benchmarks._common import (
    comparison,
    copy_catalog,
    cpu_seconds,
    environment,
    log,
    median,
    patched_environ,
    print_table,
    temporary_database,
    write_results,
)
from integrations_platform.catalog import load_catalog
from integrations_platform.errors import IntegrationNotFoundError
from integrations_platform.orchestration.definitions import build_definitions
from integrations_platform.orchestration.resources import MeltanoResource
from integrations_platform.service import IntegrationService
from integrations_platform.settings import (
    ENV_ENCRYPTION_KEYS,
    PROJECT_ROOT,
    Settings,
    get_settings,
)
from integrations_platform.store import ConfigStore, KeyRing, generate_key

NAME = "sync_throughput"
TARGET_RATIO = 1.10
MELTANO_PROJECT = PROJECT_ROOT / "meltano"
MELTANO = str(Path(sys.executable).parent / "meltano")
STREAM = "public-events"
BASELINE_STATE_ID = "bench-direct"
WARMUP_STREAM = "public-warmup"
DEFAULT_ADMIN_URL = os.environ.get(
    "INTEGRATIONS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
# Variables of the surrounding shell that would change where the platform side writes.
_PLATFORM_ENV = (
    "INTEGRATIONS_HOME",
    "INTEGRATIONS_DATABASE_URL",
    "MELTANO_DATABASE_URI",
    "INTEGRATIONS_WAREHOUSE_URL",
    "INTEGRATIONS_CATALOG_DIR",
    "INTEGRATIONS_MELTANO_PROJECT",
    ENV_ENCRYPTION_KEYS,
)


# -- setup ------------------------------------------------------------------------------------


def ensure_plugins() -> str:
    """Install the Meltano plugins when tap-postgres or target-jsonl is missing."""
    venvs = [
        MELTANO_PROJECT / ".meltano" / "extractors" / "tap-postgres" / "venv",
        MELTANO_PROJECT / ".meltano" / "loaders" / "target-jsonl" / "venv",
    ]
    if all(v.exists() for v in venvs):
        return "already installed"
    log("[sync] installing Meltano plugins (meltano install) ...")
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{MELTANO_PROJECT / '.meltano' / 'install.db'}",
    }
    (MELTANO_PROJECT / ".meltano").mkdir(exist_ok=True)
    result = subprocess.run(
        [MELTANO, "install"],
        cwd=MELTANO_PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        raise SystemExit(
            "meltano install failed:\n" + result.stdout[-3000:] + result.stderr[-3000:]
        )
    return "installed by this run"


@contextmanager
def source_database(admin_url: str, rows: int, keep: bool) -> Iterator[sa.URL]:
    """A fresh database with ``public.events`` (``rows`` rows) and a small warm-up table."""
    with temporary_database(admin_url, "bench_sync", keep) as url:
        _fill(url, rows)
        yield url


def _fill(url: sa.URL, rows: int) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for table, count in (("events", rows), ("warmup", 1000)):
                conn.execute(
                    sa.text(
                        f"CREATE TABLE public.{table} (id bigint PRIMARY KEY, "
                        "updated_at timestamptz, name text, amount numeric, payload text)"
                    )
                )
                conn.execute(
                    sa.text(
                        f"INSERT INTO public.{table} (id, updated_at, name, amount, payload) "
                        "SELECT g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', "
                        "'event_' || g, round((g % 100000) / 100.0, 2), "
                        "repeat(md5(g::text), 2) "
                        "FROM generate_series(1, :n) AS g"
                    ),
                    {"n": count},
                )
            conn.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()


def count_lines(path: Path) -> int:
    """Lines in ``path`` (0 when it does not exist)."""
    if not path.exists():
        return 0
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


# -- the two sides ----------------------------------------------------------------------------


def tap_config(url: sa.URL) -> dict[str, Any]:
    """The source connection, as the integration stores it (trust auth: any password)."""
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password or "trust-auth-accepts-any",
        "database": url.database,
    }


def run_baseline(
    url: sa.URL, out_dir: Path, state_db: Path, stream: str, refresh_catalog: bool = False
) -> dict[str, Any]:
    """``meltano el`` run directly; returns its wall time and output."""
    config = tap_config(url)
    env = {
        **os.environ,
        "TAP_POSTGRES_HOST": str(config["host"]),
        "TAP_POSTGRES_PORT": str(config["port"]),
        "TAP_POSTGRES_USER": str(config["user"]),
        "TAP_POSTGRES_PASSWORD": str(config["password"]),
        "TAP_POSTGRES_DATABASE": str(config["database"]),
        "TAP_POSTGRES__SELECT": json.dumps([f"{stream}.*"]),
        "TARGET_JSONL_DESTINATION_PATH": str(out_dir),
        "TARGET_JSONL_DO_TIMESTAMP_FILE": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{state_db}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    args = [
        MELTANO,
        "el",
        "tap-postgres",
        "target-jsonl",
        "--state-id",
        BASELINE_STATE_ID,
        "--full-refresh",
    ]
    if refresh_catalog:
        args.append("--refresh-catalog")
    cpu_started = cpu_seconds()
    started = time.perf_counter()
    result = subprocess.run(
        args,
        cwd=MELTANO_PROJECT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    if result.returncode != 0:
        raise SystemExit(
            f"baseline meltano el failed ({result.returncode}):\n" + result.stdout[-4000:]
        )
    return {
        "wall_s": elapsed,
        "cpu_s": cpu,
        "lines": count_lines(out_dir / f"{stream}.jsonl"),
        "output_lines": result.stdout.count("\n"),
    }


def supports_full_refresh(assets: dg.AssetsDefinition) -> bool:
    """Whether the integration's asset takes a ``full_refresh`` run config."""
    try:
        fields = assets.op.config_schema.config_type.fields  # type: ignore[union-attr]
    except AttributeError:
        return False
    return "full_refresh" in fields


class PlatformSide:
    """The platform: a service over a SQLite store, a real Dagster instance."""

    def __init__(self, settings: Settings, instance: dg.DagsterInstance, url: sa.URL) -> None:
        self.settings = settings
        self.instance = instance
        self.url = url
        self.catalog = load_catalog(settings.catalog_dir)
        self.store = ConfigStore.open(settings.database_url)
        self.service = IntegrationService(
            self.catalog, self.store, lambda: KeyRing.from_env(os.environ)
        )
        self.resources = {
            "meltano": MeltanoResource(encryption_keys=dg.EnvVar(ENV_ENCRYPTION_KEYS))
        }

    def close(self) -> None:
        self.store.close()

    def prepare(
        self, name: str, stream: str, destination: str = "jsonl", **options: Any
    ) -> dg.AssetsDefinition:
        """Add integration ``name`` if new (untimed; ``options`` go to the service's
        ``add``), empty its output folder, and build its assets as the code server does."""
        try:
            stored = self.service.get(name)
        except IntegrationNotFoundError:
            self.service.add(
                "postgres",
                name,
                tap_config(self.url),
                streams=[stream],
                destination=destination,
                **options,
            )
            stored = self.service.get(name)
        shutil.rmtree(self.settings.output_dir / name, ignore_errors=True)
        snapshot = stored.for_orchestration()
        defs = build_definitions(self.catalog, [snapshot])
        for assets in defs.assets or []:
            if isinstance(assets, dg.AssetsDefinition) and assets.op.name == f"{name}_sync":
                return assets
        raise SystemExit(f"no assets built for integration {name}")

    def run(
        self, name: str, stream: str, assets: dg.AssetsDefinition, full_refresh: bool = False
    ) -> dict[str, Any]:
        """Materialize every stream of ``name``; returns wall time, rows and run facts."""
        run_config = (
            {"ops": {assets.op.name: {"config": {"full_refresh": True}}}} if full_refresh else None
        )
        cpu_started = cpu_seconds()
        started = time.perf_counter()
        result = dg.materialize(
            [assets],
            instance=self.instance,
            resources=self.resources,
            run_config=run_config,
            raise_on_error=False,
        )
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_started
        if not result.success:
            errors = [
                str(e.event_specific_data)
                for e in result.all_events
                if e.event_type_value == "STEP_FAILURE"
            ]
            raise SystemExit(f"platform materialization of {name} failed:\n" + "\n".join(errors))
        metadata: dict[str, Any] = {}
        for event in result.get_asset_materialization_events():
            mat = event.step_materialization_data.materialization
            metadata = {k: v.value for k, v in mat.metadata.items()}
        events = len(self.instance.all_logs(result.run_id))
        lines = count_lines(self.settings.output_dir / name / f"{stream}.jsonl")
        return {
            "wall_s": elapsed,
            "cpu_s": cpu,
            "lines": lines,
            "full_refresh_metadata": metadata.get("full_refresh"),
            "rows_metadata": metadata.get("rows"),
            "sync_duration_s": metadata.get("duration_s"),
            "dagster_events": events,
        }


# -- driver -----------------------------------------------------------------------------------


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns (and writes) the results."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sync_throughput", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rows", type=int, default=200_000, help="table rows (default 200000)")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions (default 3)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed warm-up syncs per side of a 1,000-row table (default 1)",
    )
    parser.add_argument(
        "--with-refresh-catalog-baseline",
        action="store_true",
        help="also time the baseline with --refresh-catalog (a third side)",
    )
    parser.add_argument(
        "--admin-url",
        default=DEFAULT_ADMIN_URL,
        help="SQLAlchemy URL of a database to run CREATE DATABASE from",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the source database")
    parser.add_argument("--target", type=float, default=TARGET_RATIO)
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when the ratio misses the target"
    )
    args = parser.parse_args(argv)

    plugins = ensure_plugins()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    key = generate_key()
    try:
        with patched_environ(
            {
                "INTEGRATIONS_HOME": str(tmp / "home"),
                "INTEGRATIONS_CATALOG_DIR": str(copy_catalog(tmp / "catalog")),
                ENV_ENCRYPTION_KEYS: key,
            },
            remove=_PLATFORM_ENV,
            on_change=get_settings.cache_clear,
        ):
            log(f"[sync] creating a {args.rows:,}-row source table ...")
            with source_database(args.admin_url, args.rows, args.keep_db) as url:
                results = _run(args, url, tmp, plugins)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        # `meltano el` leaves one folder per run under the project's .meltano/run/elt/<id>.
        shutil.rmtree(
            MELTANO_PROJECT / ".meltano" / "run" / "elt" / BASELINE_STATE_ID, ignore_errors=True
        )
    results["results_file"] = str(write_results(NAME, results))
    return results


def _run(args: argparse.Namespace, url: sa.URL, tmp: Path, plugins: str) -> dict[str, Any]:
    settings = Settings.from_env()
    base_out = tmp / "baseline-output"
    state_db = tmp / "baseline-state.db"
    sides = ["baseline", "platform"]
    if args.with_refresh_catalog_baseline:
        sides.insert(1, "baseline_refresh_catalog")
    samples: dict[str, list[dict[str, Any]]] = {s: [] for s in sides}
    (tmp / "dagster").mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(temp_dir=str(tmp / "dagster")) as instance:
        platform = PlatformSide(settings, instance, url)
        try:
            for i in range(args.warmup):
                shutil.rmtree(base_out, ignore_errors=True)
                run_baseline(url, base_out, state_db, WARMUP_STREAM)
                name = f"bench_warmup_{i}"
                platform.run(name, WARMUP_STREAM, platform.prepare(name, WARMUP_STREAM))
                log(f"[sync] warm-up {i + 1}/{args.warmup} done")
            probe = platform.prepare("bench_sync", STREAM)
            full_refresh = supports_full_refresh(probe)
            how = (
                "one integration, run config full_refresh=true"
                if full_refresh
                else "a new integration per repetition (the asset takes no full_refresh)"
            )
            log(f"[sync] platform full refresh: {how}")
            for rep in range(args.reps):
                for side in sides:
                    if side == "platform":
                        name = "bench_sync" if full_refresh else f"bench_sync_{rep}"
                        assets = platform.prepare(name, STREAM)
                        sample = platform.run(name, STREAM, assets, full_refresh=full_refresh)
                    else:
                        shutil.rmtree(base_out, ignore_errors=True)
                        sample = run_baseline(
                            url, base_out, state_db, STREAM, refresh_catalog=side != "baseline"
                        )
                    if sample["lines"] != args.rows:
                        raise SystemExit(
                            f"{side} wrote {sample['lines']} lines, expected {args.rows}"
                        )
                    samples[side].append(sample)
                    extra = ""
                    if side == "platform":
                        extra = (
                            f" (inside run_sync {sample['sync_duration_s']}s, rows metadata "
                            f"{sample['rows_metadata']}, {sample['dagster_events']} events)"
                        )
                    log(
                        f"[sync] rep {rep + 1}/{args.reps} {side:<24} "
                        f"{sample['wall_s']:.2f}s (cpu {sample['cpu_s']:.2f}s), "
                        f"{sample['lines']:,} lines{extra}"
                    )
        finally:
            platform.close()

    base = [s["wall_s"] for s in samples["baseline"]]
    comparisons = {
        "platform": comparison(
            base,
            [s["wall_s"] for s in samples["platform"]],
            args.target,
            [s["cpu_s"] for s in samples["baseline"]],
            [s["cpu_s"] for s in samples["platform"]],
        )
    }
    plat = samples["platform"]
    durations = [s["sync_duration_s"] for s in plat if s["sync_duration_s"] is not None]
    diagnostics = {
        "rows_per_s_baseline_median": round(args.rows / median(base), 1),
        "rows_per_s_platform_median": round(args.rows / median(s["wall_s"] for s in plat), 1),
        "platform_run_sync_median_s": round(median(durations), 3) if durations else None,
        "platform_dagster_overhead_median_s": (
            round(median(s["wall_s"] - s["sync_duration_s"] for s in plat), 3)
            if durations
            else None
        ),
        "platform_rows_metadata": [s["rows_metadata"] for s in plat],
        "platform_dagster_events": [s["dagster_events"] for s in plat],
        "baseline_output_lines": [s["output_lines"] for s in samples["baseline"]],
    }
    if "baseline_refresh_catalog" in samples:
        # Informational: how much of the gap is catalog discovery, which the direct run
        # skips after its first run (cached in meltano/.meltano/run) and the platform
        # repeats on every run (a fresh MELTANO_SYS_DIR_ROOT per sync).
        refresh = [s["wall_s"] for s in samples["baseline_refresh_catalog"]]
        diagnostics["baseline_refresh_catalog_median_s"] = round(median(refresh), 4)
        diagnostics["baseline_refresh_catalog_s"] = [round(x, 4) for x in refresh]
        diagnostics["platform_vs_baseline_refresh_catalog_ratio"] = round(
            median(s["wall_s"] for s in plat) / median(refresh), 4
        )
    return {
        "benchmark": NAME,
        "target_ratio": args.target,
        "params": {
            "rows": args.rows,
            "reps": args.reps,
            "warmup": args.warmup,
            "interleaving": sides,
        },
        "setup": {
            "plugins": plugins,
            "source_database": url.database,
            "platform_full_refresh": how,
        },
        "comparisons": comparisons,
        "samples": {
            side: [
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.items()} for s in ss
            ]
            for side, ss in samples.items()
        },
        "diagnostics": diagnostics,
        "environment": environment(),
        "results_file": None,
    }


def report(results: dict[str, Any]) -> None:
    """Human summary, then the JSON."""
    p = results["params"]
    print_table(
        f"sync_throughput: {p['rows']:,} rows, {p['reps']} interleaved reps (median wall time)",
        results["comparisons"],
    )
    d = results["diagnostics"]
    print(
        f"\n  rows/s: baseline {d['rows_per_s_baseline_median']:,}, "
        f"platform {d['rows_per_s_platform_median']:,}; inside run_sync "
        f"{d['platform_run_sync_median_s']}s, Dagster around it "
        f"{d['platform_dagster_overhead_median_s']}s"
    )
    print(json.dumps(results, indent=2))
    print(f"\nresults written to {results['results_file']}")


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    args = sys.argv[1:] if argv is None else argv
    results = run(args)
    report(results)
    if "--check" in args and not results["comparisons"]["platform"]["meets_target"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
