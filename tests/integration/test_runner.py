"""The Meltano runner on its own: cancellation and cleanup, against the real tap."""

import os
import uuid
from pathlib import Path

import pytest

from integrations_platform.destinations import embedded_target
from integrations_platform.integration import StreamSelection
from integrations_platform.runner.logs import LogLine
from integrations_platform.runner.meltano import SyncRequest, run_sync
from integrations_platform.sandbox import SalesforceSandbox, SandboxCredentials

pytestmark = pytest.mark.usefixtures("meltano_plugins")


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_interrupting_a_sync_kills_the_whole_process_group(platform, monkeypatch):
    credentials = SandboxCredentials()
    # Many small pages keep the tap busy long enough to be interrupted mid-sync.
    with SalesforceSandbox(credentials, records_per_object=3000, page_size=5) as sandbox:
        monkeypatch.setenv("INTEGRATIONS_SALESFORCE_LOGIN_URL", sandbox.url)
        marker = f"cancel-{uuid.uuid4().hex}"
        environ = {**os.environ, "INTEGRATIONS_TEST_MARKER": marker}
        request = SyncRequest(
            integration="crm",
            state_id="crm-cancel",
            connector=platform.catalog.get("salesforce"),
            config={
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
                "refresh_token": credentials.refresh_token,
            },
            start_date="2024-01-01T00:00:00Z",
            destination=embedded_target(platform.catalog),
            streams=[StreamSelection("Account", "SystemModstamp")],
        )
        seen: list[int] = []

        def log(line: LogLine) -> None:
            if "queryAll" in line.message:
                seen.extend(_processes_with(marker))
                raise KeyboardInterrupt  # what a cancelled Dagster step raises

        with pytest.raises(KeyboardInterrupt):
            run_sync(request, platform.settings, environ, log)

    assert len(seen) >= 3  # meltano, the tap, the target were running
    assert _processes_with(marker) == []
    assert list((platform.home / "runs").iterdir()) == []
