"""Quickstart command one, for real: `integrations up` serves Dagster, the API and the demo."""

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx
import pytest
from dagster_graphql import DagsterGraphQLClient
from playwright.sync_api import expect

from benchmarks.catalog_to_sync import PLATFORM_CONNECTOR
from integrations_platform.launcher import DEMO_DAYS
from integrations_platform.settings import PROJECT_ROOT
from integrations_platform.store import ConfigStore
from tests.conftest import START
from tests.integration.helpers import SCHEDULES_QUERY, free_port, start_up, wait_for

pytestmark = pytest.mark.usefixtures("meltano_plugins")

ASSETS = "{ assetNodes { assetKey { path } } }"


@dataclass
class Running:
    home: Path
    cwd: Path
    env: dict[str, str]
    dagster_port: int
    api_port: int
    sandbox_port: int

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def graphql(self, query: str) -> dict:
        reply = httpx.post(
            f"http://127.0.0.1:{self.dagster_port}/graphql", json={"query": query}, timeout=10
        )
        return reply.json()["data"]

    def asset_keys(self) -> list[str]:
        return sorted("/".join(n["assetKey"]["path"]) for n in self.graphql(ASSETS)["assetNodes"])

    def headers(self) -> dict[str, str]:
        token = (self.home / "api-token").read_text().strip()
        return {"Authorization": f"Bearer {token}"}

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """The CLI, as a user in the same folder with the Dagster this `up` started."""
        cli = str(Path(sys.executable).parent / "integrations")
        env = {**self.env, "INTEGRATIONS_DAGSTER_URL": f"http://127.0.0.1:{self.dagster_port}"}
        return subprocess.run([cli, *args], env=env, cwd=self.cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    cwd = tmp_path_factory.mktemp("quickstart")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "DAGSTER_"))}
    env["INTEGRATIONS_HOME"] = str(cwd / "home")
    # A copy of the catalog and of the Meltano project (its installed plugins shared), so
    # that a test may add a catalog file while `up` runs without touching the project's.
    env.update(copy_catalog_and_project(cwd))
    ports = [free_port() for _ in range(3)]
    state = Running(cwd / "home", cwd, env, *ports)
    process = start_up(cwd, env, ports, cwd / "up.log")
    try:
        wait_for(state.asset_keys, 240, "the demo assets in Dagster")
        wait_for(lambda: httpx.get(f"{state.api}/healthz", timeout=2).status_code == 200, 60, "API")
        yield state
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert process.returncode == 0


def copy_catalog_and_project(cwd: Path) -> dict[str, str]:
    """The catalog and the Meltano project copied under ``cwd`` (the installed plugins
    linked, not copied); the variables that point the platform at them."""
    catalog = cwd / "catalog"
    shutil.copytree(PROJECT_ROOT / "connector_catalog", catalog)
    project = cwd / "meltano"
    shutil.copytree(PROJECT_ROOT / "meltano", project, ignore=shutil.ignore_patterns(".meltano"))
    (project / ".meltano").symlink_to(PROJECT_ROOT / "meltano" / ".meltano")
    return {"INTEGRATIONS_CATALOG_DIR": str(catalog), "INTEGRATIONS_MELTANO_PROJECT": str(project)}


def _wait_for_run(client: DagsterGraphQLClient, run_id: str) -> str:
    return wait_for(
        lambda: (
            (s := client.get_run_status(run_id).value) in ("SUCCESS", "FAILURE", "CANCELED") and s
        ),
        180,
        f"run {run_id}",
    )


def test_up_serves_the_demo_with_a_running_schedule(running: Running):
    assert running.asset_keys() == [
        "demo_salesforce/Account",
        "demo_salesforce/Contact",
        "demo_salesforce/Opportunity",
    ]
    schedules = running.graphql(SCHEDULES_QUERY)["schedulesOrError"]["results"]
    assert schedules == [
        {"name": "demo_salesforce_schedule", "scheduleState": {"status": "RUNNING"}}
    ]


