"""Sign-in, the caller, users, API tokens and the audit trail.

``POST /api/v1/auth/login`` takes a name and password, or a one-time link's token, and
sets the session cookie (HttpOnly, SameSite=Strict, Secure behind HTTPS, 12 hours);
``GET /api/v1/me`` tells the page who it is and the CSRF token its changes must carry.
Users, tokens and the audit trail are for admins (see ``people.roles``).
"""

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator

from integrations_platform.api.auth import SESSION_COOKIE, PrincipalDep
from integrations_platform.api.deps import StateDep
from integrations_platform.api.schemas import ERROR_RESPONSES, ErrorPublic
from integrations_platform.errors import ConfigurationError, SignInFailed
from integrations_platform.people import Caller, SignedIn
from integrations_platform.people.accounts import SESSION_TTL
from integrations_platform.people.roles import Role

router = APIRouter(prefix="/api/v1", tags=["people"], responses=ERROR_RESPONSES)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    """A name and password, or the token of a one-time sign-in link."""

    name: str | None = Field(default=None, max_length=100)
    password: str | None = Field(default=None, max_length=1024)
    link: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_way(self) -> "LoginIn":
        if self.link is None and (self.name is None or self.password is None):
            raise ValueError("give name and password, or link")
        return self


class MePublic(BaseModel):
    """The caller."""

    name: str
    role: str
    auth: str = Field(description="session, token, service or development")
    csrf_token: str | None = Field(
        default=None, description="Send as X-CSRF-Token with every change made with the cookie."
    )
    expires_at: datetime | None = None


class UserPublic(BaseModel):
    """A user (never their password)."""

    name: str
    role: str
    has_password: bool
    created_at: str | None = None
    last_sign_in_at: str | None = None
    sign_in_link: str | None = Field(
        default=None, description="Only when created without a password: a one-time link."
    )


class UserIn(_In):
    """A new user; without a password, the answer carries a one-time sign-in link."""

    name: str = Field(max_length=63)
    role: Role
    password: str | None = Field(default=None, max_length=1024)


class UserUpdate(_In):
    """A new role, a new password, or both."""

    role: Role | None = None
    password: str | None = Field(default=None, max_length=1024)


class Removed(BaseModel):
    """A removed user."""

    name: str
    removed: bool = True


class TokenPublic(BaseModel):
    """An API token (never its value, except once in :class:`TokenIssued`)."""

    id: str
    name: str
    user: str
    created_at: str | None = None
    expires_at: str | None = None
    last_used_at: str | None = None
    revoked_at: str | None = None


class TokenIssued(TokenPublic):
    """A new token: ``token`` is shown this once."""

    token: str


class TokenIn(_In):
    """A token for ``user``, named, optionally expiring."""

    user: str = Field(max_length=63)
    name: str = Field(default="token", max_length=100)
    expires_at: datetime | None = Field(
        default=None, strict=True, description="ISO 8601; UTC when no offset is given."
    )


class AuditEventPublic(BaseModel):
    """One audit event: who did what, when, from where, with what result."""

    id: int
    at: datetime
    actor: str
    role: str
    source: str
    action: str
    integration: str | None
    target: str | None
    fields: list[str]
    result: str
    detail: str
    address: str | None


