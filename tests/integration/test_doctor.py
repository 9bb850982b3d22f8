"""``integrations doctor`` on a whole deployment: the real ``integrations`` executable,
PostgreSQL for every store, a running Dagster, and the Meltano install it prescribes."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from integrations_platform.catalog import load_catalog
from integrations_platform.deployment import migrate_everything
from integrations_platform.runner.meltano_project import write_meltano_project
from integrations_platform.service import IntegrationService
from integrations_platform.settings import PROJECT_ROOT, Settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key
from tests.conftest import START
from tests.integration.helpers import free_port, start_dagster_dev, stop_process_group

INTEGRATIONS = str(Path(sys.executable).parent / "integrations")
SF_CONFIG = {
    "client_id": "doctor-client-id",
    "client_secret": "doctor-client-secret-0d2e",
    "refresh_token": "doctor-refresh-token-51aa",
}
DEPLOYMENT_VARIABLES = (
    "INTEGRATIONS_DATABASE_URL",
    "INTEGRATIONS_POSTGRES_URL",
    "INTEGRATIONS_DAGSTER_DATABASE_URL",
    "MELTANO_DATABASE_URI",
    "INTEGRATIONS_MELTANO_PROJECT",
    "INTEGRATIONS_RUN_LAUNCHER",
    "DAGSTER_HOME",
)


def doctor(env: dict[str, str]) -> tuple[int, dict]:
    result = subprocess.run(
        [INTEGRATIONS, "doctor", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    return result.returncode, json.loads(result.stdout)


@pytest.fixture
def base_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in DEPLOYMENT_VARIABLES:
        # `integrations migrate` exports the derived URLs into this process: start
        # without them, and put the originals back afterwards.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    env = dict(os.environ)
    env["INTEGRATIONS_HOME"] = str(tmp_path / "home")
    env["INTEGRATIONS_ENCRYPTION_KEYS"] = generate_key()
    return env


def test_a_running_postgres_deployment_passes_every_check(
    base_env, postgres_database, meltano_plugins, tmp_path
) -> None:
    port = free_port()
    env = {
        **base_env,
        "INTEGRATIONS_POSTGRES_URL": postgres_database,
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "INTEGRATIONS_DAGSTER_URL": f"http://127.0.0.1:{port}",
    }
    settings = Settings.from_env(env)
    migrate_everything(settings, env)  # also exports the derived URLs into env
    store = ConfigStore.open(settings.database_url)
    try:
        IntegrationService(
            load_catalog(settings.catalog_dir),
            store,
            lambda: KeyRing.from_value(env["INTEGRATIONS_ENCRYPTION_KEYS"]),
        ).add("salesforce", "crm", SF_CONFIG, start_date=START)
    finally:
        store.close()

    dagster = start_dagster_dev(env, port)
    try:
        code, report = doctor(env)
    finally:
        stop_process_group(dagster)

    assert code == 0, report
    assert report["ok"] is True
    assert {c["name"]: c["status"] for c in report["checks"]} == {
        "config store": "ok",
        "encryption keys": "ok",
        "meltano state": "ok",
        "connector catalog": "ok",
        "meltano plugins": "ok",
        "dagster.yaml": "ok",
        "dagster storage": "ok",
        "run queue": "ok",
        "dagster webserver": "ok",
    }
    webserver = next(c for c in report["checks"] if c["name"] == "dagster webserver")
    assert "code location 'integrations' loaded" in webserver["found"]


def test_the_install_command_it_prescribes_installs_the_missing_plugins(base_env, tmp_path) -> None:
    project = tmp_path / "meltano"
    shutil.copytree(PROJECT_ROOT / "meltano", project, ignore=shutil.ignore_patterns(".meltano"))
    # A catalog of one source (and the built-in destinations): installing the thirty
    # plugins of the whole catalog would only repeat the same install thirty times.
    catalog = tmp_path / "catalog"
    (catalog / "logos").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "connector_catalog" / "postgres.yaml", catalog)
    shutil.copy(PROJECT_ROOT / "connector_catalog" / "logos" / "postgres.svg", catalog / "logos")
    write_meltano_project(load_catalog(catalog), project)
    env = {
        **base_env,
        "INTEGRATIONS_MELTANO_PROJECT": str(project),
        "INTEGRATIONS_CATALOG_DIR": str(catalog),
    }

    code, report = doctor(env)
    plugins = next(c for c in report["checks"] if c["name"] == "meltano plugins")
    assert code == 1
    assert plugins["status"] == "fail"
    # tap-postgres, target-jsonl, target-postgres and the window mapper.
    assert "4 of 4 plugins not installed" in plugins["found"]

    # `integrations catalog sync` would install them into the configured project; the
    # fix also names the plain install command for this one, which is what runs here.
    command = re.fullmatch(r"`integrations catalog sync` \(or `(.+)`\)\.", plugins["fix"])
    assert command, plugins["fix"]
    installed = subprocess.run(
        command.group(1), shell=True, env=env, capture_output=True, text=True, timeout=900
    )
    assert installed.returncode == 0, installed.stderr[-3000:]

    _, report = doctor(env)
    plugins = next(c for c in report["checks"] if c["name"] == "meltano plugins")
    assert plugins["status"] == "ok", plugins
