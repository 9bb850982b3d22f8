"""People from a terminal: ``users``, ``tokens`` and ``audit``; and the CLI's own audit.

The CLI runs on the platform's machine with its encryption keys, so it acts as an admin;
every change it makes is recorded in the audit trail with source ``cli`` and the
operating-system user as actor (:func:`audited`).
"""

import functools
import getpass
import json
import sys
from datetime import UTC, date, datetime, time
from typing import Any

import click
from click.core import ParameterSource

from integrations_platform.cli.support import handle_errors
from integrations_platform.errors import ConfigurationError
from integrations_platform.people import ROLES, Accounts, AuditLog
from integrations_platform.settings import Settings, get_settings
from integrations_platform.store import ConfigStore

DEFAULT_API_URL = "http://127.0.0.1:8000"


def cli_actor() -> str:
    """Who the CLI acts as: ``cli:<operating-system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _store(settings: Settings | None = None) -> ConfigStore:
    return ConfigStore.open((settings or get_settings()).database_url)


def _accounts() -> tuple[Accounts, ConfigStore]:
    store = _store()
    return Accounts(store), store


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-" if value is None or value == "" else str(value)


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    widths = {c: max([len(c), *(len(_cell(r.get(c))) for r in rows)]) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        click.echo("  ".join(_cell(row.get(c)).ljust(widths[c]) for c in columns).rstrip())


def _record(
    action: str,
    *,
    target: str | None = None,
    result: str = "ok",
    detail: str = "",
    integration: str | None = None,
    fields: list[str] | None = None,
) -> None:
    """One CLI change into the audit trail (never fails the command that made it)."""
    try:
        store = _store()
    except Exception as exc:  # the change itself already answered for its own errors
        click.echo(f"warning: the audit trail could not be written ({exc})", err=True)
        return
    try:
        AuditLog(store).record(
            actor=cli_actor(),
            role="admin",
            source="cli",
            action=action,
            integration=integration,
            target=target,
            fields=fields or [],
            result=result,  # type: ignore[arg-type]
            detail=detail,
        )
    except Exception as exc:
        click.echo(f"warning: the audit trail could not be written ({exc})", err=True)
    finally:
        store.close()


def sign_in_url(token: str, base_url: str = DEFAULT_API_URL) -> str:
    """The page's address that signs in with a one-time link token."""
    return f"{base_url.rstrip('/')}/#sign-in={token}"


# -- users -----------------------------------------------------------------------------


@click.group("users")
def users_cmd() -> None:
    """Users of the page and the API: add, list, remove, set-role, set-password, link."""


@users_cmd.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="viewer, editor or admin.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (first line). Without it, a one-time "
    "sign-in link is printed instead.",
)
@click.option("--url", default=DEFAULT_API_URL, show_default=True, help="The page's address.")
def users_add(name: str, role: str, password_stdin: bool, url: str) -> None:
    """Add user NAME with ROLE; prints a one-time sign-in link unless a password is given."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    accounts, store = _accounts()
    try:
        accounts.add_user(name, role, password)
        click.echo(f"Added {role} '{name}'.")
        if password is None:
            click.echo("One-time sign-in link (valid 12 hours):")
            click.echo(sign_in_url(accounts.create_link(name), url))
    finally:
        store.close()


@users_cmd.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def users_list(as_json: bool) -> None:
    """Every user: name, role, whether a password is set, last sign-in."""
    accounts, store = _accounts()
    try:
        users = accounts.list_users()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(users, indent=2))
        return
    _print_table(users, ["name", "role", "has_password", "last_sign_in_at"])


@users_cmd.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Remove user NAME with their sessions and API tokens (never the last admin)."""
    accounts, store = _accounts()
    try:
        accounts.remove_user(name)
    finally:
        store.close()
    click.echo(f"Removed '{name}'.")


@users_cmd.command("set-role")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
def users_set_role(name: str, role: str) -> None:
    """Give user NAME another role (their open sessions follow within seconds)."""
    accounts, store = _accounts()
    try:
        accounts.set_role(name, role)
    finally:
        store.close()
    click.echo(f"'{name}' is now {role}.")


@users_cmd.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True, help="Read it from stdin.")
def users_set_password(name: str, password_stdin: bool) -> None:
    """Set user NAME's password (from stdin); their sessions end."""
    password = sys.stdin.readline().rstrip("\r\n")
    accounts, store = _accounts()
    try:
        accounts.set_password(name, password)
    finally:
        store.close()
    click.echo(f"Password of '{name}' set; their sessions were ended.")


@users_cmd.command("link")
@click.argument("name")
@click.option("--url", default=DEFAULT_API_URL, show_default=True, help="The page's address.")
def users_link(name: str, url: str) -> None:
    """Print a one-time sign-in link for user NAME (valid 12 hours, one use)."""
    accounts, store = _accounts()
    try:
        token = accounts.create_link(name)
    finally:
        store.close()
    click.echo(f"One-time sign-in link for '{name}' (valid 12 hours):")
    click.echo(sign_in_url(token, url))


# -- tokens ----------------------------------------------------------------------------