def _me(caller: Caller) -> MePublic:
    return MePublic(
        name=caller.name,
        role=caller.role,
        auth=caller.auth,
        csrf_token=caller.csrf_token,
        expires_at=caller.expires_at,
    )


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(
            "since is not an ISO 8601 date or time",
            "Use e.g. 2026-12-01 or 2026-12-01T09:00:00Z.",
            {"since": "an ISO 8601 date or time"},
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


@router.post(
    "/auth/login",
    response_model=MePublic,
    name="login",
    responses={
        429: {
            "model": ErrorPublic,
            "description": "Too many failed sign-ins for the account or from the address; "
            "the Retry-After header says how many seconds to wait.",
        }
    },
)
async def login(body: LoginIn, request: Request, response: Response, state: StateDep) -> MePublic:
    """Sign in; sets the session cookie. Failures are slowed and limited."""
    accounts = state.accounts
    address = _address(request)
    try:
        if body.link is not None:
            signed: SignedIn = await run_in_threadpool(
                accounts.sign_in_with_link, body.link, address=address
            )
        else:
            assert body.name is not None and body.password is not None
            signed = await run_in_threadpool(
                accounts.sign_in, body.name, body.password, address=address
            )
    except SignInFailed as exc:
        await asyncio.sleep(getattr(exc, "delay_s", 0.25))
        raise
    response.set_cookie(
        SESSION_COOKIE,
        signed.session_token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    return _me(signed.caller)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, name="logout")
def logout(request: Request, state: StateDep, caller: PrincipalDep) -> Response:
    """End this session (clears the cookie)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and caller.auth == "session":
        state.accounts.sign_out(cookie)
        state.audit.record(
            actor=caller.name,
            role=caller.role,
            source="page",
            action="sign-out",
            address=_address(request),
        )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get(
    "/auth/check",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={204: {"description": "Signed in as an editor or admin."}},
)
def check_editor(caller: PrincipalDep) -> Response:
    """204 for an editor or admin, 401/403 otherwise: what a reverse proxy asks before
    letting a request into Dagster's UI (nginx ``auth_request``; see docs/production.md)."""
    return Response(
        status_code=status.HTTP_204_NO_CONTENT, headers={"X-Integrations-User": caller.name}
    )


@router.get("/me", response_model=MePublic)
def me(caller: PrincipalDep) -> MePublic:
    """Who is calling, with which role, and the CSRF token of a page session."""
    return _me(caller)


@router.get("/users", response_model=list[UserPublic])
def list_users(state: StateDep, _: PrincipalDep) -> list[dict[str, Any]]:
    """Every user (admin)."""
    return state.accounts.list_users()


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, state: StateDep, _: PrincipalDep) -> dict[str, Any]:
    """Add a user (admin). Without a password the answer has a one-time sign-in link."""
    user = state.accounts.add_user(body.name, body.role, body.password)
    if body.password is None:
        user["sign_in_link"] = f"/#sign-in={state.accounts.create_link(body.name)}"
    return user


@router.patch("/users/{name}", response_model=UserPublic)
def update_user(name: str, body: UserUpdate, state: StateDep, _: PrincipalDep) -> dict[str, Any]:
    """Change a user's role or password (admin; the last admin stays admin)."""
    if body.role is None and body.password is None:
        raise ConfigurationError(
            "Nothing to change", "Give a role, a password, or both.", {"body": "role or password"}
        )
    user = state.accounts.get_user(name)
    if body.password is not None:
        user = state.accounts.set_password(name, body.password)
    if body.role is not None:
        user = state.accounts.set_role(name, body.role)
    return user


@router.delete("/users/{name}", response_model=Removed, name="remove_user")
def remove_user(name: str, state: StateDep, _: PrincipalDep) -> Removed:
    """Remove a user, their sessions and tokens (admin; never the last admin)."""
    state.accounts.remove_user(name)
    return Removed(name=name)


@router.get("/tokens", response_model=list[TokenPublic])
def list_tokens(
    state: StateDep, _: PrincipalDep, user: Annotated[str | None, Query(max_length=63)] = None
) -> list[dict[str, Any]]:
    """API tokens, newest first (admin; never their values)."""
    return state.accounts.list_tokens(user)


@router.post("/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenIn, state: StateDep, _: PrincipalDep) -> TokenIssued:
    """A new token for a user (admin); its value is in this answer only."""
    expires = body.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    issued = state.accounts.create_token(body.user, body.name, expires)
    return TokenIssued(
        id=issued.id,
        name=issued.name,
        user=issued.user,
        token=issued.token,
        created_at=issued.created_at.isoformat() if issued.created_at else None,
        expires_at=issued.expires_at.isoformat() if issued.expires_at else None,
    )


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
def revoke_token(token_id: str, state: StateDep, _: PrincipalDep) -> dict[str, Any]:
    """Revoke a token at once (admin)."""
    return state.accounts.revoke_token(token_id)


@router.get("/audit", response_model=list[AuditEventPublic])
def list_audit(
    state: StateDep,
    _: PrincipalDep,
    integration: Annotated[str | None, Query(max_length=63)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[
        str | None, Query(max_length=40, description="ISO 8601 date or time (UTC by default).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Audit events, newest first (admin), filtered by integration, actor, action, time."""
    events = state.audit.list(
        integration=integration, actor=actor, action=action, since=_since(since), limit=limit
    )
    return [e.as_dict() for e in events]
