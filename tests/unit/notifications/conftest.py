"""A notification service over the ``platform`` fixture's (real SQLite) database."""

import pytest

from integrations_platform.notifications import (
    NotificationService,
    NotificationSettings,
    NotificationStore,
)

DAGSTER_UI = "http://dagster.example.test:3000"
API_URL = "http://api.example.test:8000"


def make_service(platform, **overrides) -> NotificationService:
    settings = NotificationSettings(dagster_url=DAGSTER_UI, api_url=API_URL, **overrides)
    return NotificationService(NotificationStore(platform.service.store.engine), settings)


@pytest.fixture
def notes(platform) -> NotificationService:
    return make_service(platform)
