"""Partitions, backfills, state isolation, resets and partial failure, for real."""

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from integrations_platform.keys import state_id
from integrations_platform.runner.state import get_state
from integrations_platform.settings import PROJECT_ROOT
from tests.conftest import START, day, salesforce_config
from tests.integration.helpers import jsonl_rows, materialize, rows_by_asset

pytestmark = pytest.mark.usefixtures("meltano_plugins")
DEFINITIONS = "integrations_platform.orchestration.definitions"


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _bookmarks(platform, name: str) -> dict:
    stored = platform.service.get(name)
    state = get_state(platform.settings, os.environ, state_id(stored.name, stored.id))
    return state.get("bookmarks", {})


def test_a_backfill_loads_exactly_its_days_and_leaves_the_bookmark(platform, sandbox, dagster_home):
    platform.service.add(
        "salesforce",
        "crm",
        salesforce_config(sandbox),
        streams=["Account", "Contact"],
        start_date=START,
    )
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        first = materialize(platform, "crm", instance)
        assert rows_by_asset(first) == {"Account": 30, "Contact": 30}
        # The sync loaded every record changed since the start date: every complete
        # day is materialized, so a "Missing" backfill afterwards has nothing to do.
        partitions = dg.DailyPartitionsDefinition(START, timezone="UTC")
        for stream in ("Account", "Contact"):
            loaded = instance.get_materialized_partitions(dg.AssetKey(["crm", stream]))
            assert set(partitions.get_partition_keys()) - loaded == set()
    before = _bookmarks(platform, "crm")
    assert set(before) == {"Account", "Contact"}
    new_accounts = sandbox.add_records("Account", 3)
    # Without the first sync's rows, the file shows what the backfill loads.
    (platform.settings.output_dir / "crm" / "Account.jsonl").unlink()

    # The launchpad's backfill of three days, through Dagster's own CLI.
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "asset",
            "materialize",
            "-m",
            DEFINITIONS,
            "-a",
            "defs",
            "--select",
            "crm/Account,crm/Contact",
            "--partition-range",
            f"{day(1)}...{day(3)}",
        ],
        env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 2  # the first sync, and ONE run for the three days
        backfill = runs[0]
        assert backfill.tags["dagster/asset_partition_range_start"] == day(1)
        events = instance.get_records_for_run(
            backfill.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        per_partition = {
            (e.asset_key.path[-1], e.partition_key): e.asset_materialization.metadata["rows"].value
            for e in events
        }
        expected = {}
        for stream in ("Account", "Contact"):
            for partition in (day(1), day(2), day(3)):
                start = _day(partition)
                rows = sandbox.records_between(stream, start, start + timedelta(days=1))
                expected[(stream, partition)] = len(rows)
        assert per_partition == expected
        assert all(v > 0 for v in expected.values())
        # What landed is exactly the sandbox's records of those days.
        loaded = [r["Id"] for r in jsonl_rows(platform, "crm", "Account")]
        window = sandbox.records_between("Account", _day(day(1)), _day(day(4)))
        assert sorted(loaded) == sorted(r["Id"] for r in window)

        # The backfill neither read nor moved the bookmark: the next incremental run
        # loads only what is newer than before it.
        assert _bookmarks(platform, "crm") == before
        after = materialize(platform, "crm", instance)
    rows = rows_by_asset(after)
    assert rows["Account"] == len(new_accounts) + 1  # + the record at the bookmark
    assert rows["Contact"] == 1

    # The same window and the same incremental sync, three times each: the embedded
    # output keeps exactly one row per Id.
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        for _ in range(2):
            materialize(platform, "crm", instance, partition_range=(day(1), day(3)))
            materialize(platform, "crm", instance)
    for stream in ("Account", "Contact"):
        ids = [r["Id"] for r in jsonl_rows(platform, "crm", stream)]
        assert len(ids) == len(set(ids)), stream
    contacts = {r["Id"] for r in jsonl_rows(platform, "crm", "Contact")}
    assert contacts == {r["Id"] for r in sandbox.records("Contact")}
    # And SQL reads it in-process, as the docs show.
    path = platform.settings.output_dir / "crm" / "Contact.jsonl"
    counted = duckdb.sql(f"SELECT count(*), count(DISTINCT Id) FROM '{path}'").fetchall()
    assert counted == [(len(contacts), len(contacts))]


def test_a_failed_stream_does_not_stop_the_others_and_retry_runs_only_it(
    platform, sandbox, dagster_home
):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    job = ReconstructableRepository.for_module(
        DEFINITIONS, "defs", str(PROJECT_ROOT)
    ).get_reconstructable_job("__ASSET_JOB")
    sandbox.fail_object("Contact", "INVALID_TYPE")
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        with dg.execute_job(job, instance=instance, raise_on_error=False) as failed:
            assert not failed.success
            done = {
                e.asset_key.path[-1]: e.step_materialization_data.materialization.metadata[
                    "rows"
                ].value
                for e in failed.get_asset_materialization_events()
                if e.partition is None
            }
            failure = next(e for e in failed.all_events if e.is_step_failure)
            message = failure.step_failure_data.error.message
        # The three streams ran together first; Contact's failure ended that run, and each
        # stream then ran on its own. A stream the first run had loaded counts its rows
        # from both runs: its own 30, and its bookmark's record read again.
        assert set(done) == {"Account", "Opportunity"}
        assert all(rows in (30, 31) for rows in done.values()), done
        for stream in ("Account", "Opportunity"):
            assert len(jsonl_rows(platform, "crm", stream)) == 30
        assert "failed for Contact" in message and "INVALID_TYPE" in message

        sandbox.fail_object("Contact", None)
        seen = len(sandbox.queries)
        options = dg.ReexecutionOptions.from_failure(failed.run_id, instance)
        # The UI's "Re-execute from failure" tags its run like this (execute_job does not).
        resume = {"dagster/is_resume_retry": "true"}
        with dg.execute_job(
            job, instance=instance, reexecution_options=options, tags=resume
        ) as retried:
            assert retried.success
            again = {e.asset_key.path[-1] for e in retried.get_asset_materialization_events()}
    assert again == {"Contact"}
    retried_queries = sandbox.queries[seen:]
    assert retried_queries and all("FROM Contact" in q for q in retried_queries)


def test_resetting_one_stream_resyncs_only_it_and_is_recorded(platform, sandbox, dagster_home):
    platform.service.add(
        "salesforce",
        "crm",
        salesforce_config(sandbox),
        streams=["Account", "Contact"],
        start_date=START,
    )
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        materialize(platform, "crm", instance)
        record = platform.service.reset_state(
            "crm",
            stream="Contact",
            actor="tester",
        )
        assert record["previous_bookmarks"]["Contact"]["SystemModstamp"]
        assert set(_bookmarks(platform, "crm")) == {"Account"}
        after = materialize(platform, "crm", instance)
    assert rows_by_asset(after) == {"Account": 1, "Contact": 30}
    history = platform.service.state("crm")
    assert [(r["stream"], r["actor"]) for r in history["resets"]] == [("Contact", "tester")]
