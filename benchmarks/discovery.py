"""Discovery and many-stream syncs against the Salesforce sandbox's org.

Two comparisons, each interleaved (baseline, platform, baseline, platform, ...):

* **discovery** – the org grown to ``--objects`` objects (default 500).
  *baseline*: the tap's own ``--discover`` run directly (the sandbox-login launcher of
  ``tap-salesforce``, its config in a JSON file), stdout to a file; *platform*:
  ``IntegrationService.discover`` (``meltano invoke --dump=catalog``, the catalog parsed,
  the unqueryable objects left out, the result stored).
* **many_streams** – an integration selecting ``--streams`` custom objects (default 100,
  3 records each) into JSON Lines. *baseline*: one ``meltano el`` of the same streams with
  the same prepared catalog (Meltano's ``catalog`` extra), state in a scratch database;
  *platform*: the integration materialized through real Dagster (one tap process, the
  stored catalog). ``--per-stream N`` also times, once, what the platform did before: one
  ``meltano el`` per stream with Meltano discovering the org each time, for N streams.

Run from the repository root: ``.venv/bin/python -m benchmarks.discovery [--objects 500]
[--streams 100] [--reps 3] [--per-stream 10]``.
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from benchmarks._common import (
    REPO_ROOT,
    comparison,
    copy_catalog,
    cpu_seconds,
    environment,
    log,
    patched_environ,
    print_table,
    write_results,
)
from integrations_platform.catalog import load_catalog
from integrations_platform.catalog.validation import effective_config
from integrations_platform.discovery import select_catalog
from integrations_platform.integration import StreamSelection
from integrations_platform.orchestration.definitions import build_definitions
from integrations_platform.orchestration.resources import MeltanoResource
from integrations_platform.runner.meltano import SyncRequest, prepare_sync
from integrations_platform.runner.processes import make_sys_dir
from integrations_platform.sandbox import SalesforceSandbox, SandboxCredentials
from integrations_platform.sandbox.data import FieldSpec
from integrations_platform.service import IntegrationService
from integrations_platform.settings import Settings, get_settings
from integrations_platform.store import generate_key

NAME = "discovery"
DISCOVERY_TARGET = 1.2
MANY_STREAMS_TARGET = 1.5
LAUNCHER = REPO_ROOT / "meltano/.meltano/extractors/tap-salesforce-sandbox/venv/bin"
CREDENTIALS = SandboxCredentials()
# The org's records and the integration's start date: recent, so that a sync records
# few covered partitions (docs/backfills.md).
START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)


def grow(org: SalesforceSandbox, objects: int) -> None:
    """Add custom objects until the org has ``objects`` of them."""
    i = 0
    while len(org.object_names) < objects:
        i += 1
        org.add_object(f"Bench_{i:04d}__c", [FieldSpec("Value__c", "string", custom=True)])


def config(org: SalesforceSandbox) -> dict[str, str]:
    return {
        "client_id": CREDENTIALS.client_id,
        "client_secret": CREDENTIALS.client_secret,
        "refresh_token": CREDENTIALS.refresh_token,
        "instance_url": org.url,
    }


def direct_discover(org: SalesforceSandbox, tmp: Path) -> float:
    """The tap's own discovery: ``tap-salesforce-sandbox --config FILE --discover``."""
    config_file = tmp / "tap-config.json"
    # The settings the platform hands the tap: the catalog's defaults (api_type, ...).
    connector = load_catalog(Settings.from_env().catalog_dir).get("salesforce")
    values = {**effective_config(connector, config(org)), "start_date": "2000-01-01T00:00:00Z"}
    config_file.write_text(json.dumps(values))
    out = tmp / "direct-catalog.json"
    started = time.perf_counter()
    with out.open("w") as handle:
        subprocess.run(
            [str(LAUNCHER / "tap-salesforce-sandbox"), "--config", str(config_file), "--discover"],
            stdout=handle,
            stderr=subprocess.DEVNULL,
            check=True,
            env={**os.environ, "INTEGRATIONS_SALESFORCE_LOGIN_URL": org.url},
        )
    elapsed = time.perf_counter() - started
    assert len(json.loads(out.read_text())["streams"]) >= 300
    return elapsed


