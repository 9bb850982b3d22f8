"""Dagster definitions generated from the catalog and the config store."""

from integrations_platform.orchestration.assets import build_integration_assets
from integrations_platform.orchestration.definitions import build_definitions, load_definitions
from integrations_platform.orchestration.resources import MeltanoResource
from integrations_platform.orchestration.snapshot import IntegrationSnapshot
from integrations_platform.orchestration.translator import (
    IntegrationsTranslator,
    IntegrationStreamProps,
)

__all__ = [
    "IntegrationSnapshot",
    "IntegrationStreamProps",
    "IntegrationsTranslator",
    "MeltanoResource",
    "build_definitions",
    "build_integration_assets",
    "load_definitions",
]
