"""Definitions at scale: N integrations x 10 streams, built and snapshotted like a code server.

Compares, in one process, each platform variant paired with a baseline run just before
it (baseline, memory, baseline, store, baseline, code_server, baseline, memory, ...):

* baseline - N bare ``@dg.multi_asset(specs=[AssetSpec x 10], can_subset=True)`` with one
  asset job and one schedule each, one resource and the in-process executor, written
  with Dagster only (no platform code): same key shape, group names, kinds, tags,
  metadata entries, descriptions, cron and executor as the platform's;
* ``memory`` - ``build_definitions(catalog, snapshots)`` from N in-memory
  ``Integration`` objects of the ``postgres`` connector (streams
  ``public-table_0`` ... ``public-table_9``), the catalog loaded beforehand;
* ``store`` - the same N integrations stored once (outside timing) in a SQLite config
  store through ``IntegrationService.add``, then ``load_definitions(settings)``: the store
  query, the catalog, ``build_definitions`` and the reconstruction pin;
* ``code_server`` - what ``dagster api grpc`` / ``dagster code-server`` does at start-up
  with ``-m integrations_platform.orchestration.definitions -a defs``:
  ``dagster._grpc.server.LoadedRepositories`` (resolves the lazy ``@dg.definitions``
  function, then reconstructs the repository from the same pointer, which calls it again
  with the pin, then ``load_all_definitions``). It is compared with
  ``baseline_code_server``: the baseline written as a module
  (``defs = baseline_definitions(...)``) and loaded by the same ``LoadedRepositories``.

Every side is then snapshotted the way the code server answers the webserver
(``dagster/_grpc/server.py`` ``_get_serialized_external_repository_data``):
``serialize_value(RepositorySnap.from_def(repository_def, defer_snapshots=...))``.
Mode ``deferred`` (default) is what a gRPC code location requests
(``defer_snapshots=True``); mode ``full`` is what an in-process code location builds.

Target: platform <= 1.15 x baseline (median wall time).

    .venv/bin/python -m benchmarks.definitions_scale                 # N=1000, 5 reps
    .venv/bin/python -m benchmarks.definitions_scale --n 50 --reps 2 # quick
    .venv/bin/python -m benchmarks.definitions_scale --modes deferred,full
"""

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.definitions_load_context import DefinitionsLoadContext
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._grpc.server import LoadedRepositories
from dagster_shared.serdes import serialize_value
from pydantic import Field

from benchmarks._common import (
    REPO_ROOT,
    comparison,
    copy_catalog,
    cpu_seconds,
    environment,
    log,
    median,
    patched_environ,
    print_table,
    write_results,
)
from integrations_platform.catalog import Catalog, load_catalog
from integrations_platform.integration import Integration, dump_integrations
from integrations_platform.orchestration.definitions import (
    build_definitions,
    load_definitions,
    load_integrations_for_orchestration,
)
from integrations_platform.service import IntegrationService, StreamSelection
from integrations_platform.settings import ENV_ENCRYPTION_KEYS, Settings, get_settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key

NAME = "definitions_scale"
TARGET_RATIO = 1.15
CONNECTOR = "postgres"
CONNECTOR_LABEL = "PostgreSQL"
DESTINATION = "jsonl"
SCHEDULE = "0 */6 * * *"  # the postgres connector's default_schedule
START_DATE = "2024-01-01T00:00:00Z"
MODES = ("deferred", "full")
VARIANTS = ("memory", "store", "code_server")
# The baseline each platform variant is compared with.
PAIRED_BASELINE = {
    "memory": "baseline",
    "store": "baseline",
    "code_server": "baseline_code_server",
}
DEFINITIONS_MODULE = "integrations_platform.orchestration.definitions"
# Variables that would point the platform somewhere else than this benchmark's store.
_PLATFORM_ENV = (
    "INTEGRATIONS_DATABASE_URL",
    "INTEGRATIONS_CATALOG_DIR",
    "INTEGRATIONS_MELTANO_PROJECT",
    "MELTANO_DATABASE_URI",
)


