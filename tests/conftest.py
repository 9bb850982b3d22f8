"""Shared fixtures: an isolated platform home, real databases, the Salesforce sandbox."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from integrations_platform.catalog import Catalog, load_catalog
from integrations_platform.databases import ensure_schema
from integrations_platform.launcher import compile_bytecode
from integrations_platform.sandbox import SalesforceSandbox, SandboxCredentials
from integrations_platform.service import IntegrationService
from integrations_platform.settings import PROJECT_ROOT, Settings, get_settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key

if TYPE_CHECKING:
    import dagster as dg

POSTGRES_ADMIN_URL = os.environ.get(
    "INTEGRATIONS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
MELTANO_PROJECT = PROJECT_ROOT / "meltano"

# The test data (the sandbox's records, the PostgreSQL sources' rows) and the integrations'
# start dates begin 30 days before the run: every daily window is complete, and the first
# sync of a stream records about 30 covered partitions (one Dagster event each), not the
# thousand a start date years back would cost.
DATA_START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
    days=30
)
START = DATA_START.date().isoformat()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Build the page (its static export) before any test, when it is missing or stale:
    the API's page tests and the browser tests serve it, as `integrations up` does.
    ``TESTS_KEEP_PAGE=1`` keeps the current export (a local run while the page is edited)."""
    from integrations_platform.web.build import build_page

    if os.environ.get("TESTS_KEEP_PAGE") == "1":
        return
    build_page(log=lambda message: print(message, flush=True))


def day(n: int) -> str:
    """The ISO date ``n`` days after the test data's first day (``day(0) == START``)."""
    return (DATA_START + timedelta(days=n)).date().isoformat()


@dataclass
class Platform:
    """An isolated platform: its own home, config database, keys and service."""

    home: Path
    settings: Settings
    key: str
    service: IntegrationService

    @property
    def catalog(self) -> Catalog:
        return self.service.catalog

    @contextmanager
    def dagster_instance(self, dagster_home: Path) -> Iterator["dg.DagsterInstance"]:
        """A real Dagster instance whose storage follows the platform's settings
        (PostgreSQL in production mode, SQLite under ``dagster_home`` otherwise)."""
        import dagster as dg

        overrides = (
            {"storage": {"postgres": {"postgres_url": self.settings.dagster_database_url}}}
            if self.settings.dagster_database_url
            else None
        )
        with dg.instance_for_test(temp_dir=str(dagster_home), overrides=overrides) as instance:
            yield instance

    def sqlite_files(self) -> list[Path]:
        """SQLite databases under the platform's home (none in production mode)."""
        return sorted(p for p in self.home.rglob("*.db") if p.is_file())


@pytest.fixture(scope="session")
def meltano_plugins() -> Path:
    """The Meltano project with every plugin installed (once per session)."""
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{MELTANO_PROJECT / '.meltano' / 'install.db'}",
    }
    (MELTANO_PROJECT / ".meltano").mkdir(exist_ok=True)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "meltano"), "install"],
        cwd=MELTANO_PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    compile_bytecode(MELTANO_PROJECT)  # as `integrations up` does after installing
    return MELTANO_PROJECT


@pytest.fixture
def platform(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Platform]:
    """A fresh platform under a temporary INTEGRATIONS_HOME: on SQLite (the embedded
    default), or, parametrized with ``"postgres"``, in production mode with the config
    store, Meltano's state and Dagster's storage on a fresh PostgreSQL database."""
    mode = getattr(request, "param", "sqlite")
    home = tmp_path / "home"
    key = generate_key()
    monkeypatch.setenv("INTEGRATIONS_HOME", str(home))
    monkeypatch.setenv("INTEGRATIONS_ENCRYPTION_KEYS", key)
    for var in (
        "INTEGRATIONS_DATABASE_URL",
        "MELTANO_DATABASE_URI",
        "INTEGRATIONS_WAREHOUSE_URL",
        "INTEGRATIONS_SALESFORCE_LOGIN_URL",
        "INTEGRATIONS_POSTGRES_URL",
        "INTEGRATIONS_DAGSTER_DATABASE_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    with ExitStack() as stack:
        if mode == "postgres":
            url = stack.enter_context(fresh_postgres_database())
            monkeypatch.setenv("INTEGRATIONS_POSTGRES_URL", url)
        get_settings.cache_clear()
        settings = Settings.from_env()
        if settings.dagster_database_url:
            ensure_schema(
                settings.dagster_database_url, variable="INTEGRATIONS_DAGSTER_DATABASE_URL"
            )
        store = ConfigStore.open(settings.database_url)
        service = IntegrationService(
            load_catalog(settings.catalog_dir), store, lambda: KeyRing.from_env(os.environ)
        )
        yield Platform(home, settings, key, service)
        store.close()
        get_settings.cache_clear()


@pytest.fixture
def canary() -> str:
    """A unique secret value that must never be seen anywhere after a run."""
    return f"canary-{uuid.uuid4().hex}"


@pytest.fixture
def sandbox(canary: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceSandbox]:
    """The local Salesforce-compatible server, with the canary as secret and token."""
    credentials = SandboxCredentials(
        client_id="sandbox-client", client_secret=canary, refresh_token=canary
    )
    with SalesforceSandbox(credentials, start=DATA_START) as server:
        monkeypatch.setenv("INTEGRATIONS_SALESFORCE_LOGIN_URL", server.url)
        yield server


def salesforce_config(sandbox: SalesforceSandbox, **overrides: object) -> dict[str, object]:
    """A config for the sandbox's credentials."""
    creds = sandbox.credentials
    config: dict[str, object] = {
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
    }
    config.update(overrides)
    return config


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the local PostgreSQL server; yields its URL, then drops it.

    Fails (never skips) when the server is down: CI must run these tests.
    """
    name = f"it_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server; its SQLAlchemy URL."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def warehouse_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A second fresh database playing the warehouse of the ``postgres`` destination."""
    with fresh_postgres_database() as url:
        monkeypatch.setenv("INTEGRATIONS_WAREHOUSE_URL", url)
        yield url


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    """An empty DAGSTER_HOME for a real instance."""
    path = tmp_path / "dagster"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _fresh_definitions_load_context() -> Iterator[None]:
    """Each test loads definitions as a new process would (no leftover load context).

    Dagster keeps the current load context, and the platform its last build, per
    process; a test that reconstructs a job would otherwise leave both behind.
    """
    yield
    from dagster._core.definitions.definitions_load_context import DefinitionsLoadContext

    import integrations_platform.orchestration.definitions as definitions

    DefinitionsLoadContext._instance = None  # noqa: SLF001 - test isolation only
    definitions._last_build = None  # noqa: SLF001


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt-get when missing (root only)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0:
        pytest.fail(
            f"{CHROMIUM} is missing and these tests are not running as root, so they cannot "
            "install it: run `sudo apt-get install -y chromium` (Debian's package; Playwright's "
            "own browser download does not work without internet), then run the tests again."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "chromium"]
    first = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if first.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=900)
        second = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
        if second.returncode != 0:
            pytest.fail(
                "`apt-get install -y chromium` failed twice (once after `apt-get update`):\n"
                + second.stderr[-2000:]
            )
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium, but {CHROMIUM} still does not exist")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    executable = ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()
