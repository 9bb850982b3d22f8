"""Schema changes: an integration's current schema, its history, approvals."""

from typing import Any

import click

from integrations_platform.cli.support import (
    _print_json,
    build_service,
    handle_errors,
    reload_dagster,
)
from integrations_platform.settings import get_settings


class _SchemaGroup(click.Group):
    """``integrations schema NAME`` shows; ``integrations schema approve NAME`` approves."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # A first argument that is not a subcommand is the integration to show.
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group("schema", cls=_SchemaGroup, invoke_without_command=False)
def schema_cmd() -> None:
    """The schema of an integration's streams and the changes seen in its source.

    \b
    integrations schema NAME [--changes] [--json]
    integrations schema approve NAME --stream S [--column C]
    """


@schema_cmd.command("show")
@click.argument("name")
@click.option("--changes", "history", is_flag=True, help="Show the history of changes too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (schema, pending, history).")
@handle_errors
def show(name: str, history: bool, as_json: bool) -> None:
    """Each selected stream's columns and what syncs do with them (synced, left out,
    hashed, waiting for approval), the schema policy, and the changes waiting."""
    schema = build_service(get_settings()).schema(name)
    if as_json:
        _print_json(schema)
        return
    policy = schema["schema_policy"]
    click.echo(f"{name}: schema policy {policy} — {schema['policies'][policy]}")
    if schema["discovered_at"] is None:
        click.echo(f"The source has not been discovered yet: run `integrations discover {name}`.")
    for stream in schema["streams"]:
        where = "" if stream["in_source"] is not False else "  (no longer in the source)"
        key = ",".join(stream["primary_key"]) or "-"
        click.echo(
            f"\n{stream['name']}{where}  key: {key}  "
            f"replication: {stream['replication_key'] or 'full table'}"
        )
        for column in stream["columns"]:
            kind = column["type"] + (f"/{column['format']}" if column["format"] else "")
            click.echo(f"  {column['name']:<32} {kind:<20} {column['status']}")
    unselected = schema["unselected_streams"]
    if unselected:
        click.echo(f"\n{len(unselected)} other stream(s) in the source, not selected.")
    _print_changes("Waiting for approval", schema["pending"])
    if history:
        _print_changes("Changes, newest first", schema["changes"], show_status=True)
    elif schema["changes"]:
        click.echo(f"\n{len(schema['changes'])} change(s) recorded: add --changes to list them.")


def _print_changes(title: str, changes: list[dict[str, Any]], show_status: bool = False) -> None:
    if not changes:
        return
    click.echo(f"\n{title}:")
    for change in changes:
        seen = (change["seen_at"] or "")[:16].replace("T", " ")
        status = f" [{change['status']}]" if show_status else ""
        click.echo(f"  {seen}  {change['description']}{status}")


@schema_cmd.command("approve")
@click.argument("name")
@click.option("--stream", required=True, help="The stream whose pending changes to approve.")
@click.option("--column", help="Only this column (default: every pending change of the stream).")
@handle_errors
def approve(name: str, stream: str, column: str | None) -> None:
    """Approve what the schema policy held back: a new column is synced, a new stream
    selected, from the next sync on."""
    settings = get_settings()
    approved = build_service(settings).approve(name, stream, column, by="cli")
    for change in approved:
        click.echo(f"Approved: {change.describe()}")
    reload_dagster(settings)
