"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, the real API
served by uvicorn, a real ``dagster dev``, and the Salesforce sandbox.

One browser per session, one server stack per module. Chromium is never downloaded
(the machine has no internet): the Debian package is used, installed with apt-get when
missing and we are root; otherwise the tests fail with what to do. They never skip.
"""

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations_platform.sandbox import SalesforceSandbox, SandboxCredentials
from integrations_platform.settings import PROJECT_ROOT
from integrations_platform.store import ConfigStore, generate_key
from tests.conftest import DATA_START
from tests.e2e.support import CLIENT_ID, Stack
from tests.integration.helpers import (
    free_port,
    start_dagster_dev,
    stop_process_group,
    wait_for,
)

API_TOKEN = f"e2e-token-{uuid.uuid4().hex}"


def artifacts_dir() -> Path:
    """Where screenshots go: $INTEGRATIONS_TEST_ARTIFACTS, else tests/e2e/artifacts."""
    configured = os.environ.get("INTEGRATIONS_TEST_ARTIFACTS")
    path = Path(configured) if configured else Path(__file__).parent / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, meltano_plugins: Path) -> Iterator[Stack]:
    """The real API (uvicorn) and a real ``dagster dev`` over a fresh platform home, with
    Salesforce logins sent to the sandbox. Its secrets are unique canaries."""
    assert meltano_plugins.exists()
    root = tmp_path_factory.mktemp("e2e")
    home, dagster_home, logs = root / "home", root / "dagster", root / "logs"
    for path in (home, dagster_home, logs):
        path.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    credentials = SandboxCredentials(
        client_id=CLIENT_ID,
        client_secret=f"canary-{uuid.uuid4().hex}",
        refresh_token=f"canary-{uuid.uuid4().hex}",
    )
    # The realistic org (319 objects): the wizard's streams step lists what it discovers.
    sandbox = SalesforceSandbox(credentials, start=DATA_START, org="full").start()
    api_port, dagster_port = free_port(), free_port()
    api_url, dagster_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{dagster_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "DAGSTER_"))}
    env.update(
        INTEGRATIONS_HOME=str(home),
        DAGSTER_HOME=str(dagster_home),
        INTEGRATIONS_ENCRYPTION_KEYS=generate_key(),
        INTEGRATIONS_DAGSTER_URL=dagster_url,
        INTEGRATIONS_API_URL=api_url,
        INTEGRATIONS_API_TOKEN=API_TOKEN,
        INTEGRATIONS_SALESFORCE_LOGIN_URL=sandbox.url,
    )
    state = Stack(home, api_url, dagster_url, API_TOKEN, sandbox, env, logs)
    # Migrated once here, before two processes open it at the same time.
    ConfigStore.open(state.database_url).close()
    processes: list[subprocess.Popen] = []
    # To a file: an unread pipe fills up and blocks the process writing to it.
    api_log = (logs / "api.log").open("wb")
    try:
        api = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "integrations_platform.api.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(api_port),
                "--log-level",
                "warning",
            ],
            cwd=root,
            env=env,
            stdout=api_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(api)
        processes.append(start_dagster_dev(env, dagster_port))  # waits for the code location

        def api_up() -> bool:
            assert api.poll() is None, (logs / "api.log").read_text()[-3000:]
            return httpx.get(f"{api_url}/healthz", timeout=2).status_code == 200

        wait_for(api_up, 60, "the config API")
        yield state
    finally:
        for process in reversed(processes):
            stop_process_group(process)
        api_log.close()
        sandbox.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The folder the screenshots are saved in."""
    return artifacts_dir()


@pytest.fixture
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    """A fresh browser context (empty storage) and page; fails the test on an uncaught
    script error or a Content-Security-Policy violation."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC"
    )
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"uncaught error: {exc}"))

    def console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP violation: {message.text}")

    opened.on("console", console)
    try:
        yield opened
    finally:
        context.close()
    assert problems == []
