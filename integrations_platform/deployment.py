"""Preparing a deployment: databases, schemas, the Dagster instance and its run queue.

The same steps serve the embedded setup (``integrations up``: SQLite everywhere) and
production (``integrations migrate``, once per release, before the Dagster processes
start; see docs/production.md).
"""

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from integrations_platform.catalog import load_catalog
from integrations_platform.databases import (
    DAGSTER_SETUP_LOCK_ID,
    advisory_lock,
    ensure_schema,
    redacted,
)
from integrations_platform.settings import (
    ENV_DAGSTER_DATABASE_URL,
    ENV_MELTANO_DATABASE_URI,
    Settings,
)
from integrations_platform.store import ConfigStore


def export_derived(settings: Settings, environ: MutableMapping[str, str]) -> None:
    """Put the URLs the settings derive (from INTEGRATIONS_POSTGRES_URL) into ``environ``,
    for the processes that read them by name: Dagster's dagster.yaml reads
    INTEGRATIONS_DAGSTER_DATABASE_URL, Meltano reads MELTANO_DATABASE_URI."""
    if settings.dagster_database_url:
        environ.setdefault(ENV_DAGSTER_DATABASE_URL, settings.dagster_database_url)
    environ.setdefault(ENV_MELTANO_DATABASE_URI, settings.meltano_database_uri)


def prepare_dagster_home(
    settings: Settings, environ: MutableMapping[str, str]
) -> tuple[Path, dict[str, int]]:
    """DAGSTER_HOME with the dagster.yaml these settings render, its storage migrated
    and the connectors' pool limits applied; returns it and the limits (pool → runs).
    Sets DAGSTER_HOME in ``environ``."""
    from integrations_platform.orchestration.run_queue import render_dagster_yaml

    home = Path(environ.get("DAGSTER_HOME") or settings.dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    export_derived(settings, environ)
    (home / "dagster.yaml").write_text(render_dagster_yaml(settings, environ), encoding="utf-8")
    environ["DAGSTER_HOME"] = str(home)
    if settings.dagster_database_url:
        ensure_schema(settings.dagster_database_url, variable=ENV_DAGSTER_DATABASE_URL)
    return home, apply_run_queue(settings, environ, home)


def apply_run_queue(
    settings: Settings, environ: Mapping[str, str], dagster_home: Path
) -> dict[str, int]:
    """Migrate the Dagster instance at ``dagster_home`` and write the pool limits."""
    import dagster as dg

    from integrations_platform.dagster_private import instance_ref_from_dir
    from integrations_platform.orchestration.run_queue import apply_pool_limits

    # dagster.yaml names the storage URL by variable; give the instance the URL itself
    # rather than putting it into this process's environment.
    url = environ.get(ENV_DAGSTER_DATABASE_URL) or settings.dagster_database_url
    overrides = {"storage": {"postgres": {"postgres_url": url}}} if url else None
    ref = instance_ref_from_dir(str(dagster_home), overrides)
    # Dagster creates its tables and pool rows with plain inserts: processes preparing
    # one database at once (replicas starting together) take turns.
    with advisory_lock(url, DAGSTER_SETUP_LOCK_ID, variable=ENV_DAGSTER_DATABASE_URL):
        with dg.DagsterInstance.from_ref(ref) as instance:
            instance.upgrade(print_fn=lambda _msg: None)
            return apply_pool_limits(instance, load_catalog(settings.catalog_dir), environ)


@dataclass(frozen=True)
class MigrationReport:
    """What ``integrations migrate`` prepared."""

    config_store: str
    meltano: str
    dagster_home: Path
    pool_limits: dict[str, int]


def migrate_everything(settings: Settings, environ: MutableMapping[str, str]) -> MigrationReport:
    """Create schemas, apply the config store's migrations, migrate Dagster's storage and
    write the run queue's limits. Safe to run again, and from several processes."""
    ConfigStore.open(settings.database_url).close()
    ensure_schema(settings.meltano_database_uri, variable=ENV_MELTANO_DATABASE_URI)
    home, limits = prepare_dagster_home(settings, environ)
    return MigrationReport(
        config_store=redacted(settings.database_url),
        meltano=redacted(settings.meltano_database_uri),
        dagster_home=home,
        pool_limits=limits,
    )
