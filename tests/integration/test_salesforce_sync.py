"""Real tap-salesforce against the sandbox, materialized through real Dagster."""

from datetime import timedelta

import dagster as dg
import pytest

from integrations_platform.orchestration.partitions import MAX_COVERED_PER_SYNC
from integrations_platform.people import AuditLog
from tests.conftest import DATA_START, START, salesforce_config
from tests.integration.helpers import (
    assert_stores_where_configured,
    jsonl_rows,
    materialize,
    meltano_runs,
    rows_by_asset,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")


@pytest.mark.parametrize("platform", ["sqlite", "postgres"], indirect=True)
def test_sync_loads_every_row_then_only_new_ones(platform, sandbox, dagster_home):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    with platform.dagster_instance(dagster_home) as instance:
        first = materialize(platform, "crm", instance)
        expected = {s: len(sandbox.records(s)) for s in ("Account", "Contact", "Opportunity")}
        assert rows_by_asset(first) == expected
        assert meltano_runs(platform, "crm") == 1  # the three streams in one tap process
        for stream, count in expected.items():
            ids = {r["Id"] for r in jsonl_rows(platform, "crm", stream)}
            assert ids == {r["Id"] for r in sandbox.records(stream)}
            assert len(ids) == count

        new_accounts = sandbox.add_records("Account", 4)
        new_contacts = sandbox.add_records("Contact", 2)
        second = materialize(platform, "crm", instance)
        full = materialize(platform, "crm", instance, streams=["Opportunity"], full_refresh=True)

    rows = rows_by_asset(second)
    # The tap re-reads the record at the bookmark itself (its query is `>=`).
    assert rows["Account"] == len(new_accounts) + 1
    assert rows["Contact"] == len(new_contacts) + 1
    assert rows["Opportunity"] == 1
    # A full refresh ignores the bookmark and re-reads everything from the start date.
    assert rows_by_asset(full) == {"Opportunity": expected["Opportunity"]}
    loaded = [r["Id"] for r in jsonl_rows(platform, "crm", "Account")]
    assert {r["Id"] for r in new_accounts} <= set(loaded)
    # The re-read bookmark record replaced its earlier copy: one row per Id.
    assert len(loaded) == expected["Account"] + len(new_accounts)
    # So did the full refresh's 30 records.
    assert len(jsonl_rows(platform, "crm", "Opportunity")) == expected["Opportunity"]
    assert_stores_where_configured(platform)


def test_one_stream_of_three_syncs_only_that_stream(platform, sandbox, dagster_home):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        result = materialize(
            platform,
            "crm",
            instance,
            streams=["Contact"],
            tags={"dagster/schedule_name": "crm_schedule"},
        )
    assert rows_by_asset(result) == {"Contact": len(sandbox.records("Contact"))}
    # Started by a schedule: the audit trail says so (the API and the CLI record their own).
    [event] = AuditLog(platform.service.store).list(integration="crm")
    assert (event.actor, event.source, event.action) == (
        "schedule:crm_schedule",
        "schedule",
        "sync",
    )
    assert result.run_id in event.detail
    assert jsonl_rows(platform, "crm", "Account") == []
    assert jsonl_rows(platform, "crm", "Opportunity") == []
    queried = [q for q in sandbox.queries if " FROM " in q.upper()]
    assert queried and all("FROM Contact" in q for q in queried)


def test_a_refused_login_fails_every_stream_in_one_run(platform, sandbox, dagster_home):
    config = salesforce_config(sandbox, refresh_token="not-the-refresh-token")
    platform.service.add("salesforce", "crm", config, start_date=START)
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        result = materialize(platform, "crm", instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "failed for Account, Contact, Opportunity" in failure.step_failure_data.error.message
    # No stream escapes a refused login: no run per stream after the one that failed.
    assert meltano_runs(platform, "crm") == 1


def test_a_start_date_long_ago_marks_its_covered_days_a_bounded_number_per_sync(
    platform, sandbox, dagster_home
):
    long_ago = (DATA_START - timedelta(days=MAX_COVERED_PER_SYNC + 20)).date().isoformat()
    platform.service.add(
        "salesforce", "crm", salesforce_config(sandbox), streams=["Account"], start_date=long_ago
    )
    key = dg.AssetKey(["crm", "Account"])
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        first = materialize(platform, "crm", instance)
        marked = instance.get_materialized_partitions(key)
        assert len(marked) == MAX_COVERED_PER_SYNC
        warnings = [e.user_message for e in instance.all_logs(first.run_id) if e.level == 30]
        assert any("older complete window(s)" in w and long_ago in w for w in warnings)
        materialize(platform, "crm", instance)  # the next sync marks the rest
        days = dg.DailyPartitionsDefinition(long_ago, timezone="UTC").get_partition_keys()
        assert instance.get_materialized_partitions(key) == set(days)