SCHEMA_QUERY = """
{ assetNodes(assetKeys: [{path: ["demo_salesforce", "Account"]}]) {
    metadataEntries {
      label
      ... on TableSchemaMetadataEntry { schema { columns { name type } } }
      ... on TextMetadataEntry { text }
    }
    assetMaterializations {
      partition
      metadataEntries { label ... on IntMetadataEntry { intValue } }
    }
} }
"""


def test_the_readmes_first_clicks_sync_the_demo_and_fill_its_partitions(running: Running, browser):
    """In real Chromium, the README's first clicks: the demo group, "Materialize all…",
    "Missing", "Launch backfill". One run syncs the three streams; the partition bars
    then show every day as loaded, and "Missing" has nothing left to do."""
    # Dagster's first-visit newsletter box opens a second after a page loads, over any
    # dialog already open: marked as seen (as its "Skip" does), it does not open.
    assert running.graphql("mutation SetNuxSeen { setNuxSeen }")["setNuxSeen"] is True
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, timezone_id="UTC")
    page.set_default_timeout(30_000)
    group = (
        f"http://127.0.0.1:{running.dagster_port}"
        "/asset-groups/demo_salesforce@__repository__@integrations/lineage"
    )
    try:
        page.goto(group)
        page.get_by_role("button", name="Materialize all…").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("button", name="Missing", exact=True).click()
        # The demo starts DEMO_DAYS days ago: every complete day is missing.
        expect(dialog.get_by_text(f"{DEMO_DAYS} partitions", exact=True)).to_be_visible()
        dialog.get_by_role("button", name="Launch backfill").click()
        expect(dialog).to_be_hidden()

        with dg.DagsterInstance.from_config(str(running.home / "dagster")) as instance:

            def backfill_run():
                runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/from_ui": "true"}))
                return runs if runs and runs[0].dagster_run.is_finished else None

            [record] = wait_for(backfill_run, 240, "the backfill's run")
            run = record.dagster_run
            assert run.status == dg.DagsterRunStatus.SUCCESS
            assert run.tags["integration"] == "demo_salesforce"  # queued as the demo's run
            partitions = dg.DailyPartitionsDefinition(
                (datetime.now(UTC).date() - timedelta(days=DEMO_DAYS)).isoformat(),
                timezone="UTC",
            )
            for stream in ("Account", "Contact", "Opportunity"):
                key = dg.AssetKey(["demo_salesforce", stream])
                loaded = instance.get_materialized_partitions(key)
                assert loaded == set(partitions.get_partition_keys()), stream
        output = running.home / "output" / "demo_salesforce"
        for stream in ("Account", "Contact", "Opportunity"):
            assert len((output / f"{stream}.jsonl").read_text().splitlines()) == 30

        # Dagster's GraphQL API shows the discovered columns, the table and row counts.
        [node] = running.graphql(SCHEMA_QUERY)["assetNodes"]
        entries = {e["label"]: e for e in node["metadataEntries"]}
        columns = entries["dagster/column_schema"]["schema"]["columns"]
        assert {"Id": "string", "BillingAddress": "object"}.items() <= {
            c["name"]: c["type"] for c in columns
        }.items()
        assert entries["dagster/table_name"]["text"] == "demo_salesforce/Account.jsonl"
        # The partitions' own counts (the hourly schedule may also have synced by now).
        counts = [
            e["intValue"]
            for m in node["assetMaterializations"]
            if m["partition"]
            for e in m["metadataEntries"]
            if e["label"] == "dagster/row_count"
        ]
        assert len(counts) == DEMO_DAYS and sum(counts) == 30

        page.goto(group)
        # The asset graph renders after its queries; on a busy machine that takes a while.
        expect(page.get_by_text("100% filled")).to_have_count(3, timeout=90_000)
        page.get_by_role("button", name="Materialize all…").click()
        dialog.get_by_role("button", name="Missing", exact=True).click()
        expect(dialog.get_by_text("0 partitions", exact=True)).to_be_visible()
        expect(dialog.get_by_role("button", name="Launch backfill")).to_be_disabled()
    finally:
        page.close()


