"""Syncs and state: test, sync, state, reset."""

import json
import sys

import click

from integrations_platform.cli.support import (
    _fail,
    _print_json,
    build_service,
    handle_errors,
)
from integrations_platform.settings import get_settings


@click.command("test")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def test_cmd(name: str, as_json: bool) -> None:
    """Test integration NAME's connection (exit 1 when it fails)."""
    result = build_service(get_settings()).test_connection(name)
    if as_json:
        _print_json(result.as_dict())
    else:
        mark = "ok" if result.ok else f"failed ({result.reason})"
        click.echo(f"{name}: {mark} in {result.duration_s:.2f}s. {result.message}")
        if result.hint:
            click.echo(f"hint: {result.hint}")
    if not result.ok:
        sys.exit(1)


@click.command()
@click.argument("name")
@click.option("--streams", help="Comma-separated streams; default: every stream.")
@click.option("--full-refresh", is_flag=True, help="Ignore the bookmark; re-sync from the start.")
@click.option("--from", "from_date", help="Backfill from this date (needs --to).")
@click.option("--to", "to_date", help="Backfill up to this date, included.")
@handle_errors
def sync(
    name: str,
    streams: str | None,
    full_refresh: bool,
    from_date: str | None,
    to_date: str | None,
) -> None:
    """Launch a sync of NAME in Dagster (the webserver at INTEGRATIONS_DAGSTER_URL).

    With --from/--to, one backfill run loads exactly the records of those days (or
    months) and leaves the incremental bookmark alone.
    """
    chosen = [s.strip() for s in streams.split(",") if s.strip()] if streams else None
    launched = build_service(get_settings()).launch_sync(
        name, chosen, full_refresh=full_refresh, from_date=from_date, to_date=to_date
    )
    partitions = launched.partitions
    what = f" (partitions {partitions[0]}…{partitions[1]})" if partitions else ""
    click.echo(f"Launched run {launched.run_id}{what}: {launched.url}")


@click.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def state(name: str, as_json: bool) -> None:
    """Show NAME's incremental bookmarks and the history of their resets."""
    data = build_service(get_settings()).state(name)
    if as_json:
        _print_json(data)
        return
    for stream, bookmark in sorted(data["bookmarks"].items()):
        click.echo(f"{stream:<24} {json.dumps(bookmark)}")
    if not data["bookmarks"]:
        click.echo("No bookmark: the next sync starts from the start date.")
    for reset in data["resets"]:
        click.echo(f"reset {reset['stream'] or 'all streams'} by {reset['actor']} at {reset['at']}")


@click.command()
@click.argument("name")
@click.option("--stream", help="Reset only this stream (default: every stream).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def reset(name: str, stream: str | None, yes: bool) -> None:
    """Clear NAME's incremental bookmark: the next sync starts from the start date."""
    import getpass

    service = build_service(get_settings())
    service.get(name)
    what = f"stream '{stream}' of '{name}'" if stream else f"every stream of '{name}'"
    if not yes and not click.confirm(
        f"Clear the bookmark of {what}? The next sync re-reads it all"
    ):
        _fail("not reset")
    record = service.reset_state(name, stream=stream, actor=f"cli:{getpass.getuser()}")
    click.echo(f"Reset {what} (recorded at {record['at']}).")
