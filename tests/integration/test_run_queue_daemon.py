"""Production mode under a running daemon: 20 integrations launched at once through
Dagster's queued run coordinator, every store on PostgreSQL."""

import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pytest

from integrations_platform.orchestration.client import DagsterClient
from tests.conftest import START, salesforce_config
from tests.integration.helpers import (
    NOT_DURING_THE_TEST,
    ORDERS,
    free_port,
    jsonl_rows,
    max_overlap,
    queued_dagster_home,
    source_config,
    start_dagster_dev,
    stop_process_group,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")

SALESFORCE, POSTGRES = 12, 8
MAX_RUNS, SALESFORCE_LIMIT = 4, 2
TWICE = ("sf_00", "sf_01", "pg_00")  # launched a second time while the first is queued


@pytest.mark.parametrize("platform", ["postgres"], indirect=True)
def test_twenty_integrations_at_once_respect_every_limit(
    platform, sandbox, source_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("INTEGRATIONS_MAX_CONCURRENT_RUNS", str(MAX_RUNS))
    monkeypatch.setenv("INTEGRATIONS_MAX_CONCURRENT_SYNCS_SALESFORCE", str(SALESFORCE_LIMIT))
    names = [f"sf_{i:02}" for i in range(SALESFORCE)] + [f"pg_{i:02}" for i in range(POSTGRES)]
    for name in names:
        if name.startswith("sf_"):
            platform.service.add(
                "salesforce",
                name,
                salesforce_config(sandbox),
                streams=["Account"],
                start_date=START,
                schedule=NOT_DURING_THE_TEST,
            )
        else:
            platform.service.add(
                "postgres",
                name,
                source_config(source_url),
                streams=["public-orders:updated_at"],
                start_date=START,
                schedule=NOT_DURING_THE_TEST,
            )
    environ, dagster_home, limits = queued_dagster_home(tmp_path)
    assert limits == {"connector/salesforce": SALESFORCE_LIMIT}
    # dagster.yaml names the storage by variable: this process reads the instance too.
    monkeypatch.setenv(
        "INTEGRATIONS_DAGSTER_DATABASE_URL", environ["INTEGRATIONS_DAGSTER_DATABASE_URL"]
    )

    port = free_port()
    process = start_dagster_dev(environ, port)
    try:
        client = DagsterClient(f"http://127.0.0.1:{port}")
        with ThreadPoolExecutor(max_workers=8) as pool:
            launched = list(pool.map(client.launch_sync, names))
        launched += [client.launch_sync(name) for name in TWICE]

        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:

            def finished():
                records = instance.get_run_records(dg.RunsFilter(run_ids=launched))
                done = [r for r in records if r.dagster_run.is_finished]
                return records if len(done) == len(launched) else None

            started = time.monotonic()
            records = wait_for(finished, 900, "all 23 runs to finish")
            elapsed = time.monotonic() - started
    finally:
        stop_process_group(process)

    statuses = {r.dagster_run.run_id: r.dagster_run.status for r in records}
    assert set(statuses.values()) == {dg.DagsterRunStatus.SUCCESS}, statuses
    by_integration: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for record in records:
        name = record.dagster_run.tags["integration"]
        by_integration[name].append((record.start_time, record.end_time))
    every = [span for spans in by_integration.values() for span in spans]
    salesforce = [
        span for n, spans in by_integration.items() if n.startswith("sf_") for span in spans
    ]
    print(
        f"23 runs in {elapsed:.0f} s; peak {max_overlap(every)} at once, "
        f"Salesforce peak {max_overlap(salesforce)}"
    )
    assert all(max_overlap(spans) == 1 for spans in by_integration.values())
    assert max_overlap(salesforce) <= SALESFORCE_LIMIT
    assert max_overlap(every) <= MAX_RUNS
    # The queue really ran things side by side (otherwise the limits prove nothing).
    assert max_overlap(every) >= 2

    # Every row arrived, once.
    accounts = {r["Id"] for r in sandbox.records("Account")}
    for name in names:
        stream = "Account" if name.startswith("sf_") else "public-orders"
        rows = jsonl_rows(platform, name, stream)
        expected = accounts if name.startswith("sf_") else set(range(1, ORDERS + 1))
        key = "Id" if name.startswith("sf_") else "id"
        assert {r[key] for r in rows} == expected, name
        # The second run re-read the bookmark's record, which replaced its copy.
        assert len(rows) == len(expected), name