def integration_name(i: int) -> str:
    """``bench_0000`` ... (valid integration names, one group per integration)."""
    return f"bench_{i:04d}"


def stream_selection(j: int, columns: int = 0) -> StreamSelection:
    """Stream ``public-table_<j>``, incremental on ``updated_at``, keyed by ``id``, with
    ``columns`` discovered columns (what a discovery stores on a selection)."""
    return StreamSelection(
        name=f"public-table_{j}",
        replication_key="updated_at",
        primary_key=("id",),
        columns=column_pairs(columns),
    )


def column_pairs(columns: int) -> tuple[tuple[str, str], ...]:
    """``(name, type)`` of ``columns`` columns: id, updated_at, then col_2 ... ."""
    kinds = ("integer", "string", "number", "boolean")
    pairs = [("id", "integer"), ("updated_at", "string")]
    pairs += [(f"col_{k}", kinds[k % len(kinds)]) for k in range(2, columns)]
    return tuple(pairs[:columns])


# -- baseline: plain Dagster, no platform code --------------------------------------------


# About as long as each of the platform's check descriptions.
CHECK_DESCRIPTION = (
    "Fails when the stream's last sync is not as expected (a check written directly with "
    "Dagster, as long as the platform's own descriptions)."
)


class BaselineSyncResource(dg.ConfigurableResource):
    """A stand-in for the sync resource: one string field set from an env var."""

    encryption_keys: str = Field(description="Comma-separated keys; set through an env var.")

    def sync(self, keys: list[dg.AssetKey]) -> Iterator[dg.MaterializeResult]:
        for key in keys:
            yield dg.MaterializeResult(asset_key=key, metadata={"rows": 0})


def _baseline_assets(name: str, streams: int, columns: int = 0) -> dg.AssetsDefinition:
    specs = []
    for j in range(streams):
        stream = f"public-table_{j}"
        schema: dict[str, Any] = {"dagster/table_name": f"{name}/{stream}.jsonl"}
        if columns:
            schema["dagster/column_schema"] = dg.TableSchema(
                columns=[dg.TableColumn(c, t) for c, t in column_pairs(columns)]
            )
        specs.append(
            dg.AssetSpec(
                key=dg.AssetKey([name, f"public_table_{j}"]),
                group_name=name,
                kinds={CONNECTOR, "meltano", DESTINATION},
                description=(
                    f"The {stream} stream of {CONNECTOR_LABEL}. Synced by integration '{name}'."
                ),
                metadata={
                    "integrations/integration": name,
                    "integrations/stream": stream,
                    "integrations/connector": CONNECTOR,
                    "destination": DESTINATION,
                    "replication_key": "updated_at",
                    "primary_key": "id",
                    **schema,
                },
                tags={"integrations/connector": CONNECTOR},
            )
        )

    @dg.multi_asset(
        name=f"{name}_sync",
        specs=specs,
        # The same three checks per stream as the platform's (orchestration/checks.py).
        check_specs=[
            dg.AssetCheckSpec(check, asset=spec.key, description=CHECK_DESCRIPTION)
            for spec in specs
            for check in ("schema", "freshness", "volume")
        ],
        can_subset=True,
        # The same time partitions the platform gives every integration (issue 6).
        partitions_def=dg.DailyPartitionsDefinition(start_date=START_DATE[:10], timezone="UTC"),
        backfill_policy=dg.BackfillPolicy.single_run(),
        op_tags={"integration": name, "integrations/connector": CONNECTOR},
        description=f"Sync of integration '{name}' ({CONNECTOR_LABEL}).",
    )
    def _sync(
        context: dg.AssetExecutionContext, meltano: BaselineSyncResource
    ) -> Iterator[dg.MaterializeResult]:
        yield from meltano.sync(sorted(context.selected_asset_keys))

    return _sync


