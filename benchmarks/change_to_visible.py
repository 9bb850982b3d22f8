"""From a change to the new assets in Dagster: the platform against a plain reload.

    .venv/bin/python -m benchmarks.change_to_visible [--sizes 100 1000] [--reps 3]

For each size N, one real ``dagster dev`` (webserver and daemon) serves two code
locations side by side:

* **platform** – the project's ``integrations`` location over a config store holding N
  integrations (``postgres`` connector, 3 streams each), with the real config API
  (``integrations api``) in front. Timed: ``POST /api/v1/integrations`` of one more
  integration (which stores it and reloads the code location) until its first asset
  answers in Dagster's GraphQL API.
* **baseline** – a module written with Dagster only, the same shape as the platform's
  (``benchmarks.definitions_scale.baseline_definitions``: N multi-assets with the same
  partitions, specs and schedules), reading N from a file. Timed: bump N by one,
  ``reloadRepositoryLocation`` through GraphQL, until the new asset answers.

Platform and baseline alternate (baseline, platform, baseline, …). Reported per size:
both medians, their ratio, and the issue's absolute goals (under 3 s at 100 integrations,
under 10 s at 1,000). Written to ``benchmarks/results/change_to_visible.json``.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import REPO_ROOT, comparison, environment, log, write_results

NAME = "change_to_visible"
BIN = Path(sys.executable).parent
STREAMS = 3
TOKEN = "benchmark-token-0123456789abcdef"
GOALS_S = {100: 3.0, 1000: 10.0}
# The platform's reload sits behind an API call; the ratio is informational.
TARGET_RATIO = 1.5
ASSET_QUERY = """query($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) { __typename } }"""
LOCATIONS_QUERY = """{ workspaceOrError { ... on Workspace {
  locationEntries { name loadStatus } } } }"""
RELOAD = """mutation($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name) {
  __typename } }"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _populate(env: dict[str, str], n: int) -> None:
    """N postgres integrations, stored through the service with the environment's key."""
    from benchmarks.definitions_scale import (
        CONNECTOR,
        START_DATE,
        integration_name,
        stream_selection,
    )
    from integrations_platform.catalog import load_catalog
    from integrations_platform.service import IntegrationService
    from integrations_platform.settings import Settings
    from integrations_platform.store import ConfigStore, KeyRing

    settings = Settings.from_env(env)
    settings.home.mkdir(parents=True, exist_ok=True)
    store = ConfigStore.open(settings.database_url)
    service = IntegrationService(
        load_catalog(settings.catalog_dir), store, lambda: KeyRing.from_env(env)
    )
    try:
        for i in range(n):
            service.add(
                CONNECTOR,
                integration_name(i),
                _config(i),
                streams=[stream_selection(j) for j in range(STREAMS)],
                start_date=START_DATE,
            )
    finally:
        store.close()


def _config(i: int) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": 5432,
        "user": "postgres",
        "password": "unused-password",
        "database": f"db_{i:04d}",
    }


def _workspace(directory: Path) -> Path:
    baseline = directory / "baseline_defs.py"
    baseline.write_text(
        "from pathlib import Path\n"
        "from benchmarks.definitions_scale import baseline_definitions\n"
        f"defs = baseline_definitions(int((Path(__file__).parent / 'n.txt').read_text()), "
        f"{STREAMS})\n"
    )
    workspace = directory / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_module:\n"
        "      module_name: integrations_platform.orchestration.definitions\n"
        "      attribute: defs\n"
        "      location_name: integrations\n"
        f"      working_directory: {REPO_ROOT}\n"
        "  - python_file:\n"
        f"      relative_path: {baseline}\n"
        "      attribute: defs\n"
        "      location_name: baseline\n"
        f"      working_directory: {REPO_ROOT}\n"
    )
    return workspace


