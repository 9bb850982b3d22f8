"""Integrations: the catalog, add, list, show, update, remove, enable, disable."""

from typing import Any

import click
import yaml

from integrations_platform.catalog import load_catalog
from integrations_platform.cli.support import (
    EXCLUDE_HELP,
    FORMAT_HELP,
    HASH_HELP,
    POLICY_HELP,
    _fail,
    _print_json,
    _streams,
    build_service,
    handle_errors,
    read_config_file,
    reload_dagster,
)
from integrations_platform.settings import get_settings

DESTINATION_HELP = (
    "Where it loads: jsonl (embedded files), postgres (INTEGRATIONS_WAREHOUSE_URL) or a "
    "destination configured with `integrations destinations add`."
)


@click.command("catalog")
@click.argument("query", required=False)
@click.option("--category", help="Only connectors of this category.")
@click.option(
    "--tier",
    type=click.Choice(["verified", "community"]),
    help="verified: synced end to end in the project's tests; community: the others.",
)
@click.option(
    "--kind",
    type=click.Choice(["source", "destination"]),
    help="Only sources, or only destinations (default: both).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def catalog_cmd(
    query: str | None, category: str | None, tier: str | None, kind: str | None, as_json: bool
) -> None:
    """List the connectors, sources then destinations, optionally matching QUERY."""
    catalog = load_catalog(get_settings().catalog_dir)
    rows: list[dict[str, Any]] = []
    if kind in (None, "source"):
        rows += [
            {
                "id": c.id,
                "kind": "source",
                "label": c.label,
                "category": c.category,
                "tier": c.tier,
                "description": c.description,
                "streams": [s.name for s in c.streams],
            }
            for c in catalog.search(query, category, tier)
        ]
    if kind in (None, "destination"):
        rows += [
            {
                "id": d.id,
                "kind": "destination",
                "label": d.label,
                "category": d.category,
                "tier": d.tier,
                "description": d.description,
                "connection_test": d.destination.connection_test,
            }
            for d in catalog.search_destinations(query, category, tier)
        ]
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['id']:<14} {r['kind']:<11} {r['label']:<18} {r['category']:<10} "
            f"{r['tier']:<9} {r['description']}"
        )


@click.command()
@click.argument("connector")
@click.argument("name")
@click.option("--config", "config_path", required=True, help="JSON or YAML file; - for stdin.")
@click.option("--streams", help="Comma-separated streams, each NAME or NAME:REPLICATION_KEY.")
@click.option("--exclude", help=EXCLUDE_HELP)
@click.option("--hash", "hashed", help=HASH_HELP)
@click.option("--schema-policy", help=POLICY_HELP)
@click.option("--message-format", help=FORMAT_HELP)
@click.option("--schedule", help="Cron expression (UTC); default: the connector's.")
@click.option("--start-date", help="Sync records from this date (ISO 8601).")
@click.option(
    "--destination",
    default="jsonl",
    show_default=True,
    help=DESTINATION_HELP,
)
@click.option("--disabled", is_flag=True, help="Create it disabled (no assets, no schedule).")
@handle_errors
def add(
    connector: str,
    name: str,
    config_path: str,
    streams: str | None,
    exclude: str | None,
    hashed: str | None,
    schema_policy: str | None,
    message_format: str | None,
    schedule: str | None,
    start_date: str | None,
    destination: str,
    disabled: bool,
) -> None:
    """Add integration NAME of CONNECTOR with the settings in --config."""
    config = read_config_file(config_path)
    settings = get_settings()
    view = build_service(settings).add(
        connector,
        name,
        config,
        streams=_streams(streams, exclude, hashed=hashed),
        schedule=schedule,
        start_date=start_date,
        destination=destination,
        enabled=not disabled,
        schema_policy=schema_policy,
        message_format=message_format,
    )
    added = view.integration
    count = len(added.streams)
    click.echo(f"Added {added.connector} integration '{added.name}' ({count} streams).")
    if view.enabled:
        reload_dagster(settings)


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def list_cmd(as_json: bool) -> None:
    """List the integrations."""
    views = build_service(get_settings()).list_integrations()
    if as_json:
        _print_json([v.as_dict() for v in views])
        return
    if not views:
        click.echo("No integrations yet. Add one with `integrations add`.")
        return
    for i in (v.integration for v in views):
        state = "enabled" if i.enabled else "disabled"
        streams = ",".join(i.stream_names)
        click.echo(f"{i.name:<24} {i.connector:<12} {state:<9} {i.schedule:<14} {streams}")


