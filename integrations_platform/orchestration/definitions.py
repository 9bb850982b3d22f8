"""The Dagster entry point: definitions generated from the catalog and the store.

The code server queries the store once (clear fields only: no decryption, no
subprocess) and pins what it loaded as reconstruction metadata; run workers rebuild
the same definitions from that pin instead of querying again.
"""

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
from sqlalchemy.exc import DBAPIError

from integrations_platform.catalog import Catalog, load_catalog
from integrations_platform.dagster_private import definitions_load_context
from integrations_platform.databases import sqlite_file_missing
from integrations_platform.integration import Integration, dump_integrations, load_integrations
from integrations_platform.orchestration.assets import assets_from_specs
from integrations_platform.orchestration.constants import (
    ASSET_JOB,
    CONNECTOR_TAG,
    INTEGRATION_TAG,
    RECONSTRUCTION_KEY,
)
from integrations_platform.orchestration.resources import MeltanoResource
from integrations_platform.orchestration.sensors import build_notification_sensors
from integrations_platform.orchestration.translator import (
    IntegrationsTranslator,
    load_translator,
    stream_asset_specs,
)
from integrations_platform.settings import ENV_ENCRYPTION_KEYS, ENV_HOME, Settings, get_settings
from integrations_platform.store import ConfigStore

logger = logging.getLogger(__name__)


def build_definitions(
    catalog: Catalog,
    integrations: Sequence[Integration],
    translator: IntegrationsTranslator | None = None,
    meltano: MeltanoResource | None = None,
) -> dg.Definitions:
    """Assets and a schedule for every enabled integration.

    ``translator`` makes each stream's asset spec (default: keys ``[integration,
    stream]``); the sensors get the keys it made.

    >>> defs = build_definitions(load_catalog(Path("connector_catalog")), [])  # doctest: +SKIP
    """
    translator = translator or IntegrationsTranslator()
    translator.destinations = catalog.destinations
    assets: list[dg.AssetsDefinition] = []
    asset_keys: dict[str, dict[str, dg.AssetKey]] = {}
    schedules: list[dg.ScheduleDefinition] = []
    for integration in integrations:
        if not integration.enabled or not integration.streams:
            continue
        if integration.connector not in catalog:
            logger.warning(
                "Integration '%s' uses connector '%s', which is not in the catalog; skipped",
                integration.name,
                integration.connector,
            )
            continue
        connector = catalog.get(integration.connector)
        specs = stream_asset_specs(translator, integration, connector)
        integration_assets = assets_from_specs(integration, connector, specs)
        assets.append(integration_assets)
        asset_keys[integration.name] = {stream: spec.key for stream, spec in specs.items()}
        schedules.append(sync_schedule(integration, connector.id, list(integration_assets.keys)))
    return dg.Definitions(
        assets=assets,
        schedules=schedules,
        resources={"meltano": meltano or meltano_resource()},
        executor=dg.in_process_executor,
        # Notifications: failed/succeeded runs, misconfigured and stale integrations.
        sensors=build_notification_sensors(integrations, asset_keys=asset_keys),
    )


