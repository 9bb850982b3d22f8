"""One multi_asset per integration: one asset per selected stream, one sync per run."""

from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.orchestration.constants import CONNECTOR_TAG, INTEGRATION_TAG
from integrations_platform.orchestration.resources import MeltanoResource
from integrations_platform.orchestration.snapshot import IntegrationSnapshot
from integrations_platform.orchestration.translator import (
    IntegrationsTranslator,
    IntegrationStreamProps,
)


class SyncConfig(dg.Config):
    """Options for one run, set in the launchpad (or by the API and CLI)."""

    full_refresh: bool = Field(
        default=False,
        description=(
            "Ignore the incremental bookmark and re-sync every selected stream from the "
            "integration's start date; the new bookmark is stored when the run succeeds."
        ),
    )


def build_integration_assets(
    integration: IntegrationSnapshot,
    connector: ConnectorSpec,
    translator: IntegrationsTranslator | None = None,
) -> dg.AssetsDefinition:
    """The assets of one integration; materializing a subset syncs only that subset.

    >>> assets = build_integration_assets(snapshot, catalog.get("salesforce"))
    ... # doctest: +SKIP
    >>> [k.to_user_string() for k in assets.keys]  # doctest: +SKIP
    ['demo_salesforce/Account', 'demo_salesforce/Contact', 'demo_salesforce/Opportunity']
    """
    translator = translator or IntegrationsTranslator()
    specs = [
        translator.get_asset_spec(IntegrationStreamProps(integration, connector, stream))
        for stream in integration.streams
    ]
    stream_by_key = {
        spec.key: stream for spec, stream in zip(specs, integration.streams, strict=True)
    }

    @dg.multi_asset(
        name=f"{integration.name}_sync",
        specs=specs,
        can_subset=True,
        op_tags={INTEGRATION_TAG: integration.name, CONNECTOR_TAG: connector.id},
        description=f"Sync of integration '{integration.name}' ({connector.label}).",
    )
    def _sync(
        context: dg.AssetExecutionContext, config: SyncConfig, meltano: MeltanoResource
    ) -> Iterator[dg.MaterializeResult]:
        selected = [
            stream for key, stream in stream_by_key.items() if key in context.selected_asset_keys
        ]
        yield from meltano.sync(context, integration, selected, full_refresh=config.full_refresh)

    return _sync