@click.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def show(name: str, as_json: bool) -> None:
    """Show integration NAME; secrets only as set / not set."""
    data = build_service(get_settings()).show(name).as_dict()
    if as_json:
        _print_json(data)
        return
    for stream in data["streams"]:  # one line, not one per column
        if "columns" in stream:
            stream["columns"] = f"{len(stream['columns'])} synced"
    for key, value in data.items():
        if isinstance(value, dict | list):
            click.echo(f"{key}:")
            dumped = yaml.safe_dump(value, sort_keys=False, default_flow_style=False).rstrip()
            click.echo("\n".join(f"  {line}" for line in dumped.splitlines()))
        else:
            click.echo(f"{key}: {value}")


@click.command()
@click.argument("name")
@click.option("--config", "config_path", help="JSON or YAML file; - for stdin.")
@click.option("--streams", help="Comma-separated streams, each NAME or NAME:REPLICATION_KEY.")
@click.option("--exclude", help=EXCLUDE_HELP)
@click.option("--hash", "hashed", help=HASH_HELP)
@click.option("--schema-policy", help=POLICY_HELP)
@click.option("--message-format", help=FORMAT_HELP)
@click.option("--schedule", help="Cron expression (UTC).")
@click.option("--start-date", help="Sync records from this date (ISO 8601).")
@click.option("--destination", help=DESTINATION_HELP)
@handle_errors
def update(
    name: str,
    config_path: str | None,
    streams: str | None,
    exclude: str | None,
    hashed: str | None,
    schema_policy: str | None,
    message_format: str | None,
    schedule: str | None,
    start_date: str | None,
    destination: str | None,
) -> None:
    """Change integration NAME. Settings left out, and blank secrets, keep their value."""
    config = read_config_file(config_path) if config_path else None
    settings = get_settings()
    service = build_service(settings)
    partial = streams is None and (exclude is not None or hashed is not None)
    current = service.get(name).streams if partial else ()
    view = service.update(
        name,
        config,
        streams=_streams(streams, exclude, current, hashed),
        schedule=schedule,
        start_date=start_date,
        destination=destination,
        schema_policy=schema_policy,
        message_format=message_format,
    )
    click.echo(f"Updated '{view.name}' (version {view.version}).")
    if view.enabled:
        reload_dagster(settings)


@click.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def remove(name: str, yes: bool) -> None:
    """Remove integration NAME and its stored config."""
    settings = get_settings()
    service = build_service(settings)
    service.get(name)
    if not yes and not click.confirm(f"Remove integration '{name}' and its config?"):
        _fail("not removed")
    removed = service.remove(name)
    click.echo(f"Removed '{name}'.")
    if removed.enabled:
        reload_dagster(settings)


@click.command()
@click.argument("name")
@handle_errors
def enable(name: str) -> None:
    """Enable integration NAME (its assets and schedule come back)."""
    _set_enabled(name, True)


@click.command()
@click.argument("name")
@handle_errors
def disable(name: str) -> None:
    """Disable integration NAME (its assets and schedule go away; config is kept)."""
    _set_enabled(name, False)


def _set_enabled(name: str, enabled: bool) -> None:
    settings = get_settings()
    build_service(settings).set_enabled(name, enabled)
    click.echo(f"{'Enabled' if enabled else 'Disabled'} '{name}'.")
    reload_dagster(settings)
