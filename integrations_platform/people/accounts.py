"""Accounts: users and their passwords, sessions, one-time sign-in links and API tokens.

Credentials are never stored in clear: passwords as argon2id hashes (``argon2-cffi``),
session ids, sign-in links and API tokens as SHA-256 digests (they are 256-bit random
values, so a fast digest is enough and a lookup stays one indexed query).

Failed sign-ins are counted in the audit trail and limited per account and per address;
each failure also makes the next answer slower (:func:`failure_delay_s`).
"""

import functools
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update

from integrations_platform.errors import (
    ConfigurationError,
    PlatformError,
    SignInFailed,
    TooManySignIns,
    UserExistsError,
    UserNotFoundError,
)
from integrations_platform.people.audit import AuditLog, Source
from integrations_platform.people.models import (
    ApiTokenRecord,
    SessionRecord,
    SignInLinkRecord,
    UserRecord,
)
from integrations_platform.people.roles import Role, check_role
from integrations_platform.store.models import utcnow
from integrations_platform.store.repository import ConfigStore

AuthKind = Literal["session", "token", "service", "development", "cli"]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
SESSION_TTL = timedelta(hours=12)
LINK_TTL = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
TOKEN_PREFIX = "ipt_"
FIRST_ADMIN = "admin"
UNKNOWN_ACTOR = "(unknown name)"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,62}$")
_SESSION_CACHE_S = 5.0
_LAST_USED_EVERY = timedelta(minutes=1)
_hasher = PasswordHasher()


# Verified when the account does not exist, so that a wrong name costs as long as a
# wrong password and timing does not tell which accounts exist.
@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown (as long as a real check);
    made on first use, not at import: every CLI command imports this module."""
    return _hasher.hash(secrets.token_urlsafe(16))


def digest(value: str) -> str:
    """The stored form of a token, session id or link (SHA-256, hex)."""
    return hashlib.sha256(value.encode()).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a session: derived from the session id, so nothing more is
    stored, and useless without the HttpOnly cookie it is checked against."""
    return hmac.new(session_token.encode(), b"csrf", hashlib.sha256).hexdigest()


def failure_delay_s(failures: int) -> float:
    """How long to hold a failed sign-in's answer after ``failures`` recent failures."""
    return float(min(0.25 * 2 ** max(failures - 1, 0), 4.0))


@dataclass(frozen=True)
class Caller:
    """Who is calling, with which role, authenticated how."""

    name: str
    role: Role
    auth: AuthKind
    csrf_token: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie's value (shown to the browser only) and its caller."""

    caller: Caller
    session_token: str


@dataclass(frozen=True)
class IssuedToken:
    """A new API token; ``token`` is shown once and never again."""

    id: str
    name: str
    user: str
    token: str
    created_at: datetime
    expires_at: datetime | None


def check_name(name: str) -> str:
    """A valid user name, or a ConfigurationError saying what one looks like."""
    if not _NAME.match(name or ""):
        raise ConfigurationError(
            f"'{name[:80]}' is not a valid user name",
            "Use 1 to 63 lower-case letters, digits, '.', '_', '@' or '-', starting with a "
            "letter or digit.",
            {"name": "1-63 of a-z 0-9 . _ @ -"},
        )
    return name


def check_password(password: str) -> str:
    """A password long enough, or a ConfigurationError (never quoting it)."""
    if not (MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH):
        raise ConfigurationError(
            f"A password needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            "Choose a longer password (a passphrase of several words works well).",
            {"password": f"at least {MIN_PASSWORD_LENGTH} characters"},
        )
    return password


def _user(row: UserRecord) -> dict[str, Any]:
    return {
        "name": row.name,
        "role": row.role,
        "has_password": row.password_hash is not None,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "last_sign_in_at": row.last_sign_in_at.isoformat() if row.last_sign_in_at else None,
    }


def _token(row: ApiTokenRecord) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": row.id,
        "name": row.name,
        "user": row.user_name,
        "created_at": iso(row.created_at),
        "expires_at": iso(row.expires_at),
        "last_used_at": iso(row.last_used_at),
        "revoked_at": iso(row.revoked_at),
    }


