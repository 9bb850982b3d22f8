"""Destinations: where integrations load (list, show, add, update, remove, test)."""

import sys

import click

from integrations_platform.catalog import load_catalog
from integrations_platform.cli.support import (
    _print_json,
    build_service,
    handle_errors,
    read_config_file,
)
from integrations_platform.settings import get_settings


@click.group("destinations", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def destinations_cmd(ctx: click.Context, as_json: bool) -> None:
    """Where integrations load: the built-in ones (jsonl, postgres) and those you
    configure. Without a subcommand: list them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_cmd, as_json=as_json)


@destinations_cmd.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def list_cmd(as_json: bool) -> None:
    """List the destinations and the integrations that load into each."""
    views = build_service(get_settings()).list_destinations()
    if as_json:
        _print_json([v.as_dict() for v in views])
        return
    for v in views:
        kind = "built-in" if v.built_in else "configured"
        used = ", ".join(v.used_by) or "-"
        click.echo(f"{v.name:<20} {v.connector:<12} {kind:<10} used by: {used}")


@destinations_cmd.command("connectors")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def connectors_cmd(as_json: bool) -> None:
    """List the destination connectors of the catalog."""
    found = load_catalog(get_settings().catalog_dir).search_destinations()
    if as_json:
        _print_json(
            [
                {
                    "id": d.id,
                    "label": d.label,
                    "tier": d.tier,
                    "connection_test": d.destination.connection_test,
                    "settings": [s.name for s in d.settings],
                }
                for d in found
            ]
        )
        return
    for d in found:
        click.echo(f"{d.id:<14} {d.label:<28} {d.tier:<9} {d.description}")


@destinations_cmd.command("show")
@click.argument("destination")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def show_cmd(destination: str, as_json: bool) -> None:
    """Show DESTINATION: its settings; secrets only as set / not set."""
    data = build_service(get_settings()).show_destination(destination).as_dict()
    if as_json:
        _print_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")


@destinations_cmd.command("add")
@click.argument("destination")
@click.option(
    "--connector", required=True, help="A destination connector (`destinations connectors`)."
)
@click.option("--config", "config_path", required=True, help="JSON or YAML file; - for stdin.")
@handle_errors
def add_cmd(destination: str, connector: str, config_path: str) -> None:
    """Configure DESTINATION of --connector with the settings in --config."""
    config = read_config_file(config_path)
    view = build_service(get_settings()).add_destination(connector, destination, config)
    click.echo(
        f"Added {view.connector} destination '{view.name}'. Test it with "
        f"`integrations destinations test {view.name}`; load into it with "
        f"`--destination {view.name}`."
    )


@destinations_cmd.command("update")
@click.argument("destination")
@click.option("--config", "config_path", required=True, help="JSON or YAML file; - for stdin.")
@handle_errors
def update_cmd(destination: str, config_path: str) -> None:
    """Change DESTINATION's settings. Settings left out, and blank secrets, keep their value."""
    config = read_config_file(config_path)
    view = build_service(get_settings()).update_destination(destination, config)
    click.echo(f"Updated destination '{view.name}' (version {view.version}).")


@destinations_cmd.command("remove")
@click.argument("destination")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def remove_cmd(destination: str, yes: bool) -> None:
    """Remove DESTINATION (refused while an integration loads into it)."""
    if not yes:
        click.confirm(f"Remove destination '{destination}'?", abort=True)
    build_service(get_settings()).remove_destination(destination)
    click.echo(f"Removed destination '{destination}'.")


@destinations_cmd.command("test")
@click.argument("destination", required=False)
@click.option("--connector", help="Test a new destination of this connector (with --config).")
@click.option("--config", "config_path", help="Settings to test (merged into DESTINATION's).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def test_cmd(
    destination: str | None, connector: str | None, config_path: str | None, as_json: bool
) -> None:
    """Test that the platform can write to DESTINATION (exit 1 when it cannot)."""
    config = read_config_file(config_path) if config_path else None
    result = build_service(get_settings()).test_destination(
        destination, connector_id=None if destination else connector, config=config
    )
    if as_json:
        _print_json(result.as_dict())
    else:
        mark = "ok" if result.ok else f"failed ({result.reason})"
        click.echo(
            f"{destination or connector}: {mark} in {result.duration_s:.2f}s. {result.message}"
        )
        if result.hint:
            click.echo(f"hint: {result.hint}")
    if not result.ok:
        sys.exit(1)
