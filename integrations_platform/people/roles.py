"""Who may do what: three roles, ordered, and the role each API route requires.

- ``viewer`` reads: integrations, their status, runs, logs, schema and notifications.
- ``editor`` also changes integrations (create, edit, delete, enable, disable, sync,
  backfill, test, discover, reset, approve) and notifications.
- ``admin`` also manages people: users, API tokens, and reads the audit trail.

The rule is by route, so a new route is covered the day it is added (the role x route
matrix test enumerates the OpenAPI schema and fails on a route it cannot place).
"""

from typing import Literal

Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "admin")

ADMIN_PREFIXES = ("/api/v1/users", "/api/v1/tokens", "/api/v1/audit")
"""Routes under these are for admins only, reads included."""
SELF_ROUTES = ("/api/v1/me", "/api/v1/auth/logout")
"""Routes any signed-in caller may use (their own session)."""
EDITOR_READS = ("/api/v1/auth/check",)
"""Reads that need an editor: the check a reverse proxy asks before letting someone into
Dagster's UI, which has no roles of its own (anyone in it can launch and cancel runs)."""
PUBLIC_ROUTES = (
    "/api/v1/auth/login",
    "/api/v1/connectors/{connector_id}/logo",
    "/api/v1/destination-connectors/{connector_id}/logo",
    "/healthz",
)
"""Routes that need no credentials."""

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def required_role(method: str, route: str) -> Role | None:
    """The lowest role that may call ``method route`` (a path template); None: anyone
    signed in (or, for :data:`PUBLIC_ROUTES`, anyone at all)."""
    if route in PUBLIC_ROUTES or route in SELF_ROUTES:
        return None
    if route.startswith(ADMIN_PREFIXES):
        return "admin"
    if route in EDITOR_READS:
        return "editor"
    return "viewer" if method.upper() in _READ_METHODS else "editor"


def role_allows(role: str, needed: Role | None) -> bool:
    """Whether ``role`` is at least ``needed``."""
    if needed is None:
        return True
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def check_role(value: str) -> Role:
    """``value`` as a role, or a ConfigurationError listing the roles."""
    from integrations_platform.errors import ConfigurationError

    if value not in ROLES:
        raise ConfigurationError(
            f"Unknown role '{value}'",
            f"Use one of: {', '.join(ROLES)}.",
            {"role": f"one of {', '.join(ROLES)}"},
        )
    return value
