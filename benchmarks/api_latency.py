"""API speed: list latency under 50 concurrent clients, Salesforce test connection, and
the time from `POST /integrations` to the assets being visible in Dagster.

    .venv/bin/python -m benchmarks.api_latency [--integrations 1000] [--clients 50]

1. A real uvicorn server over a store of N integrations (and a real, empty Dagster
   instance for the status columns). 50 clients hammer `GET /api/v1/integrations`, then
   `/healthz`, alternating phases; p50/p95 of each and the p95 ratio (goal: <= 3x); then
   again with every client signed in as its own user, polling with its session cookie
   (goal: <= 2x). `--only-list` runs just these two.
2. Salesforce test connection against the sandbox: the native check (token grant and
   `limits`) vs `meltano config test` on the same integration (goal: < 2 s, and faster).
3. With 100 integrations stored and a real `dagster dev`, from `POST /integrations` to
   its assets in Dagster's GraphQL API (goal: < 5 s).
"""

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import (
    DEMO_SALESFORCE_CONFIG,
    REPO_ROOT,
    environment,
    log,
    store_salesforce_integrations,
    write_results,
)

BIN = Path(sys.executable).parent
TOKEN = "benchmark-token-0123456789abcdef"
SF_CONFIG = DEMO_SALESFORCE_CONFIG


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _wait(url: str, seconds: float, ok=lambda r: r.status_code == 200) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ok(httpx.get(url, timeout=2)):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not come up")


def _env(home: Path, **extra: str) -> dict[str, str]:
    from integrations_platform.store import generate_key

    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "DAGSTER_"))}
    env.update(
        {
            "INTEGRATIONS_HOME": str(home),
            "INTEGRATIONS_ENCRYPTION_KEYS": generate_key(),
            "INTEGRATIONS_API_TOKEN": TOKEN,
            "DAGSTER_HOME": str(home / "dagster"),
        }
    )
    env.update(extra)
    (home / "dagster").mkdir(parents=True, exist_ok=True)
    (home / "dagster" / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    return env


async def _phase(
    url: str, clients: int, per_client: int, sessions: list[str] | None = None
) -> list[float]:
    """Latencies of ``clients`` concurrent clients; each with its own sign-in session
    cookie when ``sessions`` are given, else all with the service token."""
    headers = {} if sessions else {"Authorization": f"Bearer {TOKEN}"}
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=120) as client:

        async def worker(n: int) -> None:
            own = {"Cookie": f"integrations_session={sessions[n]}"} if sessions else {}
            for _ in range(per_client):
                started = time.perf_counter()
                reply = await client.get(url, headers=own)
                reply.raise_for_status()
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker(n) for n in range(clients)))
    return latencies


def _add_users(env: dict[str, str], clients: int) -> None:
    """One viewer per client (each will sign in once and poll with its own session)."""
    from integrations_platform.people import Accounts
    from integrations_platform.settings import Settings
    from integrations_platform.store import ConfigStore

    store = ConfigStore.open(Settings.from_env(env).database_url)
    try:
        accounts = Accounts(store)
        for n in range(clients):
            accounts.add_user(f"reader{n}", "viewer", SESSION_PASSWORD)
    finally:
        store.close()


def _sign_in(base: str, clients: int) -> list[str]:
    sessions = []
    for n in range(clients):
        reply = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"name": f"reader{n}", "password": SESSION_PASSWORD},
            timeout=60,
        )
        reply.raise_for_status()
        sessions.append(reply.cookies["integrations_session"])
    return sessions


SESSION_PASSWORD = "benchmark passphrase of readers"


