"""The API's side of the audit trail: every change made through it, recorded once.

An ASGI middleware sees each state-changing request (any method but GET/HEAD/OPTIONS
under ``/api/``), the route it reached, the caller that :mod:`.auth` left on the request,
the names of the fields its JSON body carried (never their values) and the status of the
answer, and appends one event: ``ok`` below 400, ``denied`` on 401/403, ``failed`` else.
Sign-in and sign-out are recorded by their own routes. Requests with no credentials at
all are not recorded (they change nothing and would let anyone fill the trail).
"""

import json
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations_platform.people import Caller

logger = logging.getLogger(__name__)

_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_SELF_RECORDED = frozenset({"login", "logout"})
_MAX_BODY = 256 * 1024
ACTIONS = {
    "create_integration": "create",
    "update_integration": "update",
    "delete_integration": "delete",
    "enable_integration": "enable",
    "disable_integration": "disable",
    "test_integration": "test",
    "test_unsaved_config": "test",
    "sync_integration": "sync",
    "reset_state": "reset",
    "discover_integration": "discover",
    "discover_unsaved_config": "discover",
    "approve_schema_change": "approve",
    "acknowledge_notification": "acknowledge",
    "resolve_notification": "resolve",
    "check_now": "check-notifications",
    "create_user": "user-add",
    "update_user": "user-update",
    "remove_user": "user-remove",
    "create_token": "token-create",
    "revoke_token": "token-revoke",
    "create_destination": "destination-add",
    "update_destination": "destination-update",
    "delete_destination": "destination-remove",
    "test_destination": "destination-test",
    "test_unsaved_destination": "destination-test",
}
"""Route (endpoint function) → audit action; a route not listed is recorded by its name."""


def source_of(caller: Caller) -> str:
    """Where a request came from: the page (a session) or the API (a token)."""
    return "page" if caller.auth == "session" else "api"


def field_names(body: bytes) -> list[str]:
    """The names a JSON body sets: its keys, and ``config.<key>`` inside ``config``."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(data, dict):
        return []
    names = [str(k)[:100] for k in data if k != "config"]
    config = data.get("config")
    if isinstance(config, dict):
        names += [f"config.{str(k)[:100]}" for k in config]
    return sorted(set(names))[:200]


def _action(name: str, body: dict[str, Any]) -> str:
    if name == "sync_integration" and body.get("from_date"):
        return "backfill"
    if name == "bulk_action":
        return f"bulk-{str(body.get('action', ''))[:20]}"
    return ACTIONS.get(name, name)


def _targets(
    name: str, params: dict[str, Any], body: dict[str, Any]
) -> tuple[str | None, str | None]:
    """(integration, other target) of a request."""
    if "name" in params and name not in ("update_user", "remove_user"):
        return str(params["name"]), None
    if name == "create_integration" and isinstance(body.get("name"), str):
        return body["name"][:63], None
    if name == "bulk_action" and isinstance(body.get("names"), list):
        return None, ",".join(str(n) for n in body["names"][:20])[:200]
    for key in ("name", "notification_id", "token_id", "connector_id", "destination"):
        if key in params:
            return None, str(params[key])
    if name in ("create_user", "create_destination") and isinstance(body.get("name"), str):
        return None, body["name"][:63]
    if name == "create_token" and isinstance(body.get("user"), str):
        return None, body["user"][:63]
    return None, None


class AuditTrail:
    """Records each change made through the API (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in _SAFE
            or not str(scope.get("path", "")).startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        status = [500]

        async def tapped_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) < _MAX_BODY:
                body.extend(message.get("body", b"")[: _MAX_BODY - len(body)])
            return message

        async def tapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, tapped_receive, tapped_send)
        finally:
            try:
                await run_in_threadpool(self._record, scope, bytes(body), status[0])
            except Exception:  # the trail must never turn an answered request into a 500
                logger.exception("Could not record an audit event")

    @staticmethod
    def _record(scope: Scope, body: bytes, status: int) -> None:
        caller = (scope.get("state") or {}).get("caller")
        route = scope.get("route")
        name = getattr(route, "name", "") or ""
        if not isinstance(caller, Caller) or name in _SELF_RECORDED or route is None:
            return
        try:
            parsed = json.loads(body) if body else {}
        except (ValueError, UnicodeDecodeError):
            parsed = {}
        data = parsed if isinstance(parsed, dict) else {}
        integration, target = _targets(name, dict(scope.get("path_params") or {}), data)
        result = "ok" if status < 400 else "denied" if status in (401, 403) else "failed"
        client = scope.get("client")
        scope["app"].state.platform.audit.record(
            actor=caller.name,
            role=caller.role,
            source=source_of(caller),
            action=_action(name, data),
            integration=integration,
            target=target,
            fields=field_names(body) if name not in ("create_token",) else [],
            result=result,
            detail=f"HTTP {status}",
            address=client[0] if client else None,
        )
