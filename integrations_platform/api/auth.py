"""Who is calling, and may they: sessions, tokens, CSRF and roles.

Every route depends on :func:`require_principal`, which finds the caller (in this order):

- ``Authorization: Bearer`` with the deployment's ``INTEGRATIONS_API_TOKEN``: the service
  token, admin;
- ``Authorization: Bearer ipt_…``: a user's API token, with the user's role;
- the ``integrations_session`` cookie of a page sign-in, with the user's role; a change
  (any method but GET/HEAD/OPTIONS) must also carry the session's ``X-CSRF-Token``;
- nothing, in explicit development mode only: a development admin.

It then checks the caller's role against :func:`integrations_platform.people.required_role`
for the route, and leaves the caller on ``request.state`` for the audit trail.
"""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from integrations_platform.errors import CsrfError, Forbidden
from integrations_platform.people import Caller, required_role, role_allows

SESSION_COOKIE = "integrations_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(
    auto_error=False,
    description="INTEGRATIONS_API_TOKEN (the service token) or a user's API token (ipt_…)",
)
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The page's sign-in session; changes also need the X-CSRF-Token header",
)

Principal = Caller
"""The caller of a request (kept under its earlier name for the routes)."""


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def authenticate(request: Request, bearer: str | None, cookie: str | None) -> Caller | None:
    """The caller these credentials stand for, or None (no or unknown credentials)."""
    platform = request.app.state.platform
    development = platform.api_token is None  # explicit development mode
    caller: Caller | None = None
    if bearer:
        expected: str | None = platform.api_token
        if expected is not None and hmac.compare_digest(bearer.encode(), expected.encode()):
            return Caller("service", "admin", "service")
        caller = platform.accounts.token_caller(bearer)
    elif cookie:
        caller = platform.accounts.session_caller(cookie)
    if caller is None and development:
        return Caller("development", "admin", "development")
    return caller


def require_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Caller:
    """The caller, if signed in and allowed this route; 401 or 403 otherwise."""
    bearer = credentials.credentials if credentials else None
    caller = authenticate(request, bearer, cookie)
    if caller is None:
        raise _unauthorized(
            "Missing or wrong credentials: sign in, or send a valid bearer token"
            if bearer or cookie
            else "Not signed in: sign in on the page, or send a bearer token"
        )
    request.state.caller = caller
    if caller.auth == "session" and request.method not in SAFE_METHODS:
        given = request.headers.get(CSRF_HEADER, "")
        if not caller.csrf_token or not hmac.compare_digest(
            given.encode(), caller.csrf_token.encode()
        ):
            raise CsrfError(
                f"This change came with the session cookie but without its {CSRF_HEADER} header",
                "Reload the page and try again; scripts should use an API token instead.",
            )
    route = request.scope.get("route")
    needed = required_role(request.method, getattr(route, "path", request.url.path))
    if not role_allows(caller.role, needed):
        raise Forbidden(
            f"The {caller.role} role may not do this ({request.method} "
            f"{getattr(route, 'path', request.url.path)} needs {needed})",
            "Ask an admin for a role that allows it.",
        )
    return caller


PrincipalDep = Annotated[Caller, Depends(require_principal)]
