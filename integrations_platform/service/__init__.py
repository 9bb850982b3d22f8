"""The service layer: the one way in for the API and the CLI."""

from integrations_platform.integration import StreamSelection
from integrations_platform.service.integrations import IntegrationService, KeyRotation
from integrations_platform.service.operations import LaunchedSync
from integrations_platform.service.views import IntegrationView

__all__ = [
    "IntegrationService",
    "IntegrationView",
    "KeyRotation",
    "LaunchedSync",
    "StreamSelection",
]
