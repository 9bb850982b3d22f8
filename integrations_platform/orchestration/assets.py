"""One multi_asset per integration: one asset per selected stream, one sync per run."""

import os
from collections.abc import Iterator, Mapping
from datetime import UTC

import dagster as dg
from pydantic import Field

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.catalog.validation import parse_datetime
from integrations_platform.errors import ConfigurationError
from integrations_platform.integration import Integration
from integrations_platform.orchestration.checks import stream_check_specs
from integrations_platform.orchestration.constants import CONNECTOR_TAG, INTEGRATION_TAG
from integrations_platform.orchestration.resources import MeltanoResource
from integrations_platform.orchestration.run_queue import connector_pool
from integrations_platform.orchestration.translator import (
    IntegrationsTranslator,
    stream_asset_specs,
)
from integrations_platform.settings import ENV_ASSET_CHECKS


class SyncConfig(dg.Config):
    """Options for one run, set in the launchpad (or by the API and CLI)."""

    full_refresh: bool = Field(
        default=False,
        description=(
            "Ignore the incremental bookmark and re-sync every selected stream from the "
            "integration's start date; the new bookmark is stored when the run succeeds."
        ),
    )


def build_partitions(
    integration: Integration, connector: ConnectorSpec
) -> dg.TimeWindowPartitionsDefinition:
    """Time partitions from the integration's start date (daily or monthly, per catalog).

    Scheduled runs are not partitioned: they sync incrementally from the bookmark.
    Partitions are for backfills ("load March again"), which load exactly their windows.
    """
    start = parse_datetime(integration.start_date)
    day = start.astimezone(UTC).date()
    if connector.partitioning == "monthly":
        return dg.MonthlyPartitionsDefinition(
            start_date=day.replace(day=1).isoformat(), timezone="UTC"
        )
    return dg.DailyPartitionsDefinition(start_date=day.isoformat(), timezone="UTC")


def partition_key_range(
    integration: Integration, connector: ConnectorSpec, first: str, last: str
) -> tuple[str, str]:
    """The partition keys that cover the dates ``first`` to ``last`` (both included)."""
    partitions = build_partitions(integration, connector)
    try:
        start, end = parse_datetime(first), parse_datetime(last)
    except ValueError:
        raise ConfigurationError(
            "The backfill range needs ISO 8601 dates",
            "Write them like 2024-03-01.",
            field_errors={"from": "expected a date such as 2024-03-01"},
        ) from None
    if end < start:
        raise ConfigurationError(
            "The range ends before it starts",
            "Give --from before --to.",
            field_errors={"to": "before 'from'"},
        )
    monthly = connector.partitioning == "monthly"
    first, last = (
        (d.replace(day=1) if monthly else d).isoformat()
        for d in (start.astimezone(UTC).date(), end.astimezone(UTC).date())
    )
    keys = (first, last)
    valid = partitions.get_partition_keys()
    for field, key in zip(("from", "to"), keys, strict=True):
        if key not in valid:
            raise ConfigurationError(
                f"No partition {key}: '{integration.name}' has {connector.partitioning} "
                f"partitions from {valid[0] if valid else integration.start_date} to "
                f"{valid[-1] if valid else 'now'}",
                "Choose dates inside that range (the current period is not complete yet).",
                field_errors={field: "outside the integration's partitions"},
            )
    return keys


def build_integration_assets(
    integration: Integration,
    connector: ConnectorSpec,
    translator: IntegrationsTranslator | None = None,
) -> dg.AssetsDefinition:
    """The assets of one integration; materializing a subset syncs only that subset.

    >>> assets = build_integration_assets(integration, catalog.get("salesforce"))
    ... # doctest: +SKIP
    >>> [k.to_user_string() for k in assets.keys]  # doctest: +SKIP
    ['demo_salesforce/Account', 'demo_salesforce/Contact', 'demo_salesforce/Opportunity']
    """
    specs = stream_asset_specs(translator or IntegrationsTranslator(), integration, connector)
    return assets_from_specs(integration, connector, specs)


def asset_checks_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the streams get their asset checks (``INTEGRATIONS_ASSET_CHECKS``, default
    on; off spares a code server with tens of thousands of streams their specs)."""
    value = (os.environ if environ is None else environ).get(ENV_ASSET_CHECKS, "on")
    return value.strip().lower() not in ("off", "0", "false", "no")


def assets_from_specs(
    integration: Integration,
    connector: ConnectorSpec,
    specs: Mapping[str, dg.AssetSpec],
    checks: bool | None = None,
) -> dg.AssetsDefinition:
    """The assets of one integration from its streams' specs (by stream name), with each
    stream's schema, freshness and volume checks unless ``checks`` is False (default:
    :func:`asset_checks_enabled`)."""
    checks = asset_checks_enabled() if checks is None else checks
    # Every key the sync reports comes from these specs, the translator's.
    keys = {name: spec.key for name, spec in specs.items()}

    @dg.multi_asset(
        name=f"{integration.name}_sync",
        specs=list(specs.values()),
        # Schema, freshness and volume of every stream (orchestration/checks.py).
        check_specs=(
            [c for spec in specs.values() for c in stream_check_specs(spec.key)] if checks else []
        ),
        can_subset=True,
        partitions_def=build_partitions(integration, connector),
        # A launchpad backfill of many partitions is one run over the whole range.
        backfill_policy=dg.BackfillPolicy.single_run(),
        op_tags={INTEGRATION_TAG: integration.name, CONNECTOR_TAG: connector.id},
        # The connector's run limit (run_queue.py): one pool per connector.
        pool=connector_pool(connector.id),
        description=f"Sync of integration '{integration.name}' ({connector.label}).",
    )
    def _sync(
        context: dg.AssetExecutionContext, config: SyncConfig, meltano: MeltanoResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult | dg.DagsterEvent]:
        selected = [s for s in integration.streams if keys[s.name] in context.selected_asset_keys]
        yield from meltano.sync(
            context, integration, selected, keys, full_refresh=config.full_refresh
        )

    return _sync
