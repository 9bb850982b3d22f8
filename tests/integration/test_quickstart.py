"""Quickstart command one, for real: `integrations up` serves Dagster with the demo."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from dagster_graphql import DagsterGraphQLClient

pytestmark = pytest.mark.usefixtures("meltano_plugins")

QUERY = """{
  assetNodes { assetKey { path } }
  schedulesOrError(repositorySelector: {repositoryName: "__repository__",
                                        repositoryLocationName: "integrations"}) {
    ... on Schedules { results { name scheduleState { status } } }
  }
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, deadline: float) -> dict:
    while time.monotonic() < deadline:
        try:
            reply = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=5)
            data = reply.json().get("data") or {}
            if data.get("assetNodes"):
                return data
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    raise AssertionError("Dagster did not serve the demo assets in time")


def test_up_serves_the_demo_whose_run_workers_use_the_pinned_integrations(tmp_path: Path):
    dagster_port, sandbox_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "DAGSTER_"))}
    env["INTEGRATIONS_HOME"] = str(tmp_path / "home")
    cli = str(Path(sys.executable).parent / "integrations")
    process = subprocess.Popen(
        [cli, "up", "--dagster-port", str(dagster_port), "--sandbox-port", str(sandbox_port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        data = _graphql(dagster_port, time.monotonic() + 240)
        keys = sorted("/".join(n["assetKey"]["path"]) for n in data["assetNodes"])
        assert keys == [
            "demo_salesforce/Account",
            "demo_salesforce/Contact",
            "demo_salesforce/Opportunity",
        ]
        schedules = data["schedulesOrError"]["results"]
        assert schedules == [
            {"name": "demo_salesforce_schedule", "scheduleState": {"status": "RUNNING"}}
        ]
        # Disabled after the code server loaded it: the run worker must build the same
        # definitions from the pinned rows (a fresh query would drop the job).
        disabled = subprocess.run(
            [cli, "disable", "demo_salesforce"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert disabled.returncode == 0, disabled.stderr
        client = DagsterGraphQLClient("127.0.0.1", port_number=dagster_port)
        run_id = client.submit_job_execution(
            "demo_salesforce_sync_job",
            repository_location_name="integrations",
            repository_name="__repository__",
        )
        deadline = time.monotonic() + 180
        status = client.get_run_status(run_id)
        while (
            status.value not in ("SUCCESS", "FAILURE", "CANCELED") and time.monotonic() < deadline
        ):
            time.sleep(1)
            status = client.get_run_status(run_id)
        assert status.value == "SUCCESS"
        output = tmp_path / "home" / "output" / "demo_salesforce"
        for stream in ("Account", "Contact", "Opportunity"):
            assert len((output / f"{stream}.jsonl").read_text().splitlines()) == 30
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert process.returncode == 0
