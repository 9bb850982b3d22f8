"""Notifications: list, show, ack, resolve, check, deliver."""

import sys
from typing import Any

import click

from integrations_platform.cli.support import (
    _print_json,
    build_service,
    handle_errors,
)
from integrations_platform.settings import Settings, get_settings

# -- notifications -----------------------------------------------------------------


@click.group("notifications")
def notifications_cmd() -> None:
    """Sync failures, misconfigurations, stale and paused syncs (docs/notifications.md)."""


def _notifications(settings: Settings):  # type: ignore[no-untyped-def]
    from integrations_platform.notifications import NotificationService, NotificationSettings

    return NotificationService.open(settings.database_url, NotificationSettings.from_env())


def _print_notification(n: Any) -> None:
    seen = f"{n.count}x, last {n.last_seen_at:%Y-%m-%d %H:%M} UTC"
    click.echo(f"{n.id}  {n.status:<12} {n.integration:<20} {n.category:<18} {seen}")
    click.echo(f"    {n.title}")
    if n.status != "resolved":
        click.echo(f"    what to do: {n.action}")
    if n.run_url:
        click.echo(f"    run: {n.run_url}")


@notifications_cmd.command("list")
@click.option(
    "--status",
    type=click.Choice(["unresolved", "open", "acknowledged", "resolved", "all"]),
    default="unresolved",
    show_default=True,
)
@click.option("--integration", help="Only this integration's notifications.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def notifications_list(status: str, integration: str | None, limit: int, as_json: bool) -> None:
    """Notifications, newest first (default: the unresolved ones)."""
    items = _notifications(get_settings()).list_notifications(
        status=None if status == "all" else status, integration=integration, limit=limit
    )
    if as_json:
        _print_json([n.as_dict() for n in items])
        return
    if not items:
        click.echo("No notifications.")
    for n in items:
        _print_notification(n)


@notifications_cmd.command("show")
@click.argument("notification_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def notifications_show(notification_id: str, as_json: bool) -> None:
    """One notification, with its full message."""
    n = _notifications(get_settings()).store.get(notification_id)
    if as_json:
        _print_json(n.as_dict())
        return
    _print_notification(n)
    click.echo("")
    click.echo(n.message)


@notifications_cmd.command("ack")
@click.argument("notification_id")
@handle_errors
def notifications_ack(notification_id: str) -> None:
    """Acknowledge a notification (it stays unresolved until resolved)."""
    n = _notifications(get_settings()).acknowledge(notification_id, "cli")
    click.echo(f"Notification {n.id} is {n.status}.")


@notifications_cmd.command("resolve")
@click.argument("notification_id")
@handle_errors
def notifications_resolve(notification_id: str) -> None:
    """Resolve a notification by hand."""
    n = _notifications(get_settings()).resolve(notification_id, "cli")
    click.echo(f"Notification {n.id} is {n.status}.")


@notifications_cmd.command("check")
@handle_errors
def notifications_check() -> None:
    """Check every integration's setup now: connector, decryption, validation."""
    settings = get_settings()
    service = build_service(settings)
    stored = service.store.list_all()
    found = _notifications(settings).check_misconfigurations(
        service.catalog, stored, service.keyring_or_none()
    )
    for problem in found:
        click.echo(f"{problem.integration}: {problem.message}. {problem.action}")
    click.echo(f"{len(stored)} integration(s) checked, {len(found)} problem(s).")
    if found:
        sys.exit(1)


@notifications_cmd.command("deliver")
@click.option("--retry-failed", is_flag=True, help="Also retry deliveries that were given up.")
@handle_errors
def notifications_deliver(retry_failed: bool) -> None:
    """Send the webhook deliveries that are due now (the sensors do this every tick)."""
    notes = _notifications(get_settings())
    if retry_failed:
        notes.store.retry_failed()
    result = notes.deliver(budget_s=60)
    click.echo(f"{result.delivered} delivered, {result.failed} failed, {result.left} left.")