def _baseline_schedule(name: str, keys: list[dg.AssetKey]) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{name}_schedule",
        cron_schedule=SCHEDULE,
        job_name="__ASSET_JOB",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Syncs integration '{name}' on '{SCHEDULE}'.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(
            asset_selection=keys,
            tags={"integration": name, "integrations/connector": CONNECTOR},
        )

    return _schedule


def baseline_definitions(n: int, streams: int, columns: int = 0) -> dg.Definitions:
    """N integrations' worth of assets and schedules (each an incremental sync of its
    integration's assets through the implicit asset job), written with Dagster only."""
    assets, schedules = [], []
    for i in range(n):
        name = integration_name(i)
        integration_assets = _baseline_assets(name, streams, columns)
        assets.append(integration_assets)
        schedules.append(_baseline_schedule(name, list(integration_assets.keys)))
    return dg.Definitions(
        assets=assets,
        schedules=schedules,
        resources={"meltano": BaselineSyncResource(encryption_keys=dg.EnvVar(ENV_ENCRYPTION_KEYS))},
        executor=dg.in_process_executor,
    )


# -- platform inputs ------------------------------------------------------------------------


def platform_snapshots(n: int, streams: int, columns: int = 0) -> list[Integration]:
    """What the code server would have loaded from the store, built in memory."""
    return [
        Integration(
            id=str(uuid.uuid5(uuid.NAMESPACE_OID, integration_name(i))),
            name=integration_name(i),
            connector=CONNECTOR,
            enabled=True,
            schedule=SCHEDULE,
            streams=tuple(stream_selection(j, columns) for j in range(streams)),
            start_date=START_DATE,
            destination=DESTINATION,
        )
        for i in range(n)
    ]


def populate_store(
    settings: Settings, catalog: Catalog, n: int, streams: int, columns: int = 0
) -> float:
    """Add N integrations through the service (untimed setup); returns the seconds spent."""
    started = time.perf_counter()
    store = ConfigStore.open(settings.database_url)
    keyring = KeyRing.from_value(generate_key())
    service = IntegrationService(catalog, store, lambda: keyring)
    try:
        for i in range(n):
            service.add(
                CONNECTOR,
                integration_name(i),
                {
                    "host": "127.0.0.1",
                    "port": 5432,
                    "user": "postgres",
                    "password": "unused-password",
                    "database": f"db_{i:04d}",
                },
                streams=[stream_selection(j) for j in range(streams)],
                start_date=START_DATE,
                destination=DESTINATION,
            )
            if columns:  # as a discovery of each source would leave them
                selected = tuple(stream_selection(j, columns) for j in range(streams))
                store.update(integration_name(i), lambda cur, s=selected: replace(cur, streams=s))
    finally:
        store.close()
    return time.perf_counter() - started


def forget_last_build() -> None:
    """A code server builds once per process; repetitions here must not reuse that build."""
    import integrations_platform.orchestration.definitions as platform_definitions

    platform_definitions._last_build = None  # noqa: SLF001 - per-process cache


def code_server_load() -> dg.RepositoryDefinition:
    """Load the platform's code location as ``dagster api grpc -m ... -a defs`` does.

    ``LoadedRepositories`` installs a process-wide load context; the previous one is put
    back so that the other variants keep loading in initialization mode.
    """
    previous = DefinitionsLoadContext._instance  # noqa: SLF001 - restored below
    try:
        loaded = LoadedRepositories(
            LoadableTargetOrigin(
                executable_path=sys.executable,
                module_name=DEFINITIONS_MODULE,
                attribute="defs",
                working_directory=str(REPO_ROOT),
            ),
            container_image=None,
            entry_point=["dagster"],
            container_context=None,
            code_location_name="integrations",
        )
        (repo,) = loaded.definitions_by_name.values()
        return repo
    finally:
        DefinitionsLoadContext.set(previous)  # type: ignore[arg-type]