def test_an_integration_created_through_the_api_appears_and_syncs(running: Running):
    body = {
        "name": "crm_api",
        "connector": "salesforce",
        "config": {
            "client_id": "demo-client-id",
            "client_secret": "demo-client-secret",
            "refresh_token": "demo-refresh-token",
        },
        "streams": [{"name": "Account"}, {"name": "Contact"}],
        "start_date": START,
    }
    created = httpx.post(
        f"{running.api}/api/v1/integrations?test=true",
        json=body,
        headers=running.headers(),
        timeout=60,
    )
    assert created.status_code == 201, created.text
    assert created.json()["definitions"] == "reloaded"
    keys = running.asset_keys()
    assert {"crm_api/Account", "crm_api/Contact"} <= set(keys)
    assert "crm_api/Opportunity" not in keys

    launched = httpx.post(
        f"{running.api}/api/v1/integrations/crm_api/sync",
        json={"streams": ["Contact"]},
        headers=running.headers(),
        timeout=30,
    )
    assert launched.status_code == 202, launched.text
    run_id = launched.json()["run_id"]
    client = DagsterGraphQLClient("127.0.0.1", port_number=running.dagster_port)
    assert _wait_for_run(client, run_id) == "SUCCESS"

    runs = httpx.get(
        f"{running.api}/api/v1/integrations/crm_api/runs", headers=running.headers(), timeout=30
    ).json()
    assert runs[0]["run_id"] == run_id and runs[0]["status"] == "SUCCESS"
    assert runs[0]["row_counts"] == {"Contact": 30}
    listed = httpx.get(
        f"{running.api}/api/v1/integrations", headers=running.headers(), timeout=30
    ).json()
    status = next(i for i in listed if i["name"] == "crm_api")["status"]
    assert status["row_counts"] == {"Contact": 30}
    assert status["last_run"]["run_id"] == run_id
    output = running.home / "output" / "crm_api"
    assert len((output / "Contact.jsonl").read_text().splitlines()) == 30
    assert not (output / "Account.jsonl").exists()


def test_cli_changes_show_in_dagster_without_a_manual_reload(running: Running):
    config = running.cwd / "crm_cli.yaml"
    config.write_text(
        "client_id: sandbox-client\nclient_secret: sandbox-client-secret\n"
        "refresh_token: sandbox-refresh-token\n"
    )

    def keys() -> list[str]:
        return [k for k in running.asset_keys() if k.startswith("crm_cli/")]

    def ok(*args: str) -> str:
        done = running.cli(*args)
        assert done.returncode == 0, done.stderr
        assert "Reloaded Dagster's code location" in done.stdout, done.stdout + done.stderr
        return done.stdout

    ok("add", "salesforce", "crm_cli", "--config", str(config), "--streams", "Account")
    assert keys() == ["crm_cli/Account"]
    ok("update", "crm_cli", "--streams", "Account,Contact")
    assert keys() == ["crm_cli/Account", "crm_cli/Contact"]
    ok("disable", "crm_cli")
    assert keys() == []
    ok("enable", "crm_cli")
    assert keys() == ["crm_cli/Account", "crm_cli/Contact"]
    ok("remove", "crm_cli", "--yes")
    assert keys() == []


def test_run_workers_use_the_integrations_pinned_by_the_code_server(running: Running):
    # Disabled in the store after the code server loaded it, with no reload: the run
    # worker must build the same definitions from the pinned rows.
    store = ConfigStore.open(f"sqlite:///{running.home / 'integrations.db'}")
    try:
        store.update("demo_salesforce", lambda current: replace(current, enabled=False))
    finally:
        store.close()
    client = DagsterGraphQLClient("127.0.0.1", port_number=running.dagster_port)
    run_id = client.submit_job_execution(
        "__ASSET_JOB",
        repository_location_name="integrations",
        repository_name="__repository__",
        op_selection=["demo_salesforce_sync"],
    )
    assert _wait_for_run(client, run_id) == "SUCCESS"
    output = running.home / "output" / "demo_salesforce"
    for stream in ("Account", "Contact", "Opportunity"):
        assert len((output / f"{stream}.jsonl").read_text().splitlines()) == 30


