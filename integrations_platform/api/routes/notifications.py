"""Notifications: list, show, acknowledge, resolve; run the misconfiguration check now."""

import dataclasses
from collections.abc import Sequence
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from integrations_platform.api.auth import PrincipalDep
from integrations_platform.api.deps import StateDep
from integrations_platform.api.schemas import ERROR_RESPONSES, NotificationPublic
from integrations_platform.api.state import PlatformState
from integrations_platform.errors import PlatformError
from integrations_platform.notifications import (
    Notification,
    NotificationNotFoundError,
    NotificationService,
    NotificationSettings,
    NotificationStore,
)
from integrations_platform.notifications.checks import find_misconfigurations
from integrations_platform.store import KeyRing

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


def _public(notification: Notification) -> NotificationPublic:
    return NotificationPublic.model_validate(notification, from_attributes=True)


def open_notifications(
    state: PlatformState, names: Sequence[str]
) -> dict[str, list[NotificationPublic]]:
    """Unresolved notifications of these integrations, in one query."""
    found = notification_service(state).open_by_integration(names)
    return {name: [_public(n) for n in items] for name, items in found.items()}


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
    return [_public(n) for n in items]


@router.get("/{notification_id}", response_model=NotificationPublic)
def get_notification(
    notification_id: str, state: StateDep, _: PrincipalDep
) -> NotificationPublic | JSONResponse:
    """One notification."""
    try:
        return _public(notification_service(state).store.get(notification_id))
    except NotificationNotFoundError as exc:
        return _not_found(exc)


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
    return _public(notification)


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
    return _public(notification)


@router.post("/check", response_model=list[NotificationPublic])
def check_now(state: StateDep, _: PrincipalDep) -> list[NotificationPublic]:
    """Check every integration's setup now (connector, decryption, validation); returns
    the misconfiguration notifications now open. The sensor does this every minute."""
    service = notification_service(state)
    stored = state.service.store.list_all()
    try:
        keyring: KeyRing | None = state.service.keyring
    except PlatformError:
        keyring = None
    found = find_misconfigurations(
        state.service.catalog, stored, keyring, service.settings.settings_url
    )
    service.sync_misconfigurations(found, [s.name for s in stored])
    state.list_cache.invalidate()
    return [
        _public(n)
        for n in service.list_notifications(status="unresolved", limit=1000)
        if n.kind == "misconfiguration"
    ]