class BaselineCodeServer:
    """The baseline as a code server loads a hand-written module: ``defs = Definitions(...)``.

    Each load writes a new module file (so that it is imported afresh) holding
    ``defs = baseline_definitions(n, streams)`` and loads it with ``LoadedRepositories``,
    exactly like ``code_server_load`` loads the platform's module.
    """

    def __init__(self, directory: Path, n: int, streams: int, columns: int = 0) -> None:
        self.directory = directory
        self.n = n
        self.streams = streams
        self.columns = columns
        directory.mkdir(parents=True, exist_ok=True)

    def __call__(self) -> dg.RepositoryDefinition:
        stem = f"bench_baseline_defs_{uuid.uuid4().hex}"
        path = self.directory / f"{stem}.py"
        path.write_text(
            "from benchmarks.definitions_scale import baseline_definitions\n"
            f"defs = baseline_definitions({self.n}, {self.streams}, {self.columns})\n"
        )
        previous = DefinitionsLoadContext._instance  # noqa: SLF001 - restored below
        try:
            loaded = LoadedRepositories(
                LoadableTargetOrigin(
                    executable_path=sys.executable,
                    python_file=str(path),
                    attribute="defs",
                    working_directory=str(REPO_ROOT),
                ),
                container_image=None,
                entry_point=["dagster"],
                container_context=None,
                code_location_name="baseline",
            )
            (repo,) = loaded.definitions_by_name.values()
            return repo
        finally:
            DefinitionsLoadContext.set(previous)  # type: ignore[arg-type]
            sys.modules.pop(stem, None)
            path.unlink(missing_ok=True)


# -- measurement ------------------------------------------------------------------------------


def build_and_snapshot(
    build: Callable[[], dg.Definitions | dg.RepositoryDefinition], mode: str
) -> dict[str, Any]:
    """Time ``build()``, the repository definition, its snapshot and its serialisation."""
    gc.collect()
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    built = build()
    t1 = time.perf_counter()
    repo = built.get_repository_def() if isinstance(built, dg.Definitions) else built
    t2 = time.perf_counter()
    snap = RepositorySnap.from_def(repo, defer_snapshots=(mode == "deferred"))
    t3 = time.perf_counter()
    serialized = serialize_value(snap)
    t4 = time.perf_counter()
    cpu = cpu_seconds() - c0
    load_data = repo.repository_load_data
    shape = {
        "assets": len(repo.asset_graph.get_all_asset_keys()),
        "jobs": len(repo.get_all_jobs()),
        "schedules": len(repo.schedule_defs),
        "snapshot_bytes": len(serialized),
        "reconstruction_metadata_bytes": sum(
            len(getattr(v, "value", v) or "")
            for v in (load_data.reconstruction_metadata if load_data else {}).values()
        ),
    }
    del built, repo, snap, serialized
    return {
        "total_s": t4 - t0,
        "cpu_s": cpu,
        "phases_s": {
            "build": t1 - t0,
            "repository_def": t2 - t1,
            "repository_snap": t3 - t2,
            "serialize_value": t4 - t3,
        },
        "shape": shape,
    }


