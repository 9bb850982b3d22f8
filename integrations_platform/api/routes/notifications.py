"""Notifications: list, show, acknowledge, resolve; run the misconfiguration check now."""

import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from integrations_platform.api.auth import PrincipalDep
from integrations_platform.api.deps import StateDep
from integrations_platform.api.schemas import ERROR_RESPONSES, NotificationPublic
from integrations_platform.api.state import PlatformState
from integrations_platform.catalog import ConnectorSpec
from integrations_platform.errors import IntegrationNotFoundError
from integrations_platform.integration import Integration
from integrations_platform.notifications import (
    Notification,
    NotificationNotFoundError,
    NotificationService,
    NotificationSettings,
    NotificationStore,
)

router = APIRouter(
    prefix="/api/v1/notifications",
    tags=["notifications"],
    responses=ERROR_RESPONSES,
)


def notification_service(state: PlatformState) -> NotificationService:
    """The notifications over the API's config database (cheap: no connection opened)."""
    settings = dataclasses.replace(
        NotificationSettings.from_env(state.environ), dagster_url=state.settings.dagster_url
    )
    return NotificationService(NotificationStore(state.service.store.engine), settings)


# OAuth error codes (RFC 6749 §5.2) name the credential that was refused; in a
# refresh-token login "invalid_grant" means the refresh token.
_OAUTH_FIELDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"invalid_client_id"), "client_id"),
    (re.compile(r"invalid_client(?![A-Za-z0-9_])"), "client_secret"),
    (re.compile(r"invalid_grant"), "refresh_token"),
)
# Notifications that mean "re-enter a credential" even when no setting is named.
_CREDENTIAL_CATEGORIES = ("authentication", "undecryptable")


def settings_field(notification: Notification, connector: ConnectorSpec | None) -> str | None:
    """The setting a notification points at, so that the page opens its form there.

    A refused OAuth credential (``invalid_grant`` → ``refresh_token``), else the setting
    whose name or label the title or message mentions first, else, for a credential
    problem that names none, the connector's first secret.
    """
    if connector is None or notification.kind not in ("run_failure", "misconfiguration"):
        return None
    names = {s.name for s in connector.settings}
    text = f"{notification.title}\n{notification.message}"
    for pattern, name in _OAUTH_FIELDS:
        if name in names and pattern.search(text):
            return name
    mentioned: list[tuple[int, int, str]] = []
    for order, setting in enumerate(connector.ordered_settings):
        for word in (setting.name, setting.label):
            found = re.search(
                rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", text, re.IGNORECASE
            )
            if found:
                mentioned.append((found.start(), order, setting.name))
    if mentioned:
        return min(mentioned)[2]
    if notification.category in _CREDENTIAL_CATEGORIES:
        secrets = [s.name for s in connector.ordered_settings if s.secret]
        return secrets[0] if secrets else None
    return None


def _connectors(
    state: PlatformState, names: Iterable[str], stored: Sequence[Integration] | None = None
) -> dict[str, ConnectorSpec]:
    """The connector of each named integration (one query; none for unknown names)."""
    wanted = set(names)
    if not wanted:
        return {}
    catalog = state.service.catalog
    rows = state.service.store.list_all() if stored is None else stored
    return {
        s.name: catalog.get(s.connector)
        for s in rows
        if s.name in wanted and s.connector in catalog
    }


def _connector_of(state: PlatformState, name: str) -> ConnectorSpec | None:
    try:
        stored = state.service.get(name)
    except IntegrationNotFoundError:
        return None
    catalog = state.service.catalog
    return catalog.get(stored.connector) if stored.connector in catalog else None


def _public(notification: Notification, connector: ConnectorSpec | None) -> NotificationPublic:
    public = NotificationPublic.model_validate(notification, from_attributes=True)
    public.settings_field = settings_field(notification, connector)
    return public


def open_notifications(
    state: PlatformState,
    names: Sequence[str],
    stored: Sequence[Integration] | None = None,
) -> dict[str, list[NotificationPublic]]:
    """Unresolved notifications of these integrations, in one query (``stored``: the
    integrations already read, to spare a second query for their connectors)."""
    found = notification_service(state).open_by_integration(names)
    connectors = _connectors(state, [n for n, items in found.items() if items], stored)
    return {
        name: [_public(n, connectors.get(name)) for n in items] for name, items in found.items()
    }


def _not_found(exc: NotificationNotFoundError) -> JSONResponse:
    return JSONResponse(
        {
            "error": type(exc).__name__,
            "detail": exc.reason,
            "instruction": exc.instruction,
            "field_errors": {},
        },
        status_code=404,
    )


@router.get("", response_model=list[NotificationPublic])
def list_notifications(
    state: StateDep,
    _: PrincipalDep,
    status: Literal["open", "acknowledged", "resolved", "unresolved"] | None = Query(
        default=None, description="unresolved = open or acknowledged; default: all."
    ),
    integration: str | None = Query(default=None, max_length=63),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[NotificationPublic]:
    """Notifications, newest first (filter by status and integration)."""
    items = notification_service(state).list_notifications(
        status=status, integration=integration, limit=limit
    )
    connectors = _connectors(state, {n.integration for n in items})
    return [_public(n, connectors.get(n.integration)) for n in items]


@router.get("/{notification_id}", response_model=NotificationPublic)
def get_notification(
    notification_id: str, state: StateDep, _: PrincipalDep
) -> NotificationPublic | JSONResponse:
    """One notification."""
    try:
        notification = notification_service(state).store.get(notification_id)
    except NotificationNotFoundError as exc:
        return _not_found(exc)
    return _public(notification, _connector_of(state, notification.integration))


@router.post("/{notification_id}/acknowledge", response_model=NotificationPublic)
def acknowledge_notification(
    notification_id: str, state: StateDep, principal: PrincipalDep
) -> NotificationPublic | JSONResponse:
    """Mark it as seen; it stays unresolved (repeats still count) until resolved."""
    try:
        notification = notification_service(state).acknowledge(
            notification_id, f"api:{principal.name}"
        )
    except NotificationNotFoundError as exc:
        return _not_found(exc)
    state.list_cache.invalidate()
    return _public(notification, _connector_of(state, notification.integration))


@router.post("/{notification_id}/resolve", response_model=NotificationPublic)
def resolve_notification(
    notification_id: str, state: StateDep, principal: PrincipalDep
) -> NotificationPublic | JSONResponse:
    """Resolve it by hand (a later failure opens a new one)."""
    try:
        notification = notification_service(state).resolve(notification_id, f"api:{principal.name}")
    except NotificationNotFoundError as exc:
        return _not_found(exc)
    state.list_cache.invalidate()
    return _public(notification, _connector_of(state, notification.integration))


@router.post("/check", response_model=list[NotificationPublic])
def check_now(state: StateDep, _: PrincipalDep) -> list[NotificationPublic]:
    """Check every integration's setup now (connector, decryption, validation); returns
    the misconfiguration notifications now open. The sensor does this every minute."""
    service = notification_service(state)
    stored = state.service.store.list_all()
    service.check_misconfigurations(state.service.catalog, stored, state.service.keyring_or_none())
    state.list_cache.invalidate()
    connectors = _connectors(state, [s.name for s in stored], stored)
    return [
        _public(n, connectors.get(n.integration))
        for n in service.list_notifications(status="unresolved", limit=1000)
        if n.kind == "misconfiguration"
    ]