def test_two_runs_of_one_integration_never_overlap(running: Running):
    launched = [
        httpx.post(
            f"{running.api}/api/v1/integrations/crm_api/sync",
            json={},
            headers=running.headers(),
            timeout=30,
        ).json()["run_id"]
        for _ in range(2)
    ]
    client = DagsterGraphQLClient("127.0.0.1", port_number=running.dagster_port)
    # While the first runs, the second waits in Dagster's queue (one run per integration).
    wait_for(lambda: client.get_run_status(launched[0]).value == "STARTED", 60, "first run start")
    assert client.get_run_status(launched[1]).value == "QUEUED"
    for run_id in launched:
        assert _wait_for_run(client, run_id) == "SUCCESS"
    with dg.DagsterInstance.from_config(str(running.home / "dagster")) as instance:
        first, second = (instance.get_run_record_by_id(r) for r in launched)
    assert second.start_time >= first.end_time


# A connector the catalog does not have, as someone would add it: a file (tap-jsonl, a
# plugin no other test installs, reads JSON Lines files); the benchmark times the same.
NEW_CONNECTOR = PLATFORM_CONNECTOR.format(id="jsonl_files", n="test")


def test_a_catalog_file_added_while_up_runs_is_used_without_a_restart(running: Running):
    """The issue's flow: a new catalog file appears in the marketplace (the wizard's
    list) by itself; `integrations catalog sync` installs its plugin and reloads Dagster;
    an integration of it is created and synced through the API. Nothing restarts."""
    data = running.cwd / "data"
    data.mkdir()
    (data / "events.jsonl").write_text(
        "".join(f'{{"id": {n}, "name": "event {n}"}}\n' for n in range(1, 8))
    )
    catalog = Path(running.env["INTEGRATIONS_CATALOG_DIR"])

    def listed() -> bool:
        reply = httpx.get(f"{running.api}/api/v1/connectors", headers=running.headers())
        return "jsonl_files" in {c["id"] for c in reply.json()}

    assert not listed()
    (catalog / "jsonl_files.yaml").write_text(NEW_CONNECTOR)
    wait_for(listed, 30, "the new connector in the marketplace")
    form = httpx.get(
        f"{running.api}/api/v1/connectors/jsonl_files", headers=running.headers()
    ).json()["form_schema"]
    assert form["required"] == ["path"]

    synced = running.cli("catalog", "sync")
    assert synced.returncode == 0, synced.stderr
    assert "Reloaded Dagster's code location" in synced.stdout, synced.stdout
    assert (
        "tap-jsonl"
        in (Path(running.env["INTEGRATIONS_MELTANO_PROJECT"]) / "meltano.yml").read_text()
    )

    created = httpx.post(
        f"{running.api}/api/v1/integrations",
        json={
            "name": "events_files",
            "connector": "jsonl_files",
            "config": {"path": str(data / "*.jsonl")},
            "streams": [{"name": "records"}],
        },
        headers=running.headers(),
        timeout=60,
    )
    assert created.status_code == 201, created.text
    assert "events_files/records" in running.asset_keys()
    launched = httpx.post(
        f"{running.api}/api/v1/integrations/events_files/sync",
        headers=running.headers(),
        timeout=30,
    )
    assert launched.status_code == 202, launched.text
    client = DagsterGraphQLClient("127.0.0.1", port_number=running.dagster_port)
    assert _wait_for_run(client, launched.json()["run_id"]) == "SUCCESS"
    output = running.home / "output" / "events_files" / "records.jsonl"
    assert len(output.read_text().splitlines()) == 7
