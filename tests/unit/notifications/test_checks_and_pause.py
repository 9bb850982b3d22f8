"""Health checks and auto-pause against a real Dagster instance and a real config store."""

import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteRepositoryOrigin

from integrations_platform.notifications.checks import find_stale, last_successes
from integrations_platform.orchestration.schedule_state import pause_schedule, schedule_running
from integrations_platform.orchestration.sensors import (
    CHECKS_SENSOR,
    build_notification_sensors,
    reset_notification_runtime,
    run_checks,
)
from integrations_platform.settings import PROJECT_ROOT
from integrations_platform.store import KeyRing, generate_key
from tests.conftest import START
from tests.unit.notifications.conftest import make_service

SF = {"client_id": "id-1", "client_secret": "secret-value-1", "refresh_token": "token-value-1"}
PG = {"host": "db", "user": "u", "password": "pg-password-1", "database": "shop"}


@pytest.fixture
def instance(dagster_home):
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        yield instance
    reset_notification_runtime()


def _rewrite_config(platform, name: str, config: dict, key: str) -> None:
    ring = KeyRing.from_value(key)
    platform.service.store.update(name, lambda cur: replace(cur, sealed=ring.seal(cur.id, config)))


def test_the_checks_sensor_finds_each_misconfiguration_and_resolves_it_when_fixed(
    platform, instance, tmp_path, monkeypatch
):
    service = platform.service
    service.add("salesforce", "crm_ok", SF, start_date=START)
    service.add("salesforce", "crm_old_key", SF, start_date=START)
    service.add("salesforce", "crm_invalid", SF, start_date=START)
    service.add("postgres", "shop", PG, streams=["public-orders"], start_date=START)
    _rewrite_config(platform, "crm_old_key", SF, generate_key())
    _rewrite_config(platform, "crm_invalid", {"client_id": "id-1"}, platform.key)
    catalog = tmp_path / "catalog"
    shutil.copytree(PROJECT_ROOT / "connector_catalog", catalog)
    (catalog / "postgres.yaml").unlink()
    monkeypatch.setenv("INTEGRATIONS_CATALOG_DIR", str(catalog))
    monkeypatch.setenv("INTEGRATIONS_STALE_FACTOR", "0")

    [sensor] = [s for s in build_notification_sensors([]) if s.name == CHECKS_SENSOR]
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert "3 misconfigured" in (result.skip_message or "")
    notes = make_service(platform)
    found = {n.integration: n for n in notes.list_notifications(status="open")}
    assert {k: n.category for k, n in found.items()} == {
        "crm_old_key": "undecryptable",
        "crm_invalid": "invalid_config",
        "shop": "connector_missing",
    }
    assert "Re-enter the secrets" in found["crm_old_key"].action
    assert "refresh_token" in found["crm_invalid"].title
    assert "postgres" in found["shop"].title
    for note in found.values():  # no secret value in what the check wrote
        for value in (*SF.values(), PG["password"]):
            if value.startswith(("secret", "token", "pg-")):
                assert value not in f"{note.title}{note.message}{note.action}"

    # Fixed: the key is back, the config re-entered, the connector disabled.
    _rewrite_config(platform, "crm_old_key", SF, platform.key)
    _rewrite_config(platform, "crm_invalid", SF, platform.key)
    service.set_enabled("shop", False)
    sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert notes.list_notifications(status="open") == []


def test_stale_uses_the_newest_materialization_and_the_schedule_interval(platform, instance):
    platform.service.add("salesforce", "fresh", SF, schedule="0 * * * *", start_date=START)
    platform.service.add("salesforce", "late", SF, schedule="0 * * * *", start_date=START)
    instance.report_runless_asset_event(dg.AssetMaterialization(["fresh", "Account"]))
    with platform.service.store.engine.begin() as conn:  # "late" was created a day ago
        conn.execute(
            sa.text("UPDATE integrations SET created_at = :t WHERE name = 'late'"),
            {"t": datetime.now(UTC) - timedelta(days=1)},
        )
    stored = platform.service.store.list_all()
    now = datetime.now(UTC)
    last = last_successes(
        instance, stored, {i.name: platform.service.asset_keys(i) for i in stored}
    )
    assert last["late"] is None and now - last["fresh"] < timedelta(minutes=1)
    [stale] = find_stale(stored, last, 3, now)
    assert (stale.integration, stale.expected_every) == ("late", timedelta(hours=1))
    assert stale.threshold == timedelta(hours=3) and stale.last_success_at is None
    assert find_stale(stored, last, 0, now) == []  # 0 turns it off
    assert find_stale(stored, last, 3, now + timedelta(hours=3, minutes=1))[0].integration == (
        "fresh"
    )
    # Through the checks: a notification, resolved when a sync succeeds.
    assert "1 stale" in run_checks(instance, now=now)
    notes = make_service(platform)
    [note] = notes.list_notifications(status="open")
    assert note.kind == "stale" and note.integration == "late"
    notes.record_run_success("late", "run-1")
    assert notes.list_notifications(status="open") == []


def _run_from_code_location(instance: dg.DagsterInstance) -> dg.DagsterRun:
    repository = RemoteRepositoryOrigin(
        RegisteredCodeLocationOrigin("integrations"), "__repository__"
    )
    run = dg.DagsterRun(
        job_name="__ASSET_JOB",
        run_id="0123abcd-0000-4000-8000-000000000001",
        tags={"integration": "crm"},
        remote_job_origin=repository.get_job_origin("__ASSET_JOB"),
        status=dg.DagsterRunStatus.FAILURE,
    )
    instance.add_run(run)
    return run


def test_auto_pause_stops_the_schedule_in_dagsters_schedule_storage(instance):
    run = _run_from_code_location(instance)
    assert schedule_running(instance, run, "crm")  # running by default: no stored state
    paused, detail = pause_schedule(instance, run, "crm", "0 * * * *")
    assert paused and "crm_schedule" in detail
    assert not schedule_running(instance, run, "crm")
    origin = run.remote_job_origin.repository_origin.get_instigator_origin("crm_schedule")
    state = instance.get_instigator_state(origin.get_id(), origin.get_selector().get_id())
    assert state.status.value == "STOPPED" and state.instigator_type.value == "SCHEDULE"
    # Turned back on (what the UI's toggle does), then paused again.
    instance.update_instigator_state(state.with_status(type(state.status).RUNNING))
    assert schedule_running(instance, run, "crm")
    assert pause_schedule(instance, run, "crm", "0 * * * *")[0]
    assert not schedule_running(instance, run, "crm")


def test_auto_pause_says_so_when_the_run_has_no_code_location(instance):
    run = dg.DagsterRun(job_name="__ephemeral_asset_job__", run_id="r-1")
    paused, detail = pause_schedule(instance, run, "crm", "0 * * * *")
    assert not paused and "outside a code location" in detail
