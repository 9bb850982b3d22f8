"""The Docker recipe's Dagster processes, run here as the compose file runs them (through
the image's entrypoint, `integrations exec --`): the code server serves the code
location the workspace names, the webserver loads it, the API's reload picks up a new
integration, and `integrations doctor` finds the webserver healthy."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from integrations_platform.catalog import load_catalog
from integrations_platform.deployment import migrate_everything
from integrations_platform.orchestration.client import LOCATION_NAME, DagsterClient
from integrations_platform.service import IntegrationService
from integrations_platform.settings import PROJECT_ROOT, Settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key
from tests.conftest import START
from tests.integration.helpers import free_port, stop_process_group, wait_for

RECIPE = PROJECT_ROOT / "docs" / "deployment"
BIN = Path(sys.executable).parent
SF_CONFIG = {
    "client_id": "recipe-client-id",
    "client_secret": "recipe-client-secret-9e1a",
    "refresh_token": "recipe-refresh-token-4b7c",
}
SCHEDULES = """
{ repositoryOrError(repositorySelector: {repositoryName: "__repository__",
                                          repositoryLocationName: "integrations"}) {
    ... on Repository { schedules { name } } } }"""
LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"""


def with_option(command: list[str], option: str, value: str) -> list[str]:
    """``command`` with ``option``'s value replaced (it must be there already)."""
    changed = list(command)
    changed[changed.index(option) + 1] = value
    return changed


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    entrypoint = [str(BIN / "integrations"), "exec", "--"]
    return subprocess.Popen(
        [*entrypoint, *command],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def add(settings: Settings, key: str, name: str) -> None:
    store = ConfigStore.open(settings.database_url)
    try:
        IntegrationService(
            load_catalog(settings.catalog_dir), store, lambda: KeyRing.from_value(key)
        ).add("salesforce", name, SF_CONFIG, start_date=START)
    finally:
        store.close()


def test_the_code_server_and_webserver_of_the_recipe_serve_the_integrations(tmp_path) -> None:
    compose = yaml.safe_load((RECIPE / "docker-compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    key = generate_key()
    grpc_port, web_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INTEGRATIONS_", "MELTANO_", "DAGSTER_"))
    }
    env.update(
        {
            "INTEGRATIONS_HOME": str(tmp_path / "home"),
            "INTEGRATIONS_ENCRYPTION_KEYS": key,
            "DAGSTER_HOME": str(tmp_path / "dagster"),
            "INTEGRATIONS_DAGSTER_URL": f"http://127.0.0.1:{web_port}",
            # As in the image: the environment's executables first on the PATH.
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    settings = Settings.from_env(env)
    migrate_everything(settings, dict(env))
    add(settings, key, "crm")

    workspace = yaml.safe_load((RECIPE / "workspace.yaml").read_text(encoding="utf-8"))
    server = workspace["load_from"][0]["grpc_server"]
    server.update(host="127.0.0.1", port=grpc_port)
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump(workspace), encoding="utf-8")

    code_server = with_option(services["code-server"]["command"], "-h", "127.0.0.1")
    code_server = with_option(code_server, "-p", str(grpc_port))
    health = with_option(services["code-server"]["healthcheck"]["test"][1:], "-p", str(grpc_port))
    webserver = with_option(
        services["webserver"]["command"], "-w", str(tmp_path / "workspace.yaml")
    )
    webserver = with_option(webserver, "-h", "127.0.0.1")
    webserver = with_option(webserver, "-p", str(web_port))

    processes = [start(code_server, env)]

    def running() -> None:
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"{process.args[3:5]} exited with {process.returncode}")

    try:

        def serving() -> bool:
            running()
            return subprocess.run(health, env=env, capture_output=True).returncode == 0

        wait_for(serving, 180, "the code server's health check")
        processes.append(start(webserver, env))
        graphql = f"http://127.0.0.1:{web_port}/graphql"

        def location_loaded() -> bool:
            running()
            data = httpx.post(graphql, json={"query": LOCATION_QUERY}, timeout=10).json()
            entries = data["data"]["workspaceOrError"]["locationEntries"]
            return [(e["name"], e["loadStatus"]) for e in entries] == [(LOCATION_NAME, "LOADED")]

        wait_for(location_loaded, 180, "the webserver to load the code location")

        def schedules() -> set[str]:
            data = httpx.post(graphql, json={"query": SCHEDULES}, timeout=10).json()
            return {j["name"] for j in data["data"]["repositoryOrError"]["schedules"]}

        assert "crm_schedule" in schedules()

        # The API reloads the location after each change: the code server re-reads the store.
        add(settings, key, "sales_eu")
        DagsterClient(f"http://127.0.0.1:{web_port}").reload()
        assert wait_for(lambda: "sales_eu_schedule" in schedules(), 60, "the reloaded location")

        doctor = subprocess.run(
            [str(BIN / "integrations"), "doctor", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
        assert checks["dagster webserver"]["status"] == "ok", checks["dagster webserver"]
        assert f"code location '{LOCATION_NAME}' loaded" in checks["dagster webserver"]["found"]
    finally:
        for process in reversed(processes):
            stop_process_group(process)