class Accounts:
    """Users, sign-in and tokens over the config store; sign-ins go to the audit trail."""

    def __init__(self, store: ConfigStore, audit: AuditLog | None = None) -> None:
        self.store = store
        self.audit = audit or AuditLog(store)
        self._sessions: dict[str, tuple[float, Caller | None]] = {}
        self._lock = threading.Lock()

    # -- users ---------------------------------------------------------------------------

    def list_users(self) -> list[dict[str, Any]]:
        """Every user, by name (no password hashes)."""
        with self.store.session() as session:
            return [_user(r) for r in session.scalars(select(UserRecord).order_by(UserRecord.name))]

    def get_user(self, name: str) -> dict[str, Any]:
        """One user, or UserNotFoundError."""
        with self.store.session() as session:
            return _user(self._row(session, name))

    def add_user(self, name: str, role: str, password: str | None = None) -> dict[str, Any]:
        """Create a user; without a password they sign in with a one-time link."""
        check_name(name)
        checked = check_role(role)
        hashed = _hasher.hash(check_password(password)) if password is not None else None
        with self.store.session() as session:
            if session.get(UserRecord, name) is not None:
                raise UserExistsError(
                    f"A user called '{name}' already exists",
                    "Choose another name, or change this user's role with `integrations users "
                    "set-role`.",
                )
            row = UserRecord(name=name, role=checked, password_hash=hashed)
            session.add(row)
            session.flush()
            return _user(row)

    def set_role(self, name: str, role: str) -> dict[str, Any]:
        """Change a user's role (never the last admin's)."""
        checked = check_role(role)
        with self.store.session() as session:
            row = self._row(session, name)
            if row.role == "admin" and checked != "admin":
                self._keep_an_admin(session, name)
            row.role = checked
            session.flush()
            result = _user(row)
        self._forget_sessions()
        return result

    def set_password(self, name: str, password: str) -> dict[str, Any]:
        """Set or change a user's password; their other sessions end."""
        hashed = _hasher.hash(check_password(password))
        with self.store.session() as session:
            row = self._row(session, name)
            row.password_hash = hashed
            session.execute(delete(SessionRecord).where(SessionRecord.user_name == name))
            session.flush()
            result = _user(row)
        self._forget_sessions()
        return result

    def remove_user(self, name: str) -> None:
        """Delete a user, their sessions, links and tokens (never the last admin)."""
        with self.store.session() as session:
            row = self._row(session, name)
            if row.role == "admin":
                self._keep_an_admin(session, name)
            session.execute(delete(SessionRecord).where(SessionRecord.user_name == name))
            session.execute(delete(SignInLinkRecord).where(SignInLinkRecord.user_name == name))
            session.execute(delete(ApiTokenRecord).where(ApiTokenRecord.user_name == name))
            session.delete(row)
        self._forget_sessions()

    def ensure_first_admin(self) -> str:
        """The first admin's name, creating ``admin`` (password-less) if nobody exists."""
        with self.store.session() as session:
            first = session.scalar(
                select(UserRecord.name)
                .where(UserRecord.role == "admin")
                .order_by(UserRecord.created_at, UserRecord.name)
                .limit(1)
            )
            if first is not None:
                return first
            if session.scalar(select(func.count()).select_from(UserRecord)):
                raise PlatformError(
                    "There are users but no admin",
                    "Make one an admin: `integrations users set-role NAME --role admin`.",
                )
            session.add(UserRecord(name=FIRST_ADMIN, role="admin"))
            return FIRST_ADMIN

    def _row(self, session: Any, name: str) -> UserRecord:
        row = session.get(UserRecord, name)
        if row is None:
            raise UserNotFoundError(
                f"No user called '{name[:80]}'", "List them with `integrations users list`."
            )
        assert isinstance(row, UserRecord)
        return row

    @staticmethod
    def _keep_an_admin(session: Any, name: str) -> None:
        others = session.scalar(
            select(func.count())
            .select_from(UserRecord)
            .where(UserRecord.role == "admin", UserRecord.name != name)
        )
        if not others:
            raise ConfigurationError(
                f"'{name}' is the last admin",
                "Make another user an admin first, so that someone can still manage people.",
                {"role": "the last admin keeps the admin role"},
            )

    # -- sign-in -------------------------------------------------------------------------

    def create_link(self, name: str, ttl: timedelta = LINK_TTL) -> str:
        """A one-time sign-in link token for ``name`` (the page reads it from ``#sign-in=``)."""
        token = secrets.token_urlsafe(32)
        with self.store.session() as session:
            self._row(session, name)
            session.add(
                SignInLinkRecord(
                    token_hash=digest(token), user_name=name, expires_at=utcnow() + ttl
                )
            )
        return token

    def check_rate(self, name: str, address: str | None) -> int:
        """Recent failures for ``name``; TooManySignIns past a limit."""
        since = utcnow() - FAILURE_WINDOW
        by_account = self.audit.count_failures("sign-in", since, actor=name)
        by_address = self.audit.count_failures("sign-in", since, address=address) if address else 0
        if by_account >= MAX_FAILURES_PER_ACCOUNT or by_address >= MAX_FAILURES_PER_ADDRESS:
            minutes = int(FAILURE_WINDOW.total_seconds() // 60)
            raise TooManySignIns(
                "Too many failed sign-ins for this account or from this address",
                f"Wait {minutes} minutes, then try again; an admin can print a one-time link "
                "with `integrations users link NAME`.",
                retry_after_s=int(FAILURE_WINDOW.total_seconds()),
            )
        return by_account

    def sign_in(
        self, name: str, password: str, *, address: str | None, source: Source = "page"
    ) -> SignedIn:
        """A session for ``name`` if the password matches; SignInFailed otherwise (its
        ``delay_s`` says how long to hold the answer)."""
        failures = self.check_rate(name[:100], address)
        with self.store.session() as session:
            row = session.get(UserRecord, name[:63])
            stored = row.password_hash if row is not None else None
        try:
            _hasher.verify(stored or _dummy_hash(), password[:MAX_PASSWORD_LENGTH])
            ok = stored is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if row is None:
            # Not the typed name: people type a password into the name field by mistake,
            # and the trail must not keep it. Such failures count per address.
            self._failed(UNKNOWN_ACTOR, address, source, "unknown name", failures)
        if not ok:
            self._failed(name, address, source, "wrong name or password", failures)
        assert row is not None
        if stored is not None and _hasher.check_needs_rehash(stored):
            self._rehash(name, password)
        return self._open_session(row.name, row.role, address, source, "password")

    def sign_in_with_link(self, token: str, *, address: str | None) -> SignedIn:
        """A session from a one-time link; the link is spent even if it is replayed."""
        now = utcnow()
        with self.store.session() as session:
            link = session.get(SignInLinkRecord, digest(token))
            valid = link is not None and link.used_at is None and link.expires_at > now
            user = session.get(UserRecord, link.user_name) if link is not None else None
            if link is not None and link.used_at is None:
                link.used_at = now
        if not valid or user is None:
            failures = self.check_rate("(link)", address)
            self._failed(
                "(link)",
                address,
                "page",
                "sign-in link used, expired or unknown",
                failures,
                link=True,
            )
        assert user is not None
        return self._open_session(user.name, user.role, address, "page", "one-time link")

    def _failed(
        self,
        name: str,
        address: str | None,
        source: Source,
        why: str,
        failures: int,
        *,
        link: bool = False,
    ) -> None:
        self.audit.record(
            actor=name[:100],
            role="-",
            source=source,
            action="sign-in",
            result="failed",
            detail=why,
            address=address,
        )
        error = SignInFailed(
            "This sign-in link was used or has expired" if link else "Wrong name or password",
            "Ask for a new link with `integrations users link NAME`."
            if link
            else "Check both and try again; after "
            f"{MAX_FAILURES_PER_ACCOUNT} failures the account waits "
            f"{int(FAILURE_WINDOW.total_seconds() // 60)} minutes.",
        )
        error.delay_s = failure_delay_s(failures + 1)  # type: ignore[attr-defined]
        raise error

    def _rehash(self, name: str, password: str) -> None:
        with self.store.session() as session:
            session.execute(
                update(UserRecord)
                .where(UserRecord.name == name)
                .values(password_hash=_hasher.hash(password))
            )

    def _open_session(
        self, name: str, role: str, address: str | None, source: Source, how: str
    ) -> SignedIn:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + SESSION_TTL
        with self.store.session() as session:
            session.add(SessionRecord(token_hash=digest(token), user_name=name, expires_at=expires))
            session.execute(
                update(UserRecord).where(UserRecord.name == name).values(last_sign_in_at=now)
            )
            session.execute(delete(SessionRecord).where(SessionRecord.expires_at < now))
        self.audit.record(
            actor=name, role=role, source=source, action="sign-in", detail=how, address=address
        )
        caller = Caller(name, check_role(role), "session", csrf_token_for(token), expires)
        return SignedIn(caller, token)

    def session_caller(self, token: str) -> Caller | None:
        """The caller of a session cookie, or None if it is unknown or expired (cached a
        few seconds: a list polled by 50 clients must not be 50 queries)."""
        key = digest(token)
        now = time.monotonic()
        with self._lock:
            cached = self._sessions.get(key)
        if cached is not None and now - cached[0] < _SESSION_CACHE_S:
            caller = cached[1]
            if caller is None or (caller.expires_at and caller.expires_at > utcnow()):
                return caller
        with self.store.session() as session:
            row = session.get(SessionRecord, key)
            user = session.get(UserRecord, row.user_name) if row is not None else None
            caller = (
                Caller(
                    user.name,
                    check_role(user.role),
                    "session",
                    csrf_token_for(token),
                    row.expires_at,
                )
                if row is not None and user is not None and row.expires_at > utcnow()
                else None
            )
        with self._lock:
            if len(self._sessions) > 10_000:
                self._sessions.clear()
            self._sessions[key] = (now, caller)
        return caller

    def sign_out(self, token: str) -> None:
        """End a session."""
        key = digest(token)
        with self.store.session() as session:
            session.execute(delete(SessionRecord).where(SessionRecord.token_hash == key))
        with self._lock:
            self._sessions.pop(key, None)

    def _forget_sessions(self) -> None:
        with self._lock:
            self._sessions.clear()

    # -- API tokens ----------------------------------------------------------------------

    def create_token(
        self, user: str, name: str = "", expires_at: datetime | None = None
    ) -> IssuedToken:
        """A new token for ``user``; the value is returned once and stored hashed."""
        if expires_at is not None and expires_at <= utcnow():
            raise ConfigurationError(
                "The token's expiry is in the past",
                "Give a future date, e.g. --expires 2027-12-31.",
                {"expires_at": "a future date"},
            )
        label = (name or "token").strip()[:100] or "token"
        value = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(6)
        with self.store.session() as session:
            self._row(session, user)
            row = ApiTokenRecord(
                id=token_id,
                token_hash=digest(value),
                user_name=user,
                name=label,
                expires_at=expires_at,
            )
            session.add(row)
            session.flush()
            created = row.created_at
        return IssuedToken(token_id, label, user, value, created, expires_at)

    def list_tokens(self, user: str | None = None) -> list[dict[str, Any]]:
        """Tokens (never their values), newest first; only ``user``'s if given."""
        query = select(ApiTokenRecord).order_by(ApiTokenRecord.created_at.desc())
        if user:
            query = query.where(ApiTokenRecord.user_name == user)
        with self.store.session() as session:
            return [_token(r) for r in session.scalars(query)]

    def revoke_token(self, token_id: str) -> dict[str, Any]:
        """Revoke a token at once (kept, marked revoked, for the record)."""
        with self.store.session() as session:
            row = session.get(ApiTokenRecord, token_id)
            if row is None:
                raise UserNotFoundError(
                    f"No API token with id '{token_id[:40]}'",
                    "List them with `integrations tokens list`.",
                )
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            session.flush()
            return _token(row)

    def token_caller(self, token: str) -> Caller | None:
        """The caller of a user's API token, or None if unknown, revoked or expired."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        now = utcnow()
        with self.store.session() as session:
            row = session.scalar(
                select(ApiTokenRecord).where(ApiTokenRecord.token_hash == digest(token))
            )
            if row is None or row.revoked_at is not None:
                return None
            if row.expires_at is not None and row.expires_at <= now:
                return None
            user = session.get(UserRecord, row.user_name)
            if user is None:
                return None
            if row.last_used_at is None or now - row.last_used_at > _LAST_USED_EVERY:
                row.last_used_at = now
            return Caller(user.name, check_role(user.role), "token", None, row.expires_at)
