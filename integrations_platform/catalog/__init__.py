"""The connector catalog: what can be connected, and how it is configured."""

from integrations_platform.catalog.loader import Catalog, load_catalog, load_connector
from integrations_platform.catalog.models import (
    ConnectorSpec,
    ExtractorSpec,
    SettingSpec,
    StreamSpec,
)
from integrations_platform.catalog.validation import validate_config

__all__ = [
    "Catalog",
    "ConnectorSpec",
    "ExtractorSpec",
    "SettingSpec",
    "StreamSpec",
    "load_catalog",
    "load_connector",
    "validate_config",
]
