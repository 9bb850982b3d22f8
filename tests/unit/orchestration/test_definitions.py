"""The definitions generated from the catalog and the store."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from integrations_platform.integration import (
    Integration,
    StreamSelection,
    dump_integrations,
    load_integrations,
)
from integrations_platform.orchestration.constants import ASSET_JOB
from integrations_platform.orchestration.definitions import build_definitions, load_definitions
from integrations_platform.settings import PROJECT_ROOT

SF = {"client_id": "id", "client_secret": "secret-value", "refresh_token": "token-value"}
PG = {"host": "db", "user": "u", "password": "pw-value", "database": "d"}


def _snapshots(platform) -> list[Integration]:
    return [s.for_orchestration() for s in platform.service.store.list_all()]


def _assets(defs: dg.Definitions) -> dict[str, dg.AssetsDefinition]:
    return {a.op.name: a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)}


def test_each_enabled_integration_becomes_assets_job_and_running_schedule(platform):
    platform.service.add("salesforce", "crm", SF, schedule="*/30 * * * *")
    platform.service.add(
        "postgres", "shop", PG, streams=["public-orders:updated_at", "public-items"]
    )
    platform.service.add("salesforce", "paused", SF, enabled=False)
    defs = build_definitions(platform.catalog, _snapshots(platform))

    assets = _assets(defs)
    assert sorted(assets) == ["crm_sync", "shop_sync"]
    crm = assets["crm_sync"]
    assert sorted(k.to_user_string() for k in crm.keys) == [
        "crm/Account",
        "crm/Contact",
        "crm/Opportunity",
    ]
    assert crm.can_subset
    spec = crm.specs_by_key[dg.AssetKey(["crm", "Account"])]
    assert spec.group_name == "crm"
    assert {"salesforce", "meltano"} <= set(spec.kinds)
    assert "Companies and organisations" in (spec.description or "")
    assert spec.metadata["replication_key"] == "SystemModstamp"
    assert crm.op.tags["integration"] == "crm"
    shop_keys = sorted(k.to_user_string() for k in assets["shop_sync"].keys)
    assert shop_keys == ["shop/public_items", "shop/public_orders"]

    repo = defs.get_repository_def()
    schedule = repo.get_schedule_def("crm_schedule")
    assert schedule.cron_schedule == "*/30 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    # The schedule syncs the integration's assets through Dagster's implicit job.
    assert schedule.job_name == ASSET_JOB
    [request] = schedule.evaluate_tick(dg.build_schedule_context()).run_requests
    assert set(request.asset_selection) == set(crm.keys)
    assert request.tags["integration"] == "crm"
    assert request.tags["integrations/connector"] == "salesforce"
    assert [j.name for j in repo.get_all_jobs()] == [ASSET_JOB]  # no job per integration
    assert repo.get_job(ASSET_JOB).executor_def.name == dg.in_process_executor.name
    assert not any(s.name.startswith("paused") for s in repo.schedule_defs)


def test_every_stream_has_its_three_checks_unless_switched_off(platform, monkeypatch):
    platform.service.add("postgres", "shop", PG, streams=["public-orders:updated_at"])
    crm = _assets(build_definitions(platform.catalog, _snapshots(platform)))["shop_sync"]
    key = dg.AssetKey(["shop", "public_orders"])
    assert {c.name for c in crm.check_specs if c.asset_key == key} == {
        "schema",
        "freshness",
        "volume",
    }
    monkeypatch.setenv("INTEGRATIONS_ASSET_CHECKS", "off")
    bare = _assets(build_definitions(platform.catalog, _snapshots(platform)))["shop_sync"]
    assert list(bare.check_specs) == []


def test_an_integration_whose_connector_left_the_catalog_is_skipped(platform):
    platform.service.add("salesforce", "crm", SF)
    orphan = Integration(
        id="x",
        name="orphan",
        connector="gone",
        enabled=True,
        schedule="0 * * * *",
        streams=(StreamSelection("T"),),
        start_date="2024-01-01T00:00:00Z",
        destination="jsonl",
    )
    defs = build_definitions(platform.catalog, [*_snapshots(platform), orphan])
    assert sorted(_assets(defs)) == ["crm_sync"]


def test_loading_makes_one_store_query_and_needs_no_key(platform, monkeypatch):
    for i in range(25):
        platform.service.add("salesforce", f"crm_{i}", SF)
    monkeypatch.delenv("INTEGRATIONS_ENCRYPTION_KEYS")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        defs = load_definitions(platform.settings)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert len(_assets(defs)) == 25
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 1, queries
    # Nothing secret, not even encrypted, is in what the code server pins.
    pinned = dump_integrations(_snapshots(platform))
    assert "secret-value" not in pinned and "config" not in pinned


def test_snapshots_round_trip_through_the_pin(platform):
    platform.service.add("postgres", "shop", PG, streams=["public-orders:updated_at"])
    snapshots = _snapshots(platform)
    assert load_integrations(dump_integrations(snapshots)) == snapshots


def test_workspace_validates_with_the_dagster_cli(platform):
    platform.service.add("salesforce", "crm", SF)
    dagster = str(Path(sys.executable).parent / "dagster")
    result = subprocess.run(
        [dagster, "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Validation successful" in result.stdout + result.stderr


@pytest.mark.parametrize("bad", ["not a cron", "61 * * * *"])
def test_a_bad_schedule_is_refused_at_save(platform, bad):
    from integrations_platform.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as err:
        platform.service.add("salesforce", "crm", SF, schedule=bad)
    assert "schedule" in err.value.field_errors