def _expiry(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(23, 59, 59), UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(
            f"--expires '{value[:40]}' is not a date", "Use YYYY-MM-DD or an ISO 8601 time."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.group("tokens")
def tokens_cmd() -> None:
    """API tokens for automation: create (shown once), list, revoke."""


@tokens_cmd.command("create")
@click.option("--user", required=True, help="The user whose role the token acts with.")
@click.option("--name", "label", default="token", show_default=True, help="What it is for.")
@click.option("--expires", help="Expiry date (YYYY-MM-DD, end of that day UTC) or time.")
def tokens_create(user: str, label: str, expires: str | None) -> None:
    """Create an API token for --user; the token is printed once, alone on the last line."""
    accounts, store = _accounts()
    try:
        issued = accounts.create_token(user, label, _expiry(expires))
    finally:
        store.close()
    until = issued.expires_at.isoformat() if issued.expires_at else "never"
    click.echo(f"Token {issued.id} '{issued.name}' for {user} (expires {until}); shown once:")
    click.echo(issued.token)


@tokens_cmd.command("list")
@click.option("--user", help="Only this user's tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tokens_list(user: str | None, as_json: bool) -> None:
    """API tokens (never their values), newest first."""
    accounts, store = _accounts()
    try:
        tokens = accounts.list_tokens(user)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(tokens, indent=2))
        return
    _print_table(
        tokens, ["id", "user", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    )


@tokens_cmd.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke token TOKEN_ID at once."""
    accounts, store = _accounts()
    try:
        accounts.revoke_token(token_id)
    finally:
        store.close()
    click.echo(f"Revoked token {token_id}.")


# -- audit -----------------------------------------------------------------------------


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(
            f"--since '{value[:40]}' is not a date or time",
            "Use YYYY-MM-DD or an ISO 8601 time, e.g. 2026-12-01T09:00.",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.command("audit")
@click.option("--integration", help="Only this integration's events.")
@click.option("--actor", help="Only this actor's (a user name, service, or cli:USER).")
@click.option("--action", help="Only this action (create, update, sync, sign-in, ...).")
@click.option("--since", help="From this date or time (ISO 8601, UTC by default).")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def audit_cmd(
    integration: str | None,
    actor: str | None,
    action: str | None,
    since: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The audit trail, newest first: who changed what, when, from where, with what result."""
    store = _store()
    try:
        events = AuditLog(store).list(
            integration=integration, actor=actor, action=action, since=_since(since), limit=limit
        )
    finally:
        store.close()
    rows = [e.as_dict() for e in events]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        row["fields"] = ",".join(row["fields"])
        row["what"] = row["integration"] or row["target"]
    _print_table(rows, ["at", "actor", "role", "source", "action", "what", "fields", "result"])


# -- the CLI's own changes in the audit trail ---------------------------------------------

AUDITED: dict[str, str] = {
    "add": "create",
    "update": "update",
    "remove": "delete",
    "enable": "enable",
    "disable": "disable",
    "test": "test",
    "discover": "discover",
    "sync": "sync",
    "reset": "reset",
    "rotate-keys": "rotate-keys",
    "migrate-secrets": "migrate-secrets",
    "catalog import": "catalog-import",
    "catalog sync": "catalog-sync",
    "schema approve": "approve",
    "notifications ack": "acknowledge",
    "notifications resolve": "resolve",
    "users add": "user-add",
    "users remove": "user-remove",
    "users set-role": "user-update",
    "users set-password": "user-update",
    "users link": "user-link",
    "tokens create": "token-create",
    "tokens revoke": "token-revoke",
    "destinations add": "destination-add",
    "destinations update": "destination-update",
    "destinations remove": "destination-remove",
    "destinations test": "destination-test",
}
"""Command path → audit action: every command that changes something."""


def _given(ctx: click.Context) -> list[str]:
    """The options given on the command line (their names, never their values)."""
    return sorted(
        p.name
        for p in ctx.command.params
        if p.name
        and isinstance(p, click.Option)
        and ctx.get_parameter_source(p.name) == ParameterSource.COMMANDLINE
    )


def audited(command: click.Command, action: str) -> None:
    """Record each run of ``command`` in the audit trail, with its result."""
    callback = command.callback
    if callback is None:
        return

    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        name = kwargs.get("name")
        is_user = command.name and ctx.parent and ctx.parent.command.name in ("users", "tokens")
        integration = None if is_user else name
        target = (
            name
            if is_user
            else kwargs.get("user")
            or kwargs.get("token_id")
            or kwargs.get("notification_id")
            or kwargs.get("destination")
        )
        fields = _given(ctx)
        try:
            result = callback(*args, **kwargs)
        except SystemExit as exc:
            failed = exc.code not in (0, None)
            _record(
                action,
                integration=integration,
                target=target,
                fields=fields,
                result="failed" if failed else "ok",
                detail=f"exit {exc.code}",
            )
            raise
        except Exception as exc:
            _record(
                action,
                integration=integration,
                target=target,
                fields=fields,
                result="failed",
                detail=type(exc).__name__,
            )
            raise
        _record(action, integration=integration, target=target, fields=fields)
        return result

    command.callback = wrapper


def audit_commands(group: click.Group, prefix: str = "") -> None:
    """Wrap every changing command under ``group`` (see :data:`AUDITED`)."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            audit_commands(command, f"{path} ")
        elif path in AUDITED:
            audited(command, AUDITED[path])


for _command in (
    *users_cmd.commands.values(),
    *tokens_cmd.commands.values(),
    audit_cmd,
):
    if _command.callback is not None:
        _command.callback = handle_errors(_command.callback)
