"""Integration stream → Dagster AssetSpec. No side effects; subclass to customise.

The translator is the one place a stream's asset key comes from. The definitions
store it with the assets they build, and everything else that needs a key — the sync
that materializes it, status, launches, notifications — derives it from the spec
through :func:`stream_asset_keys` with the same translator: the one configured by
``INTEGRATIONS_TRANSLATOR`` (``package.module:Name``, a subclass or an instance), so
that the code server, the API and the CLI agree.
"""

import importlib
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import dagster as dg

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.catalog.models import DestinationConnectorSpec
from integrations_platform.errors import PlatformError
from integrations_platform.integration import Integration, StreamSelection
from integrations_platform.keys import stream_key_part
from integrations_platform.orchestration.constants import (
    META_CONNECTOR,
    META_INTEGRATION,
    META_STREAM,
)
from integrations_platform.settings import ENV_TRANSLATOR


class IntegrationStreamProps(NamedTuple):
    """What the translator knows about one stream of one integration."""

    integration: Integration
    connector: ConnectorSpec
    stream: StreamSelection


class IntegrationsTranslator:
    """Turns each selected stream into an :class:`dagster.AssetSpec`.

    Customise by subclassing, and name the subclass in ``INTEGRATIONS_TRANSLATOR``::

        class MyTranslator(IntegrationsTranslator):
            def get_asset_spec(self, props):
                spec = super().get_asset_spec(props)
                return spec.replace_attributes(key=spec.key.with_prefix("raw"))
    """

    # The catalog's destination connectors, by id (set by build_definitions): where each
    # stream lands, for ``dagster/table_name``.
    destinations: Mapping[str, DestinationConnectorSpec] = {}

    def get_asset_spec(self, props: IntegrationStreamProps) -> dg.AssetSpec:
        """The asset of one stream: key ``[integration, stream]``."""
        integration, connector, stream = props
        name = stream.name
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
        if stream.replication_key:
            metadata["replication_key"] = stream.replication_key
        if stream.primary_key:
            metadata["primary_key"] = ", ".join(stream.primary_key)
        destination = self.destinations.get(integration.destination_connector)
        if destination is not None:
            metadata["dagster/table_name"] = destination.table_name(integration.name, name)
        # From the source's discovery; columns left out are not in it.
        metadata.update(column_schema(stream.columns, stream.hashed_columns))
        return dg.AssetSpec(
            key=dg.AssetKey([integration.name, stream_key_part(name)]),
            group_name=integration.name,
            kinds={connector.id, "meltano", integration.destination_connector or "destination"},
            description=f"{description} Synced by integration '{integration.name}'.",
            metadata=metadata,
            tags={"integrations/connector": connector.id},
        )


def column_schema(
    columns: Sequence[tuple[str, str]], hashed: Sequence[str] = ()
) -> dict[str, dg.TableSchema]:
    """``dagster/column_schema`` of a stream's synced ``(name, type)`` columns (none when
    they are not known); a hashed column is a string, the salted SHA-256 of the value."""
    if not columns:
        return {}
    digests = set(hashed)
    return {
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(name, "string", description=HASHED)
                if name in digests
                else dg.TableColumn(name, kind)
                for name, kind in columns
            ]
        )
    }


HASHED = "SHA-256 of the salted source value"


def stream_asset_specs(
    translator: IntegrationsTranslator, integration: Integration, connector: ConnectorSpec
) -> dict[str, dg.AssetSpec]:
    """The spec of each selected stream, by stream name."""
    return {
        stream.name: translator.get_asset_spec(
            IntegrationStreamProps(integration, connector, stream)
        )
        for stream in integration.streams
    }


def stream_asset_keys(
    translator: IntegrationsTranslator, integration: Integration, connector: ConnectorSpec
) -> dict[str, dg.AssetKey]:
    """The asset key of each selected stream, by stream name (from its spec)."""
    specs = stream_asset_specs(translator, integration, connector)
    return {name: spec.key for name, spec in specs.items()}


def load_translator(reference: str | None) -> IntegrationsTranslator:
    """The translator named ``package.module:Name`` (a subclass or an instance), or the
    default one when ``reference`` is empty."""
    if not reference:
        return IntegrationsTranslator()
    module_name, _, attribute = reference.partition(":")
    try:
        found: Any = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise PlatformError(
            f"{ENV_TRANSLATOR}={reference!r} cannot be loaded ({exc})",
            "Write it as package.module:Name, with the module importable by every process "
            "(API, CLI and Dagster), or unset it for the default asset keys.",
        ) from None
    translator = found() if isinstance(found, type) else found
    if not isinstance(translator, IntegrationsTranslator):
        raise PlatformError(
            f"{ENV_TRANSLATOR}={reference!r} is not an IntegrationsTranslator",
            "Subclass integrations_platform.orchestration.translator.IntegrationsTranslator.",
        )
    return translator


class RemappedTranslator(IntegrationsTranslator):
    """Another translator's specs, under a key prefix and in one group (what the
    component's ``key_prefix`` and ``group_name`` do).

    >>> translator = RemappedTranslator(IntegrationsTranslator(), ["raw"], "sources")
    >>> translator.key_prefix, translator.group_name
    (('raw',), 'sources')
    """

    def __init__(
        self,
        base: IntegrationsTranslator,
        key_prefix: Sequence[str] = (),
        group_name: str | None = None,
    ) -> None:
        self.base = base
        self.key_prefix = tuple(key_prefix)
        self.group_name = group_name

    def get_asset_spec(self, props: IntegrationStreamProps) -> dg.AssetSpec:
        """The base translator's spec, its key prefixed and its group replaced."""
        spec = self.base.get_asset_spec(props)
        if self.key_prefix:
            spec = spec.replace_attributes(key=spec.key.with_prefix(list(self.key_prefix)))
        if self.group_name:
            spec = spec.replace_attributes(group_name=self.group_name)
        return spec
