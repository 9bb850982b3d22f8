"""Building the config API over a test platform (shared by the API tests and the fuzz)."""

import dataclasses
import os
import re
import socket
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from integrations_platform.api.app import create_app
from integrations_platform.orchestration.client import DagsterClient

TOKEN = "api-test-token-7f3c9a0e5b2d4c61"
# The Dagster UI address the app links to (runs, asset groups). Nothing listens there:
# the app's Dagster *client* points at a closed local port instead.
DAGSTER_UI = "http://dagster.example.test:3000"
PUBLIC_ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/api/v1/connectors/{connector_id}/logo"),
    ("GET", "/api/v1/destination-connectors/{connector_id}/logo"),
    ("POST", "/api/v1/auth/login"),
}

POSTGRES_CONFIG: dict[str, Any] = {
    "host": "db.example.test",
    "user": "reader",
    "password": "pg-password-value",
    "database": "shop",
}
POSTGRES_STREAMS = [{"name": "public-orders", "replication_key": "updated_at"}]


def auth(token: str = TOKEN) -> dict[str, str]:
    """The header of an authenticated request."""
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def closed_port() -> Iterator[int]:
    """A local TCP port that is bound but not listening: a connection is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def app_environ(
    platform: Any, dead_port: int, dagster_home: Path | None = None, **extra: str
) -> dict[str, str]:
    """The environment the app gets: the process's, with the platform's key.

    The Salesforce login URL defaults to the closed port, so that no test ever reaches
    the real login.salesforce.com; the ``sandbox`` fixture sets it to the sandbox.
    """
    drop = {"DAGSTER_HOME", "INTEGRATIONS_API_TOKEN", "INTEGRATIONS_API_DEV"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["INTEGRATIONS_ENCRYPTION_KEYS"] = platform.key
    env["INTEGRATIONS_DAGSTER_URL"] = DAGSTER_UI
    env.setdefault("INTEGRATIONS_SALESFORCE_LOGIN_URL", f"http://127.0.0.1:{dead_port}")
    if dagster_home is not None:
        env["DAGSTER_HOME"] = str(dagster_home)
    env.update(extra)
    return env


def build_app(
    platform: Any,
    dead_port: int,
    environ: Mapping[str, str] | None = None,
    *,
    api_token: str | None = TOKEN,
    dev_mode: bool = False,
) -> FastAPI:
    """The API over ``platform``'s store; its Dagster client points at ``dead_port``."""
    settings = dataclasses.replace(platform.settings, dagster_url=DAGSTER_UI)
    return create_app(
        settings,
        environ=dict(environ) if environ is not None else app_environ(platform, dead_port),
        api_token=api_token,
        dev_mode=dev_mode,
        dagster=DagsterClient(f"http://127.0.0.1:{dead_port}", timeout_s=1),
    )


def operations(app: FastAPI) -> set[tuple[str, str]]:
    """Every (METHOD, path template) the app documents."""
    return {
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile(
        "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + r"\Z"
    )


def template_of(method: str, path: str, templates: Iterable[tuple[str, str]]) -> str | None:
    """The path template a request went to (a literal path wins over a parameter)."""
    matches = [t for m, t in templates if m == method and _pattern(t).match(path)]
    matches.sort(key=lambda t: t.count("{"))
    return matches[0] if matches else None