def load_breakdown(settings: Settings, catalog: Catalog, reps: int = 3) -> dict[str, Any]:
    """Where the store-backed load spends its time (untimed diagnostic, medians)."""
    phases: dict[str, list[float]] = {}

    def record(name: str, fn: Callable[[], Any]) -> Any:
        gc.collect()
        t = time.perf_counter()
        out = fn()
        phases.setdefault(name, []).append(time.perf_counter() - t)
        return out

    pin = ""
    for _ in range(reps):
        snapshots = record(
            "load_integrations_for_orchestration",
            lambda: load_integrations_for_orchestration(settings),
        )
        record("load_catalog", lambda: load_catalog(settings.catalog_dir))
        record(
            "build_definitions (Definitions only)",
            lambda s=snapshots: build_definitions(catalog, s),
        )
        defs = build_definitions(catalog, snapshots)
        record("Definitions.get_repository_def", defs.get_repository_def)
        del defs
        pin = record("dump_integrations", lambda s=snapshots: dump_integrations(s))
        record("load_definitions (whole)", lambda: load_definitions(settings))
        record("LoadedRepositories (code server start)", code_server_load)
    return {
        "medians_s": {k: round(median(v), 4) for k, v in phases.items()},
        "reconstruction_pin_bytes": len(pin),
    }


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns (and writes) the results."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.definitions_scale", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--n", type=int, default=1000, help="integrations (default 1000)")
    parser.add_argument("--streams", type=int, default=10, help="streams each (default 10)")
    parser.add_argument(
        "--columns",
        type=int,
        default=20,
        help="discovered columns per stream, as dagster/column_schema (default 20; 0: none)",
    )
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions (default 5)")
    parser.add_argument(
        "--modes",
        default="deferred",
        help="comma-separated snapshot modes: deferred (what a gRPC code location asks "
        "for; default), full (job snapshots included, as an in-process location)",
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help="comma-separated platform variants: memory, store, code_server (default all)",
    )
    parser.add_argument("--target", type=float, default=TARGET_RATIO)
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a ratio misses the target"
    )
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    variants = [v for v in args.variants.split(",") if v]
    for m in modes:
        if m not in MODES:
            parser.error(f"unknown mode {m!r}")
    for v in variants:
        if v not in VARIANTS:
            parser.error(f"unknown variant {v!r}")

    tmp = Path(tempfile.mkdtemp(prefix="bench-defs-"))
    env = {
        "INTEGRATIONS_HOME": str(tmp / "home"),
        "INTEGRATIONS_CATALOG_DIR": str(copy_catalog(tmp / "catalog")),
    }
    if not os.environ.get(ENV_ENCRYPTION_KEYS):
        env[ENV_ENCRYPTION_KEYS] = generate_key()  # the EnvVar is only named at load
    try:
        # `get_settings()` (what the code server's `defs()` reads) then sees this store.
        with patched_environ(env, remove=_PLATFORM_ENV, on_change=get_settings.cache_clear):
            results = _run(args, modes, variants, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["results_file"] = str(write_results(NAME, results))
    return results


def _run(
    args: argparse.Namespace, modes: list[str], variants: list[str], tmp: Path
) -> dict[str, Any]:
    settings = Settings.from_env()
    catalog = load_catalog(settings.catalog_dir)
    snapshots = platform_snapshots(args.n, args.streams, args.columns)

    setup: dict[str, Any] = {"columns_per_stream": args.columns}
    if "store" in variants or "code_server" in variants:
        log(f"[defs] storing {args.n} integrations through IntegrationService.add ...")
        setup["store_populate_s"] = round(
            populate_store(settings, catalog, args.n, args.streams, args.columns), 2
        )
        setup["store_url"] = settings.database_url

    sides: dict[str, Callable[[], dg.Definitions | dg.RepositoryDefinition]] = {
        "baseline": lambda: baseline_definitions(args.n, args.streams, args.columns),
        "memory": lambda: build_definitions(catalog, snapshots),
        "store": lambda: (forget_last_build(), load_definitions(settings))[1],
        "code_server": lambda: (forget_last_build(), code_server_load())[1],
        "baseline_code_server": BaselineCodeServer(
            tmp / "baseline-modules", args.n, args.streams, args.columns
        ),
    }
    # Each platform variant is paired with a baseline run just before it; the code-server
    # load is paired with the baseline loaded by the same code-server machinery.
    order = [side for v in variants for side in (PAIRED_BASELINE[v], v)]

    # Warm-up (untimed, N<=20): imports, Dagster's lazy caches, the store's pages.
    warm_n = min(args.n, 20)
    warm_snaps = platform_snapshots(warm_n, args.streams, args.columns)
    for mode in modes:
        build_and_snapshot(lambda: baseline_definitions(warm_n, args.streams, args.columns), mode)
        build_and_snapshot(lambda: build_definitions(catalog, warm_snaps), mode)
    for variant in ("store", "code_server"):
        if variant in variants:
            sides[variant]()
    if "code_server" in variants:
        BaselineCodeServer(tmp / "baseline-modules", warm_n, args.streams, args.columns)()

    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    paired: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for mode in modes:
        for rep in range(args.reps):
            previous_baseline: dict[str, Any] = {}
            for side in order:
                sample = build_and_snapshot(sides[side], mode)
                samples.setdefault((mode, side), []).append(sample)
                if side.startswith("baseline"):
                    previous_baseline = sample
                else:
                    paired.setdefault((mode, side), []).append(previous_baseline)
                log(
                    f"[defs] mode={mode} rep={rep + 1}/{args.reps} {side:<20} "
                    f"{sample['total_s']:.3f}s cpu={sample['cpu_s']:.3f}s  "
                    + " ".join(f"{k}={v:.3f}" for k, v in sample["phases_s"].items())
                )

    comparisons: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for mode in modes:
        for side in dict.fromkeys(order):
            runs = samples[(mode, side)]
            details[f"{mode}/{side}"] = {
                "phase_medians_s": {
                    k: round(median(s["phases_s"][k] for s in runs), 4) for k in runs[0]["phases_s"]
                },
                "shape": runs[0]["shape"],
            }
            if not side.startswith("baseline"):
                base = [s["total_s"] for s in paired[(mode, side)]]
                base_cpu = [s["cpu_s"] for s in paired[(mode, side)]]
                row = comparison(
                    base,
                    [s["total_s"] for s in runs],
                    args.target,
                    base_cpu,
                    [s["cpu_s"] for s in runs],
                )
                row["baseline"] = PAIRED_BASELINE[side]
                comparisons[f"{side}/{mode}"] = row

    diagnostics: dict[str, Any] = {}
    if "store" in variants or "code_server" in variants:
        log("[defs] load breakdown ...")
        diagnostics["load_breakdown"] = load_breakdown(settings, catalog)

    return {
        "benchmark": NAME,
        "target_ratio": args.target,
        "params": {
            "n": args.n,
            "streams": args.streams,
            "reps": args.reps,
            "modes": modes,
            "variants": variants,
            "interleaving": order,
        },
        "setup": setup,
        "comparisons": comparisons,
        "details": details,
        "diagnostics": diagnostics,
        "environment": environment(),
        "results_file": None,
    }


def report(results: dict[str, Any]) -> None:
    """Human summary, then the JSON."""
    p = results["params"]
    print_table(
        f"definitions_scale: N={p['n']} integrations x {p['streams']} streams, "
        f"{p['reps']} interleaved reps (median wall time of load/build + snapshot)",
        results["comparisons"],
    )
    print("\nphase medians (s):")
    for key, detail in results["details"].items():
        phases = " ".join(f"{k}={v:.3f}" for k, v in detail["phase_medians_s"].items())
        shape = detail["shape"]
        print(
            f"  {key:<22} {phases}  snapshot={shape['snapshot_bytes']:,}B "
            f"pin={shape['reconstruction_metadata_bytes']:,}B"
        )
    breakdown = results["diagnostics"].get("load_breakdown")
    if breakdown:
        print("\nload breakdown (medians, s):")
        for k, v in breakdown["medians_s"].items():
            print(f"  {k:<42} {v:.3f}")
    print(json.dumps(results, indent=2))
    print(f"\nresults written to {results['results_file']}")


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    args = sys.argv[1:] if argv is None else argv
    results = run(args)
    report(results)
    if "--check" in args and not all(c["meets_target"] for c in results["comparisons"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
