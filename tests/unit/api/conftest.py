"""Fixtures of the API tests: the app over the ``platform`` fixture's store."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from fastapi.testclient import TestClient

from tests.unit.api.support import app_environ, auth, build_app, closed_port

MakeClient = Callable[..., TestClient]


@pytest.fixture
def dead_port() -> Iterator[int]:
    """Where the app's Dagster client (and by default the Salesforce login) points."""
    with closed_port() as port:
        yield port


@pytest.fixture
def make_client(platform: Any, dead_port: int) -> Iterator[MakeClient]:
    """Build the app and enter a TestClient (so that the lifespan runs).

    Call it after the fixtures that set the environment (``sandbox``) are set up: the
    app's environment is copied from the process's at that moment.
    """
    with ExitStack() as stack:
        apps = []

        def make(
            *,
            authenticated: bool = True,
            dagster_home: Path | None = None,
            raise_server_exceptions: bool = True,
            **env: str,
        ) -> TestClient:
            app = build_app(
                platform, dead_port, app_environ(platform, dead_port, dagster_home, **env)
            )
            apps.append(app)
            client = TestClient(
                app,
                headers=auth() if authenticated else None,
                raise_server_exceptions=raise_server_exceptions,
            )
            return stack.enter_context(client)

        yield make
        for app in apps:  # the Dagster instance the status reader opened, if any
            reader = app.state.platform._status
            if reader is not None:
                reader.instance.dispose()


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """An authenticated client; Dagster unreachable, no Dagster instance to read."""
    return make_client()


@pytest.fixture
def sandbox_client(platform: Any, sandbox: Any, make_client: MakeClient) -> TestClient:
    """An authenticated client whose Salesforce login goes to the sandbox.

    ``platform`` comes first: it clears the login URL variable that ``sandbox`` sets.
    """
    assert platform.settings and sandbox.url
    return make_client()


@pytest.fixture
def dagster_instance(dagster_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real Dagster instance in ``dagster_home``, also found by ``DagsterInstance.get()``."""
    # Set before the instance (which also sets it and restores it on exit), so that
    # monkeypatch restores the variable's original state last.
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        yield instance
