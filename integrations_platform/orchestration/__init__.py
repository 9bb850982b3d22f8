"""Dagster definitions generated from the catalog and the config store."""

from integrations_platform.orchestration.assets import build_integration_assets
from integrations_platform.orchestration.definitions import build_definitions, load_definitions
from integrations_platform.orchestration.resources import MeltanoResource
from integrations_platform.orchestration.translator import (
    IntegrationsTranslator,
    IntegrationStreamProps,
    load_translator,
    stream_asset_keys,
)

__all__ = [
    "IntegrationStreamProps",
    "IntegrationsTranslator",
    "MeltanoResource",
    "build_definitions",
    "build_integration_assets",
    "load_definitions",
    "load_translator",
    "stream_asset_keys",
]
