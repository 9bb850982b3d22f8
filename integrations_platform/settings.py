"""Deployment settings, read from the environment once per process.

Functions that need a setting take a :class:`Settings` argument; only entry points
(CLI, API app factory, Dagster definitions) call :func:`get_settings`.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy.engine import make_url

from integrations_platform.errors import PlatformError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENV_HOME = "INTEGRATIONS_HOME"
ENV_DATABASE_URL = "INTEGRATIONS_DATABASE_URL"
ENV_ENCRYPTION_KEYS = "INTEGRATIONS_ENCRYPTION_KEYS"
ENV_CATALOG_DIR = "INTEGRATIONS_CATALOG_DIR"
ENV_MELTANO_PROJECT = "INTEGRATIONS_MELTANO_PROJECT"
ENV_MELTANO_DATABASE_URI = "MELTANO_DATABASE_URI"
ENV_DAGSTER_URL = "INTEGRATIONS_DAGSTER_URL"
ENV_WAREHOUSE_URL = "INTEGRATIONS_WAREHOUSE_URL"
ENV_API_TOKEN = "INTEGRATIONS_API_TOKEN"
ENV_API_DEV = "INTEGRATIONS_API_DEV"
# Production: one PostgreSQL database for the three stores, each in its own schema.
ENV_POSTGRES_URL = "INTEGRATIONS_POSTGRES_URL"
ENV_DAGSTER_DATABASE_URL = "INTEGRATIONS_DAGSTER_DATABASE_URL"
ENV_MAX_CONCURRENT_RUNS = "INTEGRATIONS_MAX_CONCURRENT_RUNS"
# `package.module:Name` of an IntegrationsTranslator subclass (or instance): see translator.py.
ENV_TRANSLATOR = "INTEGRATIONS_TRANSLATOR"
# "off": syncs do not look for schema changes before they start (see schema_check.py).
ENV_SCHEMA_CHECKS = "INTEGRATIONS_SCHEMA_CHECKS"
# "off": streams get no asset checks (schema, freshness, volume; orchestration/checks.py).
ENV_ASSET_CHECKS = "INTEGRATIONS_ASSET_CHECKS"
# Schemas the stores use inside INTEGRATIONS_POSTGRES_URL's database.
CONFIG_SCHEMA = "integrations"
MELTANO_SCHEMA = "meltano"
DAGSTER_SCHEMA = "dagster"
DEFAULT_MAX_CONCURRENT_RUNS = 4


def with_search_path(url: str, schema: str) -> str:
    """``url`` with the PostgreSQL search path set to ``schema`` (as a libpq option).

    >>> with_search_path("postgresql://u@h/db", "meltano")
    'postgresql://u@h/db?options=-csearch_path%3Dmeltano'
    """
    parsed = make_url(url)
    query = {**parsed.query, "options": f"-csearch_path={schema}"}
    return parsed.set(query=query).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Settings:
    """Where things live. Every field has an embedded default for one machine."""

    home: Path
    database_url: str
    catalog_dir: Path
    meltano_project_dir: Path
    meltano_database_uri: str
    dagster_url: str
    warehouse_url: str | None
    # Dagster's storage on PostgreSQL; None keeps SQLite under DAGSTER_HOME.
    dagster_database_url: str | None = None
    max_concurrent_runs: int = DEFAULT_MAX_CONCURRENT_RUNS
    translator: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        # Beside the project, not the working directory: `integrations` and `dagster`
        # commands typed in any folder find the same store.
        home = Path(env.get(ENV_HOME) or PROJECT_ROOT / ".integrations").resolve()
        postgres = env.get(ENV_POSTGRES_URL) or None
        return cls(
            home=home,
            database_url=env.get(ENV_DATABASE_URL)
            or (with_search_path(postgres, CONFIG_SCHEMA) if postgres else None)
            or f"sqlite:///{home / 'integrations.db'}",
            catalog_dir=Path(env.get(ENV_CATALOG_DIR) or PROJECT_ROOT / "connector_catalog"),
            meltano_project_dir=Path(env.get(ENV_MELTANO_PROJECT) or PROJECT_ROOT / "meltano"),
            meltano_database_uri=env.get(ENV_MELTANO_DATABASE_URI)
            or (with_search_path(postgres, MELTANO_SCHEMA) if postgres else None)
            or f"sqlite:///{home / 'meltano-state.db'}",
            dagster_url=(env.get(ENV_DAGSTER_URL) or "http://127.0.0.1:3000").rstrip("/"),
            warehouse_url=env.get(ENV_WAREHOUSE_URL) or None,
            dagster_database_url=env.get(ENV_DAGSTER_DATABASE_URL)
            or (with_search_path(postgres, DAGSTER_SCHEMA) if postgres else None),
            max_concurrent_runs=positive_int(env, ENV_MAX_CONCURRENT_RUNS)
            or DEFAULT_MAX_CONCURRENT_RUNS,
            translator=env.get(ENV_TRANSLATOR) or None,
        )

    @property
    def key_file(self) -> Path:
        """The embedded setup's key, used only when the variable is unset."""
        return self.home / "encryption.key"

    @property
    def dagster_home(self) -> Path:
        """DAGSTER_HOME of the embedded setup."""
        return self.home / "dagster"

    @property
    def output_dir(self) -> Path:
        """Where the embedded JSONL destination writes, one folder per integration."""
        return self.home / "output"


def positive_int(
    env: Mapping[str, str], name: str, unset: str = "unset it for the default"
) -> int | None:
    """An optional positive integer variable; a bad value is an error that names it
    (``unset`` says what leaving it out means)."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise PlatformError(
            f"{name} must be a whole number of at least 1, not '{raw}'",
            f"Set {name} to e.g. 4, or {unset}.",
        )
    return int(raw)


@cache
def get_settings() -> Settings:
    """The process's settings (read once)."""
    return Settings.from_env()