def bench_list(
    integrations: int, clients: int, rounds: int, per_client: int, auth: str = "token"
) -> dict[str, Any]:
    """The list under load; ``auth`` "session": every client signed in as its own user
    (the goal is then 2x /healthz: a session lookup must stay off the hot path)."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = _env(home)
        log(f"storing {integrations} integrations...")
        store_salesforce_integrations(env, integrations)
        if auth == "session":
            _add_users(env, clients)
        port = _free_port()
        server = subprocess.Popen(
            [str(BIN / "integrations"), "api", "--port", str(port)],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(f"{base}/healthz", 60)
            count = len(
                httpx.get(
                    f"{base}/api/v1/integrations",
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=60,
                ).json()
            )
            assert count == integrations, count
            sessions = _sign_in(base, clients) if auth == "session" else None
            lists: list[float] = []
            healths: list[float] = []
            for r in range(rounds):
                log(f"round {r + 1}/{rounds}: {clients} clients x {per_client} requests ({auth})")
                lists += asyncio.run(
                    _phase(f"{base}/api/v1/integrations", clients, per_client, sessions)
                )
                healths += asyncio.run(_phase(f"{base}/healthz", clients, per_client))
        finally:
            server.terminate()
            server.wait(timeout=30)
    goal = 2.0 if auth == "session" else 3.0
    result = {
        "auth": auth,
        "integrations": integrations,
        "clients": clients,
        "requests_each": len(lists),
        "list_p50_ms": round(_pct(lists, 0.50) * 1000, 1),
        "list_p95_ms": round(_pct(lists, 0.95) * 1000, 1),
        "healthz_p50_ms": round(_pct(healths, 0.50) * 1000, 1),
        "healthz_p95_ms": round(_pct(healths, 0.95) * 1000, 1),
    }
    result["p95_ratio"] = round(result["list_p95_ms"] / result["healthz_p95_ms"], 2)
    result["goal_p95_ratio"] = goal
    result["meets_goal"] = result["p95_ratio"] <= goal
    return result


def bench_test_connection(reps: int) -> dict[str, Any]:
    from integrations_platform.catalog import load_catalog
    from integrations_platform.runner.connection_test import test_connection
    from integrations_platform.sandbox import SalesforceSandbox
    from integrations_platform.settings import Settings

    with tempfile.TemporaryDirectory() as tmp, SalesforceSandbox() as sandbox:
        env = _env(Path(tmp) / "home", INTEGRATIONS_SALESFORCE_LOGIN_URL=sandbox.url)
        settings = Settings.from_env(env)
        connector = load_catalog(settings.catalog_dir).get("salesforce")
        native: list[float] = []
        meltano: list[float] = []
        for _ in range(reps):  # interleaved
            result = test_connection(connector, SF_CONFIG, settings, env)
            assert result.ok, result
            native.append(result.duration_s)
            meltano.append(_meltano_config_test(settings, env, connector))
    return {
        "native_median_s": round(statistics.median(native), 3),
        "meltano_config_test_median_s": round(statistics.median(meltano), 3),
        "ratio_native_to_meltano": round(statistics.median(native) / statistics.median(meltano), 4),
        "goal_native_under_s": 2.0,
        "meets_goal": statistics.median(native) < 2.0
        and statistics.median(native) < statistics.median(meltano),
    }


def _meltano_config_test(settings, env, connector) -> float:  # noqa: ANN001
    """`meltano config <tap> test` with the same config, as the generic check runs it."""
    import shutil

    from integrations_platform.integration import StreamSelection
    from integrations_platform.runner.meltano import SyncRequest, prepare_sync
    from integrations_platform.runner.processes import make_sys_dir

    sys_dir = make_sys_dir(settings)
    try:
        request = SyncRequest(
            integration="bench",
            state_id="bench",
            connector=connector,
            config=SF_CONFIG,
            start_date="2024-01-01T00:00:00Z",
            destination=None,  # `config test` runs the extractor alone
            streams=[StreamSelection("Account", "SystemModstamp")],
        )
        prepared = prepare_sync(request, settings, env, sys_dir)
        started = time.perf_counter()
        done = subprocess.run(
            [prepared.args[0], "config", "test", prepared.extractor],
            cwd=settings.meltano_project_dir,
            env=prepared.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        elapsed = time.perf_counter() - started
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return elapsed
    finally:
        shutil.rmtree(sys_dir, ignore_errors=True)


def bench_post_to_assets(stored: int, reps: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        dagster_port, api_port = _free_port(), _free_port()
        env = _env(home, INTEGRATIONS_DAGSTER_URL=f"http://127.0.0.1:{dagster_port}")
        log(f"storing {stored} integrations...")
        store_salesforce_integrations(env, stored)
        dagster = subprocess.Popen(
            [
                str(BIN / "dagster"),
                "dev",
                "-w",
                str(REPO_ROOT / "workspace.yaml"),
                "-p",
                str(dagster_port),
            ],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        api = subprocess.Popen(
            [str(BIN / "integrations"), "api", "--port", str(api_port)],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds: list[float] = []
        try:
            graphql = f"http://127.0.0.1:{dagster_port}/graphql"
            query = {"query": "{ assetNodes { assetKey { path } } }"}

            def keys() -> set[str]:
                nodes = httpx.post(graphql, json=query, timeout=30).json()["data"]["assetNodes"]
                return {"/".join(n["assetKey"]["path"]) for n in nodes}

            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    if len(keys()) >= 3 * stored:
                        break
                except (httpx.HTTPError, KeyError, TypeError, ValueError):
                    pass
                time.sleep(1)
            _wait(f"http://127.0.0.1:{api_port}/healthz", 60)
            for rep in range(reps):
                name = f"new_{rep}"
                started = time.perf_counter()
                reply = httpx.post(
                    f"http://127.0.0.1:{api_port}/api/v1/integrations",
                    json={"name": name, "connector": "salesforce", "config": SF_CONFIG},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=120,
                )
                assert reply.status_code == 201, reply.text
                while f"{name}/Account" not in keys():
                    time.sleep(0.05)
                seconds.append(time.perf_counter() - started)
                log(f"  {name}: {seconds[-1]:.2f}s ({reply.json()['definitions']})")
        finally:
            api.terminate()
            dagster.terminate()
            api.wait(timeout=30)
            dagster.wait(timeout=60)
    return {
        "stored_integrations": stored,
        "seconds": [round(s, 3) for s in seconds],
        "median_s": round(statistics.median(seconds), 3),
        "goal_s": 5.0,
        "meets_goal": statistics.median(seconds) < 5.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--integrations", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-client", type=int, default=4)
    parser.add_argument("--stored", type=int, default=100)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--only-list", action="store_true", help="Only the list under load (token and session)."
    )
    args = parser.parse_args()
    load = (args.integrations, args.clients, args.rounds, args.per_client)
    if args.only_list:
        results: dict[str, Any] = {
            "environment": environment(),
            "list_under_load": bench_list(*load),
            "list_under_load_signed_in": bench_list(*load, auth="session"),
        }
        path = write_results("api_latency_list", results)
        import json

        print(json.dumps({k: v for k, v in results.items() if k != "environment"}, indent=2))
        print(f"\nwritten to {path}")
        return
    results = {
        "environment": environment(),
        "list_under_load": bench_list(*load),
        "list_under_load_signed_in": bench_list(*load, auth="session"),
        "salesforce_test_connection": bench_test_connection(args.reps),
        "post_to_assets_visible": bench_post_to_assets(args.stored, args.reps),
    }
    path = write_results("api_latency", results)
    import json

    print(json.dumps({k: v for k, v in results.items() if k != "environment"}, indent=2))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
