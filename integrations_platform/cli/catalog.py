"""``integrations catalog``: list and search the connectors (the default), or import one
from PyPI with ``integrations catalog import PIP_SPEC``."""

import os
from typing import Any

import click

from integrations_platform.catalog import load_catalog
from integrations_platform.cli.integrations import catalog_cmd as list_cmd
from integrations_platform.cli.support import handle_errors, reload_dagster
from integrations_platform.settings import get_settings


class _ListByDefault(click.Group):
    """A group whose default is ``list``: ``integrations catalog crm --tier verified``
    lists, ``integrations catalog import …`` imports."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group("catalog", cls=_ListByDefault)
def catalog_group() -> None:
    """Connectors: list and search them (`integrations catalog [QUERY]`, the default), or
    import one from PyPI (`integrations catalog import PIP_SPEC`)."""


catalog_group.add_command(list_cmd, "list")


@catalog_group.command("import")
@click.argument("pip_spec")
@click.option("--id", "connector_id", help="The connector's id (default: from the command).")
@click.option(
    "--kind",
    type=click.Choice(["source", "destination"]),
    default="source",
    show_default=True,
    help="What the plugin is: a source (a tap) or a destination (a target).",
)
@click.option("--executable", help="The plugin's command, when its package has several.")
@click.option(
    "--no-install",
    is_flag=True,
    help="Only write the catalog file: do not update meltano.yml, install the plugin for "
    "syncs, or reload Dagster.",
)
@handle_errors
def catalog_import(
    pip_spec: str, connector_id: str | None, kind: str, executable: str | None, no_install: bool
) -> None:
    """Write the catalog file of PIP_SPEC (e.g. tap-rest-api-msdk==1.4.2) from the plugin's
    own description; then make it usable: meltano.yml, the plugin installed as syncs use
    it, and Dagster reloaded. Re-importing a newer version keeps the hand-written parts
    and lists what changed."""
    from integrations_platform.catalog.importer import import_connector

    settings = get_settings()
    result = import_connector(
        pip_spec,
        settings.catalog_dir,
        connector_id=connector_id,
        kind=kind,
        executable=executable,
        log=click.echo,
    )
    verb = "Wrote" if result.created else "Updated"
    click.echo(f"{verb} {result.path} ({result.settings} settings, tier community).")
    if result.made_secret:
        click.echo(
            "Secret although the plugin does not say so (name or description looks like a "
            f"credential): {', '.join(result.made_secret)}."
        )
    if not result.created:
        click.echo("Changes: " + ("; ".join(result.changes) if result.changes else "none"))
    if no_install:
        click.echo("Not installed (--no-install): run `integrations catalog sync` when ready.")
        return
    _make_usable(settings, [result.plugin])


@catalog_group.command("sync")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Install every plugin again where its package changed (after editing a pip_url), "
    "not only the missing ones.",
)
@handle_errors
def catalog_sync(everything: bool) -> None:
    """After adding or editing catalog files by hand: render meltano.yml, install the
    plugins that are missing (for syncs), and reload Dagster. The API and the page see
    catalog files without this (they reload them when they change)."""
    _make_usable(get_settings(), None if everything else ())


def _make_usable(settings: Any, plugins: list[str] | tuple[()] | None) -> None:
    """Render meltano.yml, install ``plugins`` (``()``: the missing ones; None: run
    Meltano's install over all), compile them, reload Dagster."""
    from integrations_platform.launcher import install_plugins
    from integrations_platform.runner.meltano_project import (
        missing_plugins,
        write_meltano_project,
    )

    catalog = load_catalog(settings.catalog_dir)
    path = write_meltano_project(catalog, settings.meltano_project_dir)
    click.echo(f"Rendered {path}.")
    if plugins == ():
        plugins = missing_plugins(catalog, settings.meltano_project_dir)
        if not plugins:
            click.echo("Every plugin is installed.")
    if plugins is None or plugins:
        install_plugins(settings, os.environ, plugins or ())
    reload_dagster(settings)
