"""Notifications: classified sync failures, misconfigurations, stale syncs, auto-pause;
stored in the config database and sent to webhooks."""

from integrations_platform.notifications.classifier import Classification, classify_failure
from integrations_platform.notifications.models import Notification
from integrations_platform.notifications.service import NotificationService
from integrations_platform.notifications.settings import NotificationSettings
from integrations_platform.notifications.store import (
    NotificationNotFoundError,
    NotificationStore,
)

__all__ = [
    "Classification",
    "Notification",
    "NotificationNotFoundError",
    "NotificationService",
    "NotificationSettings",
    "NotificationStore",
    "classify_failure",
]
