"""Under a running Dagster daemon: a failed sync becomes a notification, is sent to the
webhook, and (auto-pause after 1 failure) stops the integration's schedule."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from integrations_platform.notifications import NotificationStore
from integrations_platform.notifications.sinks.webhook import verify_signature
from integrations_platform.orchestration.client import DagsterClient
from integrations_platform.settings import PROJECT_ROOT
from integrations_platform.store import ConfigStore, KeyRing, generate_key
from tests.conftest import START
from tests.integration.helpers import SCHEDULES_QUERY, free_port, wait_for
from tests.notification_support import WEBHOOK_SECRET, webhook_receiver

pytestmark = pytest.mark.usefixtures("meltano_plugins")

SENSOR = """{
  sensorOrError(sensorSelector: {repositoryName: "__repository__",
      repositoryLocationName: "integrations", sensorName: "%s"}) {
    ... on Sensor { sensorState { status ticks(limit: 1) { status } } }
  }
}"""


def test_a_failed_run_under_the_daemon_notifies_and_auto_pauses(tmp_path: Path):
    home, dagster_home = tmp_path / "home", tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    port = free_port()
    dagster_url = f"http://127.0.0.1:{port}"
    saved_with, running_with = generate_key(), generate_key()
    database_url = f"sqlite:///{home / 'integrations.db'}"
    store = ConfigStore.open(database_url)
    from integrations_platform.catalog import load_catalog
    from integrations_platform.service import IntegrationService

    IntegrationService(
        load_catalog(PROJECT_ROOT / "connector_catalog"),
        store,
        lambda: KeyRing.from_value(saved_with),
    ).add(
        "salesforce",
        "crm",
        {"client_id": "c", "client_secret": "daemon-secret-1", "refresh_token": "daemon-token"},
        streams=["Account"],
        start_date=START,
    )
    with webhook_receiver() as hook:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "DAGSTER_"))
        }
        env.update(
            INTEGRATIONS_HOME=str(home),
            DAGSTER_HOME=str(dagster_home),
            # The runs get another key than the config was saved with: they fail at once.
            INTEGRATIONS_ENCRYPTION_KEYS=running_with,
            INTEGRATIONS_DAGSTER_URL=dagster_url,
            INTEGRATIONS_NOTIFICATION_INTERVAL="1",
            INTEGRATIONS_AUTO_PAUSE_AFTER="1",
            INTEGRATIONS_WEBHOOK_URLS=hook.url,
            INTEGRATIONS_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        dagster = str(Path(sys.executable).parent / "dagster")
        process = subprocess.Popen(
            [dagster, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-p", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:

            def graphql(query: str) -> dict:
                return httpx.post(
                    f"{dagster_url}/graphql", json={"query": query}, timeout=10
                ).json()["data"]

            def ticked() -> bool:
                state = graphql(SENSOR % "integrations_run_failure_notifications")
                state = state["sensorOrError"]["sensorState"]
                return state["status"] == "RUNNING" and len(state["ticks"]) > 0

            wait_for(ticked, 180, "the failure sensor's first tick under the daemon")
            run_id = DagsterClient(dagster_url).launch_sync("crm")
            notes = NotificationStore(store.engine)

            def notified():
                found = notes.list_notifications(integration="crm", status="open")
                kinds = {n.kind: n for n in found}
                return kinds if {"run_failure", "auto_paused"} <= set(kinds) else None

            kinds = wait_for(notified, 120, "the failure and auto-pause notifications")
            failure = kinds["run_failure"]
            assert failure.run_id == run_id
            assert failure.run_url == f"{dagster_url}/runs/{run_id}"
            assert failure.category == "configuration"
            assert "cannot be decrypted" in failure.message
            assert "Execution of step" not in failure.message
            paused = kinds["auto_paused"]
            assert "paused" in paused.title and "crm_schedule" in paused.action

            schedules = graphql(SCHEDULES_QUERY)["schedulesOrError"]["results"]
            assert schedules == [{"name": "crm_schedule", "scheduleState": {"status": "STOPPED"}}]
            wait_for(lambda: len(hook.accepted) >= 2, 30, "the webhook deliveries")
        finally:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            store.close()
    events = {(r.json["event"], r.json["notification"]["kind"]) for r in hook.accepted}
    assert {("opened", "run_failure"), ("opened", "auto_paused")} <= events
    assert all(verify_signature(WEBHOOK_SECRET, r.headers, r.body) for r in hook.accepted)
    assert not any(b"daemon-secret-1" in r.body or b"daemon-token" in r.body for r in hook.received)
