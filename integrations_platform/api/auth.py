"""Bearer-token authentication.

Every route depends on :func:`require_principal`; a future admin-only role is a second
dependency checking ``principal.role``, without touching the routes' signatures.
"""

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="INTEGRATIONS_API_TOKEN")


@dataclass(frozen=True)
class Principal:
    """Who is calling. One role for now: every token holder is an admin."""

    name: str
    role: str = "admin"


def require_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, if its bearer token matches; 401 otherwise."""
    expected: str | None = request.app.state.platform.api_token
    if expected is None:  # explicit development mode
        return Principal("development")
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Missing or wrong bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Principal("token")


PrincipalDep = Annotated[Principal, Depends(require_principal)]
