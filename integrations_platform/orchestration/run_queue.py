"""The run queue: Dagster's queued run coordinator, configured from catalog and settings.

Three limits, all enforced by Dagster's own coordinator (never a queue of ours):

- at most ``INTEGRATIONS_MAX_CONCURRENT_RUNS`` runs at once (default 4);
- at most one run per integration (a tag limit on the ``integration`` run tag, which
  :mod:`.coordinator` sets on every run, whoever launched it);
- at most ``max_concurrent_syncs`` runs per connector, from the connector's catalog file
  or ``INTEGRATIONS_MAX_CONCURRENT_SYNCS_<CONNECTOR>`` (a Dagster *pool* per connector,
  checked per run, so it holds however the run was launched: schedule, API, launchpad,
  the asset graph or a backfill).

The instance configuration (``dagster.yaml``) is rendered from the settings by
:func:`render_dagster_yaml`; pool limits live in Dagster's storage and are written by
:func:`apply_pool_limits` (``integrations up`` and ``integrations migrate`` do both).
"""

import re
from collections.abc import Mapping
from typing import Any

import dagster as dg
import yaml

from integrations_platform.catalog import Catalog
from integrations_platform.errors import PlatformError
from integrations_platform.orchestration.constants import INTEGRATION_TAG
from integrations_platform.settings import ENV_DAGSTER_DATABASE_URL, Settings, positive_int

POOL_PREFIX = "connector/"
ENV_LIMIT_PREFIX = "INTEGRATIONS_MAX_CONCURRENT_SYNCS_"
ENV_RUN_LAUNCHER = "INTEGRATIONS_RUN_LAUNCHER"
ENV_RUN_IMAGE = "INTEGRATIONS_RUN_IMAGE"
ENV_DOCKER_NETWORK = "INTEGRATIONS_DOCKER_NETWORK"
# What a sync's container needs (Docker launcher); the keys only go where syncs run.
RUN_WORKER_ENV = (
    "INTEGRATIONS_POSTGRES_URL",
    "INTEGRATIONS_DATABASE_URL",
    "INTEGRATIONS_DAGSTER_DATABASE_URL",
    "MELTANO_DATABASE_URI",
    "INTEGRATIONS_ENCRYPTION_KEYS",
    "INTEGRATIONS_WAREHOUSE_URL",
    "INTEGRATIONS_DAGSTER_URL",
)
LAUNCHERS = ("default", "docker")


def connector_pool(connector_id: str) -> str:
    """The Dagster pool a connector's syncs run in.

    >>> connector_pool("salesforce")
    'connector/salesforce'
    """
    return f"{POOL_PREFIX}{connector_id}"


def limit_variable(connector_id: str) -> str:
    """The variable that overrides a connector's limit.

    >>> limit_variable("salesforce")
    'INTEGRATIONS_MAX_CONCURRENT_SYNCS_SALESFORCE'
    """
    return ENV_LIMIT_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", connector_id).upper()


def connector_limits(catalog: Catalog, environ: Mapping[str, str]) -> dict[str, int]:
    """Connector id → most concurrent syncs, for connectors that have a limit."""
    limits: dict[str, int] = {}
    for connector in catalog:
        override = positive_int(
            environ,
            limit_variable(connector.id),
            f"unset it to use the catalog's max_concurrent_syncs for '{connector.id}'",
        )
        limit = override or connector.max_concurrent_syncs
        if limit is not None:
            limits[connector.id] = limit
    return limits


def instance_config(settings: Settings, environ: Mapping[str, str]) -> dict[str, Any]:
    """The Dagster instance configuration (the content of ``dagster.yaml``)."""
    config: dict[str, Any] = {"telemetry": {"enabled": False}}
    if settings.dagster_database_url:
        # By reference: the URL may hold a password, and dagster.yaml is a file.
        config["storage"] = {
            "postgres": {"postgres_url": {"env": ENV_DAGSTER_DATABASE_URL}},
        }
    # Dagster's queued coordinator, tagging every run with its integration first.
    config["run_coordinator"] = {
        "module": "integrations_platform.orchestration.coordinator",
        "class": "IntegrationsRunCoordinator",
    }
    config["concurrency"] = {
        "pools": {"granularity": "run"},
        "runs": {
            "max_concurrent_runs": settings.max_concurrent_runs,
            "tag_concurrency_limits": [
                {
                    "key": INTEGRATION_TAG,
                    "value": {"applyLimitPerUniqueValue": True},
                    "limit": 1,
                }
            ],
        },
    }
    config["run_monitoring"] = {"enabled": True, "poll_interval_seconds": 30}
    launcher = environ.get(ENV_RUN_LAUNCHER, "default").strip() or "default"
    if launcher not in LAUNCHERS:
        raise PlatformError(
            f"{ENV_RUN_LAUNCHER} is '{launcher}'; it must be one of {', '.join(LAUNCHERS)}",
            f"Set {ENV_RUN_LAUNCHER}=docker to run each sync in its own container, or unset it.",
        )
    if launcher == "docker":
        docker: dict[str, Any] = {
            "image": {"env": ENV_RUN_IMAGE},
            "env_vars": list(RUN_WORKER_ENV),
            "container_kwargs": {"auto_remove": True},
        }
        if environ.get(ENV_DOCKER_NETWORK):
            docker["network"] = {"env": ENV_DOCKER_NETWORK}
        config["run_launcher"] = {
            "module": "dagster_docker",
            "class": "DockerRunLauncher",
            "config": docker,
        }
    return config


HEADER = """\
# Dagster instance configuration, rendered from the platform's settings by
# `integrations dagster-yaml` (this file: the embedded defaults, SQLite under
# DAGSTER_HOME). `integrations up` writes the rendering for the current environment
# into DAGSTER_HOME; docs/production.md lists the variables that change it.
#
# Runs are queued: at most `max_concurrent_runs` at once, one per integration (two
# syncs never race on one incremental state), and per connector at most its
# `max_concurrent_syncs` (a pool per connector, limits written by `integrations up`
# or `integrations migrate`).
"""


def render_dagster_yaml(settings: Settings, environ: Mapping[str, str]) -> str:
    """``dagster.yaml`` for these settings."""
    body = yaml.safe_dump(instance_config(settings, environ), sort_keys=False)
    return HEADER + body


def apply_pool_limits(
    instance: dg.DagsterInstance, catalog: Catalog, environ: Mapping[str, str]
) -> dict[str, int]:
    """Write each connector's pool limit into the instance; drop limits no longer set.

    Returns pool → limit as applied.
    """
    limits = {connector_pool(c): n for c, n in connector_limits(catalog, environ).items()}
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        raise PlatformError(
            "This Dagster instance's storage cannot hold pool limits",
            "Run `dagster instance migrate` on it, or use the PostgreSQL storage.",
        )
    current = {p.name: p.limit for p in storage.get_pool_limits()}
    for pool, limit in limits.items():
        if current.get(pool) != limit:
            storage.set_concurrency_slots(pool, limit)
    for pool in current:
        if pool.startswith(POOL_PREFIX) and pool not in limits:
            storage.delete_concurrency_limit(pool)
    return limits
