"""Real tap-salesforce in BULK mode against the sandbox's Bulk API: the same rows as a
REST sync, full and incremental, PK chunking when a query times out, and a connection
test that reaches the Bulk API."""

import pytest

from tests.conftest import START, salesforce_config
from tests.integration.helpers import jsonl_rows, materialize, rows_by_asset

pytestmark = pytest.mark.usefixtures("meltano_plugins")
STREAMS = ("Account", "Contact", "Opportunity")


def _by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["Id"]: r for r in rows}


def test_a_bulk_sync_loads_the_same_rows_as_a_rest_sync_full_and_incremental(
    platform, sandbox, dagster_home
):
    platform.service.add("salesforce", "by_rest", salesforce_config(sandbox), start_date=START)
    platform.service.add(
        "salesforce",
        "by_bulk",
        salesforce_config(sandbox, api_type="BULK"),
        start_date=START,
    )
    with platform.dagster_instance(dagster_home) as instance:
        rest = materialize(platform, "by_rest", instance)
        bulk = materialize(platform, "by_bulk", instance)
        assert rows_by_asset(bulk) == rows_by_asset(rest)
        assert rows_by_asset(bulk) == {s: len(sandbox.records(s)) for s in STREAMS}
        jobs = sandbox.bulk.jobs
        assert sorted(j["object"] for j in jobs) == sorted(STREAMS)
        assert all(j["state"] == "Closed" and j["batches"] == ["Completed"] for j in jobs)
        for stream in STREAMS:
            by_rest = _by_id(jsonl_rows(platform, "by_rest", stream))
            by_bulk = _by_id(jsonl_rows(platform, "by_bulk", stream))
            assert by_bulk.keys() == by_rest.keys()
            for record_id, row in by_bulk.items():
                # Every field the Bulk API gives (not compound addresses) is as REST's.
                assert row == {k: by_rest[record_id][k] for k in row}, stream
            assert any(len(row) > 5 for row in by_bulk.values())

        new = sandbox.add_records("Account", 3)
        again = materialize(platform, "by_bulk", instance)
    # Incremental: from the bookmark (the tap's `>=` re-reads the bookmark's record).
    assert rows_by_asset(again)["Account"] == len(new) + 1
    loaded = _by_id(jsonl_rows(platform, "by_bulk", "Account"))
    assert {r["Id"] for r in new} <= loaded.keys()
    assert len(loaded) == len(sandbox.records("Account"))


def test_a_bulk_query_that_times_out_is_retried_with_pk_chunking(platform, sandbox, dagster_home):
    sandbox.time_out_bulk_queries("Contact")
    sandbox.bulk.max_chunk = 7  # the sandbox cuts small chunks: several batches
    platform.service.add(
        "salesforce",
        "crm",
        salesforce_config(sandbox, api_type="BULK"),
        streams=["Contact"],
        start_date=START,
    )
    with platform.dagster_instance(dagster_home) as instance:
        result = materialize(platform, "crm", instance)
    contacts = sandbox.records("Contact")
    assert rows_by_asset(result) == {"Contact": len(contacts)}
    assert _by_id(jsonl_rows(platform, "crm", "Contact")).keys() == {r["Id"] for r in contacts}
    first, chunked = sandbox.bulk.jobs
    assert first["batches"] == ["Failed"]
    assert chunked["batches"][0] == "NotProcessed"
    assert len(chunked["batches"][1:]) == -(-len(contacts) // 7) > 1


def test_the_connection_test_in_bulk_mode_reaches_the_bulk_api(platform, sandbox):
    config = salesforce_config(sandbox, api_type="BULK")
    ok = platform.service.test_config("salesforce", config)
    assert ok.ok, ok.message
    assert ok.message.endswith("the Bulk API answers.")
    assert ("GET", "/services/async/61.0/job/750000000000000AAA") in sandbox.request_log
    rest = platform.service.test_config("salesforce", salesforce_config(sandbox))
    assert rest.ok and "Bulk API" not in rest.message

    # Only the Bulk API refuses the session: an authentication failure, said as such.
    sandbox.bulk.sessions_refused = True
    refused = platform.service.test_config("salesforce", config)
    assert (refused.ok, refused.reason) == (False, "authentication")
    assert "Bulk API refuses its session" in refused.message
