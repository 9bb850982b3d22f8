"""Run both benchmarks and print one summary.

    .venv/bin/python -m benchmarks.run_all            # full sizes (N=1000; 200,000 rows)
    .venv/bin/python -m benchmarks.run_all --quick    # small sizes, a couple of minutes
    .venv/bin/python -m benchmarks.run_all --check    # exit 1 when a target is missed

Each benchmark also writes ``benchmarks/results/<name>.json``; this writes
``benchmarks/results/summary.json``.
"""

import argparse
import json
import sys
from typing import Any

from benchmarks import definitions_scale, sync_throughput
from benchmarks._common import environment, log, print_table, write_results


def main(argv: list[str] | None = None) -> int:
    """Run ``definitions_scale`` then ``sync_throughput``; print and write a summary."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run_all", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: N=100 integrations, 20,000 rows, 2 reps"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a ratio misses its target"
    )
    parser.add_argument(
        "--only", choices=("definitions_scale", "sync_throughput"), help="run just one of them"
    )
    args = parser.parse_args(argv)

    plans: dict[str, tuple[Any, list[str]]] = {
        "definitions_scale": (
            definitions_scale,
            ["--n", "100", "--reps", "2"] if args.quick else [],
        ),
        "sync_throughput": (
            sync_throughput,
            ["--rows", "20000", "--reps", "2"] if args.quick else [],
        ),
    }
    results: dict[str, dict[str, Any]] = {}
    for name, (module, bench_args) in plans.items():
        if args.only and name != args.only:
            continue
        log(f"=== {name} {' '.join(bench_args)}".rstrip())
        results[name] = module.run(bench_args)

    print("\n" + "=" * 78)
    print("SUMMARY (ratio = platform median / baseline median; lower is better)")
    summary: dict[str, Any] = {"benchmarks": {}, "environment": environment()}
    all_ok = True
    for name, res in results.items():
        gating = res["comparisons"]
        if name == "sync_throughput":
            gating = {"platform": res["comparisons"]["platform"]}
        print_table(f"{name} {json.dumps(res['params'])}", gating)
        ok = all(c["meets_target"] for c in gating.values())
        all_ok &= ok
        summary["benchmarks"][name] = {
            "params": res["params"],
            "comparisons": {
                k: {
                    f: c[f]
                    for f in (
                        "baseline_median_s",
                        "platform_median_s",
                        "ratio",
                        "target_ratio",
                        "meets_target",
                    )
                }
                for k, c in gating.items()
            },
            "meets_target": ok,
            "results_file": res.get("results_file"),
        }
    summary["all_meet_target"] = all_ok
    path = write_results("summary", summary)
    print("\n" + json.dumps(summary, indent=2))
    print(f"\nsummary written to {path}")
    print("ALL TARGETS MET" if all_ok else "SOME TARGETS MISSED")
    return 1 if args.check and not all_ok else 0


if __name__ == "__main__":
    sys.exit(main())
