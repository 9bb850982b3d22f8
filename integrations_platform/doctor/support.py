"""What the doctor's checks share: their state, constants and small helpers."""

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from integrations_platform.databases import redacted, search_path_schema
from integrations_platform.doctor.report import Check
from integrations_platform.runner.redaction import Redactor
from integrations_platform.settings import (
    ENV_ENCRYPTION_KEYS,
    ENV_POSTGRES_URL,
    Settings,
)
from integrations_platform.store.vault import vault_credentials

if TYPE_CHECKING:
    import dagster as dg

    from integrations_platform.catalog import Catalog
    from integrations_platform.integration import Integration
    from integrations_platform.store.destinations import Destination

DEFAULT_TIMEOUT_S = 5.0
MIGRATE = "Run `integrations migrate`."
T = TypeVar("T")
# The tables Dagster's storage has once `integrations migrate` prepared it.
_DAGSTER_TABLES = ("runs", "event_logs", "alembic_version")
_LOCATION_NAME = "integrations"
_GRAPHQL_QUERY = """
query Doctor {
  version
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
    ... on PythonError { message }
  }
}"""


@dataclass
class DoctorState:
    """What the checks share: the settings, and what earlier checks loaded."""

    settings: Settings
    environ: dict[str, str]  # with the derived URLs, as the Dagster processes see it
    given: dict[str, str]  # as given: which variables the operator set
    timeout_s: float
    stored: "list[Integration] | None" = None
    # The configured destinations (their configs are encrypted with the same keys).
    stored_destinations: "tuple[Destination, ...]" = ()
    catalog: "Catalog | None" = None
    dagster_yaml: dict[str, Any] | None = None
    instance: "dg.DagsterInstance | None" = None
    checks: list[Check] = field(default_factory=list)

    def read_database(
        self, name: str, url: str, source: str, read: Callable[[sa.Connection], T]
    ) -> "Check | T":
        """What ``read`` finds on a connection to ``url``; or the failing check ``name``
        when the server cannot be reached (naming ``source``, where the URL came from) or
        the database's schema is missing."""
        problem = _unreachable(url, self.timeout_s)
        if problem is not None:
            return Check(name, "fail", problem, _reach_fix(url, source))
        engine = _engine(url, self.timeout_s)
        try:
            with engine.connect() as connection:
                missing = _missing_schema(connection, url)
                if missing:
                    return Check(name, "fail", f"{redacted(url)}: {missing}", MIGRATE)
                return read(connection)
        finally:
            engine.dispose()


# -- helpers ------------------------------------------------------------------------------


def _engine(url: str, timeout_s: float) -> sa.Engine:
    """An engine whose connections and statements give up after ``timeout_s``."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        options = parsed.query.get("options") or ""
        if isinstance(options, tuple):
            options = " ".join(options)
        milliseconds = int(timeout_s * 1000)
        connect_args = {
            "connect_timeout": max(1, round(timeout_s)),
            # Keeps the URL's own options (its search_path) and bounds every statement.
            "options": f"{options} -c statement_timeout={milliseconds}".strip(),
        }
    elif backend == "sqlite":
        connect_args = {"timeout": timeout_s}
    return sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)


def _unreachable(url: str, timeout_s: float) -> str | None:
    """Why ``url`` cannot be connected to, or None when it can."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not Path(database).is_file():
            return f"no database file at {database}"
    try:
        engine = _engine(url, timeout_s)
    except Exception as exc:  # a malformed URL, or a driver that is not installed
        return f"cannot use {redacted(url)}: {_first_line(exc)}"
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        return f"cannot connect to {redacted(url)}: {_first_line(exc.orig)}"
    finally:
        engine.dispose()
    return None


def _missing_schema(connection: sa.Connection, url: str) -> str | None:
    schema = search_path_schema(url)
    if schema is None:
        return None
    exists = connection.execute(
        sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
    ).scalar()
    return None if exists else f"schema '{schema}' does not exist"


def _url_source(environ: Mapping[str, str], variable: str) -> str:
    """The setting a store's URL came from (both candidates when neither is set)."""
    if environ.get(variable):
        return variable
    if environ.get(ENV_POSTGRES_URL):
        return ENV_POSTGRES_URL
    return f"{ENV_POSTGRES_URL} (or {variable})"


def _reach_fix(url: str, source: str) -> str:
    if make_url(url).get_backend_name() == "sqlite":
        return (
            "Run `integrations migrate` (or `integrations up`) to create it, or set "
            f"{source} to the deployment's database."
        )
    return f"Start the database server or correct {source}; then run `integrations migrate`."


def _plugin_problem(venv: Path, executable: str) -> str | None:
    """Why a plugin's executable cannot run, or None."""
    path = venv / "bin" / executable
    if not path.is_file():
        return "missing"
    if not os.access(path, os.X_OK):
        return "not executable"
    with path.open("rb") as handle:
        first = handle.readline(512)
    if first.startswith(b"#!"):
        interpreter = first[2:].decode("utf-8", "replace").split()
        if interpreter and interpreter[0].startswith("/") and not Path(interpreter[0]).exists():
            return f"broken: its interpreter {interpreter[0]} is gone"
    return None


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _env_references(value: Any) -> Iterator[str]:
    """The variables a Dagster config value reads with ``{env: NAME}``."""
    if isinstance(value, dict):
        if set(value) == {"env"} and isinstance(value["env"], str):
            yield value["env"]
            return
        for item in value.values():
            yield from _env_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _env_references(item)


@contextmanager
def _process_environ(environ: Mapping[str, str]) -> Iterator[None]:
    """Expose ``environ``'s variables to code that reads ``os.environ`` (Dagster's config
    resolution), then put the process environment back."""
    added = {k: v for k, v in environ.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _dagster_version() -> str:
    import dagster as dg

    return str(dg.__version__)


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else ""


def _scrubber(settings: Settings, environ: Mapping[str, str]) -> Callable[[str], str]:
    """Remove every password and key this environment holds from a message."""
    secrets: set[str] = set()
    urls = [
        settings.database_url,
        settings.meltano_database_uri,
        settings.dagster_database_url or "",
        settings.warehouse_url or "",
        environ.get(ENV_POSTGRES_URL, ""),
    ]
    for url in urls:
        try:
            password = make_url(url).password if url else None
        except Exception:  # not a URL: nothing to hide in it
            password = None
        if password:
            secrets.add(str(password))
    secrets.update(k.strip() for k in environ.get(ENV_ENCRYPTION_KEYS, "").split(",") if k.strip())
    secrets.update(vault_credentials(environ))
    # Raw, URL-encoded and JSON-escaped forms, as every sync line is redacted.
    return Redactor(secrets).redact