class Graphql:
    """The webserver's GraphQL API."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.http = httpx.Client(timeout=120)

    def call(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self.http.post(self.url, json={"query": query, "variables": variables or {}})
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()["data"]
        return data

    def visible(self, path: list[str]) -> bool:
        node = self.call(ASSET_QUERY, {"path": path})["assetNodeOrError"]
        return bool(node["__typename"] == "AssetNode")

    def wait_visible(self, path: list[str], seconds: float = 600) -> None:
        deadline = time.monotonic() + seconds
        while not self.visible(path):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{'/'.join(path)} never appeared")
            time.sleep(0.02)

    def loaded(self) -> bool:
        try:
            entries = self.call(LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            return False
        return len(entries) == 2 and all(e["loadStatus"] == "LOADED" for e in entries)


def measure(n: int, reps: int) -> dict[str, Any]:
    """Baseline and platform, alternating, with N integrations loaded."""
    from benchmarks.definitions_scale import integration_name
    from integrations_platform.store import generate_key

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        dagster_port, api_port = _free_port(), _free_port()
        own = ("INTEGRATIONS_", "DAGSTER_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
        env.update(
            INTEGRATIONS_HOME=str(root / "home"),
            INTEGRATIONS_ENCRYPTION_KEYS=generate_key(),
            INTEGRATIONS_API_TOKEN=TOKEN,
            INTEGRATIONS_DAGSTER_URL=f"http://127.0.0.1:{dagster_port}",
            DAGSTER_HOME=str(root / "dagster"),
            PYTHONPATH=str(REPO_ROOT),
        )
        (root / "dagster").mkdir()
        (root / "dagster" / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
        log(f"[{n}] storing {n} integrations...")
        _populate(env, n)
        (root / "n.txt").write_text(str(n))
        workspace = _workspace(root)
        log(f"[{n}] starting dagster dev and the API...")
        processes = [
            subprocess.Popen(
                [str(BIN / "dagster"), "dev", "-w", str(workspace), "-p", str(dagster_port)],
                env=env,
                cwd=root,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            ),
            subprocess.Popen(
                [str(BIN / "integrations"), "api", "--port", str(api_port)],
                env=env,
                cwd=root,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            ),
        ]
        graphql = Graphql(dagster_port)
        baseline_s: list[float] = []
        platform_s: list[float] = []
        try:
            deadline = time.monotonic() + 900
            while not graphql.loaded():
                if time.monotonic() > deadline:
                    raise TimeoutError("the code locations never loaded")
                time.sleep(1)
            api = httpx.Client(
                base_url=f"http://127.0.0.1:{api_port}",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=600,
            )
            deadline = time.monotonic() + 120
            while True:
                try:
                    if api.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.5)
            for rep in range(reps):
                # Baseline: one more integration in the module, then Dagster's reload.
                (root / "n.txt").write_text(str(n + rep + 1))
                started = time.perf_counter()
                reloaded = graphql.call(RELOAD, {"name": "baseline"})["reloadRepositoryLocation"]
                assert reloaded["__typename"] == "WorkspaceLocationEntry", reloaded
                graphql.wait_visible([integration_name(n + rep), "public_table_0"])
                baseline_s.append(time.perf_counter() - started)
                # Platform: one more integration through the API.
                name = f"added_{rep}"
                started = time.perf_counter()
                created = api.post(
                    "/api/v1/integrations",
                    json={
                        "name": name,
                        "connector": "postgres",
                        "config": _config(n + rep),
                        "streams": [{"name": f"public-table_{j}"} for j in range(STREAMS)],
                    },
                )
                assert created.status_code == 201, created.text
                graphql.wait_visible([name, "public_table_0"])
                platform_s.append(time.perf_counter() - started)
                log(
                    f"[{n}] rep {rep + 1}: baseline {baseline_s[-1]:.2f} s, "
                    f"platform {platform_s[-1]:.2f} s ({created.json()['definitions']})"
                )
        finally:
            for process in processes:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            for process in processes:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
    row = comparison(baseline_s, platform_s, TARGET_RATIO)
    goal = GOALS_S.get(n)
    row.update(
        integrations=n,
        streams_per_integration=STREAMS,
        goal_s=goal,
        meets_goal=None if goal is None else row["platform_median_s"] < goal,
    )
    return row


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure every size; returns (and writes) the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "environment": environment(),
        "sizes": {str(n): measure(n, args.reps) for n in args.sizes},
    }
    path = write_results(NAME, results)
    log(f"written to {path}")
    return results


def main(argv: list[str] | None = None) -> int:
    """Print a table and the JSON; exit 1 if a goal is missed."""
    results = run(argv)
    print(f"{'integrations':>12} {'baseline s':>11} {'platform s':>11} {'ratio':>6} {'goal s':>7}")
    ok = True
    for n, row in results["sizes"].items():
        goal = row["goal_s"]
        print(
            f"{n:>12} {row['baseline_median_s']:>11.2f} {row['platform_median_s']:>11.2f} "
            f"{row['ratio']:>6.2f} {goal if goal is not None else '-':>7}"
        )
        ok = ok and row["meets_goal"] is not False
    print(json.dumps(results["sizes"], indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
