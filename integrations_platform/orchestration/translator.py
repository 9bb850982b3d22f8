"""Integration stream → Dagster AssetSpec. No side effects; subclass to customise."""

from typing import Any, NamedTuple

import dagster as dg

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.keys import stream_key_part
from integrations_platform.orchestration.constants import (
    META_CONNECTOR,
    META_INTEGRATION,
    META_STREAM,
)
from integrations_platform.orchestration.snapshot import IntegrationSnapshot


class IntegrationStreamProps(NamedTuple):
    """What the translator knows about one stream of one integration."""

    integration: IntegrationSnapshot
    connector: ConnectorSpec
    stream: dict[str, Any]


class IntegrationsTranslator:
    """Turns each selected stream into an :class:`dagster.AssetSpec`.

    Customise by subclassing::

        class MyTranslator(IntegrationsTranslator):
            def get_asset_spec(self, props):
                return super().get_asset_spec(props).replace_attributes(
                    key_prefix=["raw"]
                )
    """

    def get_asset_spec(self, props: IntegrationStreamProps) -> dg.AssetSpec:
        """The asset of one stream: key ``[integration, stream]``."""
        integration, connector, stream = props
        name = stream["name"]
        catalog_stream = connector.stream(name)
        description = (
            catalog_stream.description
            if catalog_stream and catalog_stream.description
            else f"The {name} stream of {connector.label}."
        )
        metadata: dict[str, Any] = {
            META_INTEGRATION: integration.name,
            META_STREAM: name,
            META_CONNECTOR: connector.id,
            "destination": integration.destination,
        }
        if stream.get("replication_key"):
            metadata["replication_key"] = stream["replication_key"]
        if stream.get("primary_key"):
            metadata["primary_key"] = ", ".join(stream["primary_key"])
        return dg.AssetSpec(
            key=dg.AssetKey([integration.name, stream_key_part(name)]),
            group_name=integration.name,
            kinds={connector.id, "meltano", integration.destination},
            description=f"{description} Synced by integration '{integration.name}'.",
            metadata=metadata,
            tags={"integrations/connector": connector.id},
        )
