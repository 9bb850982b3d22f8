"""The Component in a data team's own project (docs/example_project), loaded by ``dg``:
its integrations beside the team's assets, under the key prefix its defs.yaml sets,
synced, with status and notifications following the prefixed keys."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from integrations_platform.notifications import NotificationService, NotificationSettings
from integrations_platform.orchestration.sensors import reset_notification_runtime
from integrations_platform.orchestration.status import StatusReader
from integrations_platform.settings import PROJECT_ROOT
from tests.conftest import START, salesforce_config
from tests.notification_support import tick_run_status_sensors

pytestmark = pytest.mark.usefixtures("meltano_plugins")
EXAMPLE = PROJECT_ROOT / "docs" / "example_project"
STREAMS = ("Account", "Contact")


def _dg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "dg"), *args],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _sync(env: dict[str, str]) -> subprocess.CompletedProcess:
    """An incremental sync of 'crm', from the project's definitions."""
    command = [str(Path(sys.executable).parent / "dagster"), "job", "execute"]
    command += ["-m", "analytics.definitions", "-a", "defs", "-j", "__ASSET_JOB", "-o", "crm_sync"]
    return subprocess.run(
        command, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_example_project_syncs_the_integrations_under_its_prefix(
    platform, sandbox, dagster_home, monkeypatch, canary
):
    platform.service.add(
        "salesforce",
        "crm",
        salesforce_config(sandbox),
        streams=list(STREAMS),
        start_date=START,
    )
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "PYTHONPATH": str(EXAMPLE / "src"),
        "ANALYTICS_CRM_INTEGRATION": "crm",
    }
    prefixed = {s: dg.AssetKey(["raw", "crm", s]) for s in STREAMS}

    listed = _dg(env, "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assets = {a["asset_key"]: a for a in json.loads(listed.stdout)["assets"]}
    assert set(assets) == {"accounts_changed_per_day", "raw/crm/Account", "raw/crm/Contact"}
    assert assets["raw/crm/Account"]["group_name"] == "raw_sources"
    assert assets["accounts_changed_per_day"]["dependency_keys"] == ["raw/crm/Account"]

    # The same definitions in this process, for the sensors.
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    monkeypatch.setenv("ANALYTICS_CRM_INTEGRATION", "crm")
    defs = dg.load_from_defs_folder(path_within_project=EXAMPLE / "src" / "analytics")
    reset_notification_runtime()
    cursors: dict[str, Any] = {}
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        tick_run_status_sensors(instance, defs, cursors)  # the first tick only places the cursors

        # A failed sync (a revoked token) opens a notification for 'crm'.
        platform.service.update("crm", config={"refresh_token": f"{canary}-x"})
        failed = _sync(env)
        assert failed.returncode != 0
        tick_run_status_sensors(instance, defs, cursors)
        notes = NotificationService.open(
            platform.settings.database_url, NotificationSettings.from_env()
        )
        [note] = notes.list_notifications(integration="crm")
        assert (note.status, note.category) == ("open", "authentication")

        # Fixed, synced: materialized at the prefixed keys, resolved, shown in the status.
        platform.service.update(
            "crm", config={"refresh_token": salesforce_config(sandbox)["refresh_token"]}
        )
        synced = _sync(env)
        assert synced.returncode == 0, synced.stderr[-3000:]
        for key in prefixed.values():
            assert instance.get_latest_materialization_event(key) is not None, key
        tick_run_status_sensors(instance, defs, cursors)
        [note] = notes.list_notifications(integration="crm")
        assert note.status == "resolved"
        # The platform's own status knows nothing of the prefix, and finds the rows.
        status = StatusReader(instance, "http://dagster", platform.service.asset_keys)
        row_counts = status.statuses([platform.service.get("crm")])["crm"].row_counts
        assert row_counts == {s: len(sandbox.records(s)) for s in STREAMS}

        # The team's asset, downstream of the synced stream.
        report = _dg(env, "launch", "--assets", "accounts_changed_per_day")
        assert report.returncode == 0, report.stderr[-3000:]
        event = instance.get_latest_materialization_event(dg.AssetKey("accounts_changed_per_day"))
        assert event is not None and event.asset_materialization is not None
        assert event.asset_materialization.metadata["accounts"].value == len(
            sandbox.records("Account")
        )