def sync_schedule(
    integration: Integration, connector_id: str, keys: Sequence[dg.AssetKey]
) -> dg.ScheduleDefinition:
    """The integration's schedule: an incremental sync of all its streams on its cron.

    It runs Dagster's implicit asset job on the integration's assets, as the
    Materialize button does, rather than a job of its own: a job per integration costs a
    job snapshot each, which made a code-location reload with 1,000 integrations take
    three times as long (benchmarks/change_to_visible.py).
    """

    @dg.schedule(
        name=f"{integration.name}_schedule",
        cron_schedule=integration.schedule,
        job_name=ASSET_JOB,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Syncs integration '{integration.name}' on '{integration.schedule}'.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(
            asset_selection=list(keys),
            tags={INTEGRATION_TAG: integration.name, CONNECTOR_TAG: connector_id},
        )

    return _schedule


def meltano_resource(home: str = "", catalog_dir: str = "") -> MeltanoResource:
    """The sync resource: the keys through ``dagster.EnvVar`` (Dagster records the
    variable's name, never its value) where the variable is set; else the key file that
    ``integrations up`` wrote, read at run time — so that ``dagster`` commands typed in any
    shell on the machine work without exporting the key."""
    if os.environ.get(ENV_ENCRYPTION_KEYS, "").strip():
        return MeltanoResource(
            encryption_keys=dg.EnvVar(ENV_ENCRYPTION_KEYS), home=home, catalog_dir=catalog_dir
        )
    return MeltanoResource(home=home, catalog_dir=catalog_dir)


def load_integrations_for_orchestration(settings: Settings) -> list[Integration]:
    """The integrations in the store, in one query, without their sealed configs.

    An embedded (SQLite) store that does not exist is not created here: a ``dagster``
    command run with the wrong INTEGRATIONS_HOME would otherwise leave a stray empty
    database and show no assets without saying why.
    """
    missing = sqlite_file_missing(settings.database_url)
    if missing is not None:
        logger.warning(
            "No config store at %s: no integrations to load. Run `integrations up` first, "
            "or set %s to the folder `integrations up` uses.",
            missing,
            ENV_HOME,
        )
        return []
    store = ConfigStore.open(settings.database_url, migrate=False)
    try:
        try:
            stored = store.list_all()
        except DBAPIError:
            # A database nobody has used yet: create the schema, then read again.
            store.migrate()
            stored = store.list_all()
        return [s.for_orchestration() for s in stored]
    finally:
        store.close()


def load_definitions(
    settings: Settings,
    translator: IntegrationsTranslator | None = None,
    meltano: MeltanoResource | None = None,
) -> dg.Definitions:
    """Definitions for this process: from the store, or from the code server's pin.

    ``translator`` and ``meltano`` replace the ones the settings name (the component
    passes its own)."""
    if not os.environ.get("DAGSTER_HOME"):
        logger.warning(
            "DAGSTER_HOME is not set: Dagster records runs in a temporary instance that the "
            "UI, the sensors and the run queue do not see. Set DAGSTER_HOME=%s (the instance "
            "`integrations up` uses).",
            settings.dagster_home,
        )
    # Dagster exports no public handle on the load context (see dagster_private).
    loading = definitions_load_context()
    context = loading.Context.get()
    pin: str | None = None
    loaded: list[Integration] | None = None
    if context.load_type == loading.LoadType.RECONSTRUCTION:
        pinned = context.reconstruction_metadata.get(RECONSTRUCTION_KEY)
        pin = pinned if isinstance(pinned, str) else None
    if pin is None:
        # Read once: the pin is written from these, and they are built as they are (not
        # parsed back from the pin).
        loaded = load_integrations_for_orchestration(settings)
        pin = dump_integrations(loaded)
    # Pinned for the run workers, which reconstruct these definitions from it.
    context.add_to_pending_reconstruction_metadata(RECONSTRUCTION_KEY, pin)
    if translator is not None or meltano is not None:
        return build_definitions(
            load_catalog(settings.catalog_dir),
            loaded if loaded is not None else load_integrations(pin),
            translator or load_translator(settings.translator),
            meltano,
        )
    return _build_once(pin, settings.catalog_dir, settings.translator, loaded)


# A code server calls the definitions function twice when it starts: once to load, once
# to reconstruct from the pin it just made. The second call reuses the first build.
_last_build: tuple[tuple[str, str, str | None], dg.Definitions] | None = None
_build_lock = threading.Lock()


def _build_once(
    pin: str,
    catalog_dir: Path,
    translator: str | None,
    loaded: list[Integration] | None = None,
) -> dg.Definitions:
    global _last_build
    key = (pin, str(catalog_dir), translator)
    with _build_lock:
        if _last_build is not None and _last_build[0] == key:
            return _last_build[1]
        built = build_definitions(
            load_catalog(catalog_dir),
            loaded if loaded is not None else load_integrations(pin),
            load_translator(translator),
        )
        _last_build = (key, built)
        return built


@dg.definitions
def defs() -> dg.Definitions:
    """What ``workspace.yaml`` loads."""
    return load_definitions(get_settings())