@contextmanager
def full_org_platform(prefix: str, latency_ms: float) -> Iterator[tuple[SalesforceSandbox, Path]]:
    """The sandbox's full org, and a fresh platform (home, catalog, key) in a temporary
    folder whose logins go to it; the folder is removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = {
        "INTEGRATIONS_HOME": str(tmp / "home"),
        "INTEGRATIONS_CATALOG_DIR": str(copy_catalog(tmp / "catalog")),
        "INTEGRATIONS_ENCRYPTION_KEYS": generate_key(),
    }
    try:
        with SalesforceSandbox(
            CREDENTIALS, org="full", latency_s=latency_ms / 1000, start=START
        ) as org:
            env["INTEGRATIONS_SALESFORCE_LOGIN_URL"] = org.url
            with patched_environ(env, on_change=get_settings.cache_clear):
                yield org, tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.discovery")
    parser.add_argument("--objects", type=int, default=500, help="objects in the org")
    parser.add_argument("--streams", type=int, default=100, help="streams of the sync")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="delay of each sandbox answer, as a real org's network adds (default 0)",
    )
    parser.add_argument(
        "--per-stream",
        type=int,
        default=10,
        help="streams of the one-run-per-stream side (0: skip)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a ratio misses its target"
    )
    args = parser.parse_args(argv)
    with full_org_platform("bench-discovery-", args.latency_ms) as (org, tmp):
        results = _run(args, org, tmp)
    results["check"] = args.check
    results["results_file"] = str(write_results(NAME, results))
    return results


def _run(args: argparse.Namespace, org: SalesforceSandbox, tmp: Path) -> dict[str, Any]:
    grow(org, args.objects)
    settings = Settings.from_env()
    service = IntegrationService.from_settings(settings, os.environ)
    service.add(
        "salesforce", "bench", config(org), streams=["Account"], start_date=START.date().isoformat()
    )
    log(f"[discovery] org of {len(org.object_names)} objects; warm-up ...")
    direct_discover(org, tmp)
    assert service.discover("bench").ok

    base_s, plat_s, base_cpu, plat_cpu = [], [], [], []
    for rep in range(args.reps):
        cpu = cpu_seconds()
        base_s.append(direct_discover(org, tmp))
        base_cpu.append(cpu_seconds() - cpu)
        cpu, started = cpu_seconds(), time.perf_counter()
        found = service.discover("bench")
        plat_s.append(time.perf_counter() - started)
        plat_cpu.append(cpu_seconds() - cpu)
        assert found.discovery is not None
        log(f"[discovery] rep {rep + 1}: direct {base_s[-1]:.2f}s, platform {plat_s[-1]:.2f}s")
    assert found.discovery is not None
    results: dict[str, Any] = {
        "environment": environment(),
        "latency_ms": args.latency_ms,
        "objects": len(org.object_names),
        "discovered_streams": len(found.discovery.streams),
        "comparisons": {
            "discovery": comparison(base_s, plat_s, DISCOVERY_TARGET, base_cpu, plat_cpu)
        },
    }

    # Many streams: custom objects, 3 records each.
    # The org's own custom objects (three records each), not the ones grown above.
    custom = (n for n in org.object_names if n.endswith("__c") and not n.startswith("Bench_"))
    names = sorted(custom)[: args.streams]
    service.update("bench", streams=[StreamSelection(n) for n in names])
    stored = service.get("bench")
    catalog = select_catalog(service.discovery("bench").catalog, stored.streams)
    catalog_file = tmp / "prepared-catalog.json"
    catalog_file.write_text(json.dumps(catalog))
    expected = sum(len(org.records(n)) for n in names)

    instance_dir = tmp / "dagster"
    instance_dir.mkdir()
    with dg.instance_for_test(temp_dir=str(instance_dir)) as instance:
        assets = _assets(service, settings)
        base_s, plat_s, base_cpu, plat_cpu = [], [], [], []
        for rep in range(args.reps + 1):  # the first of each side is a warm-up
            cpu = cpu_seconds()
            seconds, rows = direct_el(settings, service, stored.streams, catalog_file, tmp, rep)
            used = cpu_seconds() - cpu
            assert rows == expected, (rows, expected)
            cpu, started = cpu_seconds(), time.perf_counter()
            result = dg.materialize(
                [assets],
                instance=instance,
                resources={"meltano": MeltanoResource()},
                run_config={"ops": {"bench_sync": {"config": {"full_refresh": True}}}},
            )
            elapsed = time.perf_counter() - started
            plat_used = cpu_seconds() - cpu
            assert result.success
            if rep:
                base_s.append(seconds)
                base_cpu.append(used)
                plat_s.append(elapsed)
                plat_cpu.append(plat_used)
            log(f"[many_streams] rep {rep}: direct {seconds:.2f}s, platform {elapsed:.2f}s")
    results["streams"] = len(names)
    results["rows"] = expected
    results["comparisons"]["many_streams"] = comparison(
        base_s, plat_s, MANY_STREAMS_TARGET, base_cpu, plat_cpu
    )
    if args.per_stream:
        results["one_run_per_stream"] = per_stream(
            settings, service, stored.streams[: args.per_stream], tmp
        )
    return results


def _assets(service: IntegrationService, settings: Settings) -> dg.AssetsDefinition:
    snapshots = [i.for_orchestration() for i in service.store.list_all()]
    defs = build_definitions(service.catalog, snapshots)
    return next(
        a
        for a in defs.assets or []
        if isinstance(a, dg.AssetsDefinition) and a.op.name == "bench_sync"
    )


def _prepared(
    settings: Settings, service: IntegrationService, streams: Any, tmp: Path, state_id: str
) -> tuple[list[str], dict[str, str], Path]:
    integration = service.get("bench")
    request = SyncRequest(
        integration="bench-direct",
        state_id=state_id,
        connector=service.catalog.get("salesforce"),
        config=service.decrypted_config(integration),
        start_date=integration.start_date,
        destination=service.target("jsonl"),
        streams=list(streams),
        full_refresh=True,
    )
    sys_dir = make_sys_dir(settings)
    prepared = prepare_sync(request, settings, os.environ, sys_dir)
    out = tmp / "direct-out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    env = dict(prepared.env)
    env["TARGET_JSONL_DESTINATION_PATH"] = str(out)
    return prepared.args, env, out


def direct_el(
    settings: Settings,
    service: IntegrationService,
    streams: Any,
    catalog_file: Path,
    tmp: Path,
    rep: int,
) -> tuple[float, int]:
    """One ``meltano el`` of every stream, Meltano given the prepared catalog."""
    args, env, out = _prepared(settings, service, streams, tmp, f"bench-direct-{rep}")
    env["TAP_SALESFORCE_SANDBOX__CATALOG"] = str(catalog_file)
    started = time.perf_counter()
    subprocess.run(args, env=env, cwd=settings.meltano_project_dir, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    rows = sum(len(p.read_text().splitlines()) for p in out.glob("*.jsonl"))
    return elapsed, rows


def per_stream(
    settings: Settings, service: IntegrationService, streams: Any, tmp: Path
) -> dict[str, Any]:
    """Before: one ``meltano el`` per stream, each discovering the org."""
    log(f"[per_stream] {len(streams)} runs, one per stream ...")
    started = time.perf_counter()
    for i, stream in enumerate(streams):
        args, env, _ = _prepared(settings, service, [stream], tmp, f"bench-per-stream-{i}")
        subprocess.run(
            args, env=env, cwd=settings.meltano_project_dir, check=True, capture_output=True
        )
    elapsed = time.perf_counter() - started
    return {
        "streams": len(streams),
        "seconds": round(elapsed, 2),
        "seconds_per_stream": round(elapsed / len(streams), 2),
    }


def report(results: dict[str, Any]) -> None:
    print_table(
        f"discovery ({results['objects']} objects, {results['latency_ms']:g} ms a request) "
        f"and a sync of {results['streams']} streams",
        results["comparisons"],
    )
    before = results.get("one_run_per_stream")
    if before:
        print(
            f"  one run per stream (before): {before['seconds_per_stream']} s per stream "
            f"({before['streams']} streams in {before['seconds']} s)"
        )


def main(argv: list[str] | None = None) -> int:
    results = run(argv)
    report(results)
    print(json.dumps(results, indent=2))
    ok = all(c["meets_target"] for c in results["comparisons"].values())
    return 1 if results["check"] and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
