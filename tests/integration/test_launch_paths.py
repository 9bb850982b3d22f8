"""The run queue's limits hold for every way a sync can be launched: Dagster's own
Materialize button and backfills, the job (as schedules launch it), the API and CLI, and
``dagster asset materialize`` in another process — proven from run records."""

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import dagster as dg
import httpx
import pytest

from integrations_platform.orchestration.client import (
    LOCATION_NAME,
    REPOSITORY_NAME,
    DagsterClient,
)
from integrations_platform.orchestration.resources import LOCK_TAKEN
from tests.conftest import START, day, salesforce_config
from tests.integration.helpers import (
    NOT_DURING_THE_TEST,
    free_port,
    max_overlap,
    queued_dagster_home,
    start_dagster_dev,
    stop_process_group,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")
SALESFORCE_LIMIT = 2

# What the UI sends for "Materialize" on a partitioned asset (one partition) and for
# "Launch backfill" — no integration tag: Dagster's buttons know nothing of it.
_UI_MATERIALIZE = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) { __typename ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message } }
}"""
_UI_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) { __typename
    ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } }
}"""


def _graphql(url: str, query: str, variables: dict) -> dict:
    reply = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60)
    reply.raise_for_status()
    body = reply.json()
    assert not body.get("errors"), body
    return body["data"]


def _ui_materialize(url: str, name: str, partition: str) -> None:
    params = {
        "selector": {
            "repositoryLocationName": LOCATION_NAME,
            "repositoryName": REPOSITORY_NAME,
            "pipelineName": "__ASSET_JOB",
            "assetSelection": [{"path": [name, "Account"]}],
        },
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
    }
    result = _graphql(url, _UI_MATERIALIZE, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result


def _ui_backfill(url: str, name: str, partitions: list[str]) -> None:
    params = {"assetSelection": [{"path": [name, "Account"]}], "partitionNames": partitions}
    result = _graphql(url, _UI_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result


def _job_launch(url: str, name: str) -> None:
    """The launchpad of Dagster's asset job on the integration's sync step, no tags."""
    params = {
        "selector": {
            "repositoryLocationName": LOCATION_NAME,
            "repositoryName": REPOSITORY_NAME,
            "pipelineName": "__ASSET_JOB",
            "solidSelection": [f"{name}_sync"],
        },
    }
    result = _graphql(url, _UI_MATERIALIZE, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result


def _dagster_materialize(environ: dict[str, str], name: str, partition: str) -> subprocess.Popen:
    """``dagster asset materialize`` typed in a shell in another folder."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster"),
            "asset",
            "materialize",
            "-m",
            "integrations_platform.orchestration.definitions",
            "-a",
            "defs",
            "--select",
            f"{name}/Account",
            "--partition",
            partition,
        ],
        env=environ,
        cwd="/",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _sync_spans(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float]:
    """When the run's sync step held the integration: from the step's start, or from when
    it stopped waiting for another sync, to the step's end."""
    logs = instance.all_logs(run_id)
    kinds = {e.dagster_event.event_type: e.timestamp for e in logs if e.dagster_event}
    start = kinds[dg.DagsterEventType.STEP_START]
    took = [e.timestamp for e in logs if LOCK_TAKEN in (e.user_message or "")]
    return max([start, *took]), kinds[dg.DagsterEventType.STEP_SUCCESS]


def test_every_launch_path_respects_the_integration_and_connector_limits(
    platform, sandbox, tmp_path, monkeypatch
):
    monkeypatch.setenv("INTEGRATIONS_MAX_CONCURRENT_SYNCS_SALESFORCE", str(SALESFORCE_LIMIT))
    for name in ("crm", "crm_b", "crm_c"):
        platform.service.add(
            "salesforce",
            name,
            salesforce_config(sandbox),
            streams=["Account"],
            start_date=START,
            schedule=NOT_DURING_THE_TEST,
        )
    environ, dagster_home, limits = queued_dagster_home(tmp_path)
    assert limits == {"connector/salesforce": SALESFORCE_LIMIT}

    port = free_port()
    process = start_dagster_dev(environ, port)
    url = f"http://127.0.0.1:{port}"
    try:
        client = DagsterClient(url)
        # Every path twice for crm, side by side with the other two integrations.
        _ui_materialize(url, "crm", day(1))
        _ui_materialize(url, "crm", day(2))
        _ui_backfill(url, "crm", [day(3), day(4)])
        _ui_backfill(url, "crm", [day(5)])
        _job_launch(url, "crm")
        _job_launch(url, "crm")
        client.launch_sync("crm")
        client.launch_sync("crm")
        _ui_materialize(url, "crm_b", day(1))
        _job_launch(url, "crm_c")
        shells = [_dagster_materialize(environ, "crm", d) for d in (day(6), day(7))]
        outputs = [shell.communicate(timeout=600)[0] for shell in shells]
        assert [s.returncode for s in shells] == [0, 0], [o[-3000:] for o in outputs]
        expected = 12

        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:

            def finished():
                records = instance.get_run_records()
                done = [r for r in records if r.dagster_run.is_finished]
                return records if len(records) == expected and len(done) == expected else None

            records = wait_for(finished, 900, f"all {expected} runs to finish")
            spans = {
                r.dagster_run.run_id: _sync_spans(instance, r.dagster_run.run_id) for r in records
            }
    finally:
        stop_process_group(process)

    statuses = {r.dagster_run.run_id: r.dagster_run.status for r in records}
    assert set(statuses.values()) == {dg.DagsterRunStatus.SUCCESS}, statuses
    # Every run names its integration and connector, whoever launched it.
    by_integration: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for record in records:
        run = record.dagster_run
        assert run.tags.get("integration") in {"crm", "crm_b", "crm_c"}, run.tags
        assert run.tags.get("integrations/connector") == "salesforce", run.tags
        by_integration[run.tags["integration"]].append(spans[run.run_id])
    assert len(by_integration["crm"]) == 10
    # Two syncs of one integration never overlap, and the connector's limit holds.
    assert max_overlap(by_integration["crm"]) == 1, sorted(by_integration["crm"])
    every = [span for spans_ in by_integration.values() for span in spans_]
    assert max_overlap(every) <= SALESFORCE_LIMIT
    # The queue did run integrations side by side (else the limits prove nothing).
    assert max_overlap(every) == SALESFORCE_LIMIT
    # The runs that went through the queue did not even start side by side.
    in_process = {day(6), day(7)}
    queued_crm = [
        (r.start_time, r.end_time)
        for r in records
        if r.dagster_run.tags["integration"] == "crm"
        and r.dagster_run.tags.get("dagster/partition") not in in_process
    ]
    assert len(queued_crm) == 8
    assert max_overlap(queued_crm) == 1, sorted(queued_crm)
