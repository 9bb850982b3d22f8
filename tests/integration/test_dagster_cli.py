"""Dagster's own CLI, typed in another folder on a machine `integrations up` has set up."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from integrations_platform.deployment import prepare_dagster_home
from integrations_platform.settings import Settings
from tests.conftest import START, salesforce_config
from tests.integration.helpers import jsonl_rows

DAGSTER = str(Path(sys.executable).parent / "dagster")
DEFS = ["-m", "integrations_platform.orchestration.definitions", "-a", "defs"]


def _dagster(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DAGSTER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.mark.usefixtures("meltano_plugins")
def test_dagster_commands_from_another_folder_without_the_key_variable(platform, sandbox, tmp_path):
    platform.service.add(
        "salesforce",
        "crm",
        salesforce_config(sandbox),
        streams=["Account"],
        start_date=START,
    )
    # As `integrations up` leaves the machine: the key in its file, not exported.
    platform.settings.key_file.write_text(platform.key, encoding="ascii")
    env = {k: v for k, v in os.environ.items() if k != "INTEGRATIONS_ENCRYPTION_KEYS"}
    env["DAGSTER_HOME"] = str(tmp_path / "dagster")
    prepare_dagster_home(Settings.from_env(env), env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    listed = _dagster(["asset", "list", *DEFS], env, elsewhere)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "crm/Account" in listed.stdout

    synced = _dagster(
        ["job", "execute", *DEFS, "-j", "__ASSET_JOB", "-o", "crm_sync"], env, elsewhere
    )
    assert synced.returncode == 0, (synced.stdout + synced.stderr)[-3000:]
    assert len(jsonl_rows(platform, "crm", "Account")) == len(sandbox.records("Account"))
    assert platform.key not in synced.stdout + synced.stderr
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        [run] = instance.get_run_records(dg.RunsFilter(tags={"integration": "crm"}))
        assert run.dagster_run.is_success  # recorded where the UI and the sensors look
    assert list(elsewhere.iterdir()) == []  # nothing left in the folder it ran from


def test_definitions_without_a_store_say_so_and_create_nothing(tmp_path):
    home = tmp_path / "no-up-yet"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRATIONS_")}
    env.pop("DAGSTER_HOME", None)
    env["INTEGRATIONS_HOME"] = str(home)

    listed = _dagster(["asset", "list", *DEFS], env, tmp_path)

    assert listed.returncode == 0, listed.stderr[-3000:]
    output = listed.stdout + listed.stderr
    assert f"No config store at {home / 'integrations.db'}" in output
    assert "Run `integrations up` first" in output
    assert "DAGSTER_HOME is not set" in output
    assert not home.exists()  # no stray database
