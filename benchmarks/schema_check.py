"""What looking for schema changes costs a sync: 10 Salesforce objects, with and without.

Both sides materialize the same integration (10 custom objects of the sandbox's full
org, incremental, into JSON Lines) through real Dagster, interleaved:

* baseline - ``INTEGRATIONS_SCHEMA_CHECKS=off``: the sync starts at once;
* platform - the default: before it reads a record, the sync logs in natively and
  describes the 10 selected objects, compares them with the snapshot of the last check
  and, nothing having changed, syncs with the stored catalog (no discovery).

Target: platform <= 1.10 x baseline (median wall time). ``--latency-ms`` delays every
answer of the sandbox, as a real org's network does (each describe is one request).

    .venv/bin/python -m benchmarks.schema_check [--streams 10] [--reps 5] [--latency-ms 0]
"""

import argparse
import os
import time
from pathlib import Path
from typing import Any

import dagster as dg

from benchmarks._common import (
    comparison,
    cpu_seconds,
    environment,
    log,
    print_table,
    write_results,
)
from benchmarks.discovery import START, config, full_org_platform
from integrations_platform.integration import StreamSelection
from integrations_platform.orchestration.definitions import build_definitions
from integrations_platform.orchestration.resources import MeltanoResource
from integrations_platform.sandbox import SalesforceSandbox
from integrations_platform.service import IntegrationService
from integrations_platform.settings import ENV_SCHEMA_CHECKS, Settings

NAME = "schema_check"
TARGET_RATIO = 1.10


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.schema_check")
    parser.add_argument("--streams", type=int, default=10, help="objects the sync selects")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay of each answer")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    with full_org_platform("bench-schema-", args.latency_ms) as (org, tmp):
        results = _run(args, org, tmp)
    results["check"] = args.check
    results["results_file"] = str(write_results(NAME, results))
    return results


def _run(args: argparse.Namespace, org: SalesforceSandbox, tmp: Path) -> dict[str, Any]:
    settings = Settings.from_env()
    service = IntegrationService.from_settings(settings, os.environ)
    names = sorted(n for n in org.object_names if n.endswith("__c"))[: args.streams]
    service.add(
        "salesforce",
        "bench",
        config(org),
        streams=[StreamSelection(n) for n in names],
        start_date=START.date().isoformat(),
    )
    snapshots = [i.for_orchestration() for i in service.store.list_all()]
    assets = next(
        a
        for a in build_definitions(service.catalog, snapshots).assets or []
        if isinstance(a, dg.AssetsDefinition) and a.op.name == "bench_sync"
    )
    instance_dir = tmp / "dagster"
    instance_dir.mkdir()

    def sync(checks: bool, instance: dg.DagsterInstance) -> tuple[float, float]:
        os.environ[ENV_SCHEMA_CHECKS] = "on" if checks else "off"
        cpu, started = cpu_seconds(), time.perf_counter()
        result = dg.materialize(
            [assets], instance=instance, resources={"meltano": MeltanoResource()}
        )
        elapsed, used = time.perf_counter() - started, cpu_seconds() - cpu
        assert result.success
        return elapsed, used

    base_s: list[float] = []
    plat_s: list[float] = []
    base_cpu: list[float] = []
    plat_cpu: list[float] = []
    try:
        with dg.instance_for_test(temp_dir=str(instance_dir)) as instance:
            log(f"[schema_check] {len(names)} objects; warm-up (the first check's snapshot) ...")
            sync(True, instance)
            sync(False, instance)
            for rep in range(args.reps):
                seconds, used = sync(False, instance)
                base_s.append(seconds)
                base_cpu.append(used)
                seconds, used = sync(True, instance)
                plat_s.append(seconds)
                plat_cpu.append(used)
                log(f"[schema_check] rep {rep + 1}: off {base_s[-1]:.2f}s, on {plat_s[-1]:.2f}s")
    finally:
        os.environ.pop(ENV_SCHEMA_CHECKS, None)
    return {
        "environment": environment(),
        "streams": len(names),
        "latency_ms": args.latency_ms,
        "comparisons": {
            "schema_check": comparison(base_s, plat_s, TARGET_RATIO, base_cpu, plat_cpu)
        },
    }


def main(argv: list[str] | None = None) -> int:
    results = run(argv)
    print_table("schema check (on / off)", results["comparisons"])
    missed = not results["comparisons"]["schema_check"]["meets_target"]
    return 1 if results["check"] and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
