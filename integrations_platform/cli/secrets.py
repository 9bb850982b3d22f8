"""Secrets backend: migrate-secrets (config store ↔ vault)."""

import os
import time

import click

from integrations_platform.cli.support import _fail, build_service, handle_errors
from integrations_platform.errors import ConcurrentUpdateError, PlatformError
from integrations_platform.service import IntegrationService
from integrations_platform.settings import get_settings
from integrations_platform.store.vault import ENV_SECRETS_BACKEND, Backend, secrets_backend

# An integration edited while its secrets move is read again and moved again.
ATTEMPTS = 3


@click.command("migrate-secrets")
@click.option(
    "--to",
    "to",
    type=click.Choice(["vault", "database"]),
    required=True,
    help="Where every integration's secrets go.",
)
@handle_errors
def migrate_secrets(to: Backend) -> None:
    """Move every integration's secret values to the vault or back to the config store.

    For each integration: write the secrets to the target, switch its stored record
    (refused and retried if it changed meanwhile), then delete them from the source. Syncs
    keep running: a record is readable before and after its switch. Safe to run again
    after a failure: integrations already moved are skipped (exit status 1 when one
    could not be moved).
    """
    service = build_service(get_settings())
    names = [view.name for view in service.list_integrations()]
    configured = secrets_backend(os.environ)
    if configured != to:
        click.echo(
            f"note: {ENV_SECRETS_BACKEND} is '{configured}', so integrations created or "
            f"edited from now on keep their secrets there: set {ENV_SECRETS_BACKEND}={to} "
            "for the API and the CLI.",
            err=True,
        )
    moved, already, failed = 0, 0, []
    for position, name in enumerate(names, start=1):
        prefix = f"[{position}/{len(names)}] {name}:"
        try:
            changed = _move(service, name, to)
        except PlatformError as exc:
            failed.append(name)
            click.echo(f"{prefix} FAILED: {' '.join(str(exc).split())}")
            continue
        if changed:
            moved += 1
            click.echo(f"{prefix} moved to the {to}")
        else:
            already += 1
            click.echo(f"{prefix} already in the {to}")
    click.echo(
        f"{len(names)} integration(s): {moved} moved, {already} already in the {to}, "
        f"{len(failed)} failed."
    )
    if failed:
        _fail(
            f"{len(failed)} integration(s) were not moved ({', '.join(failed)}); fix the "
            "errors above and run `integrations migrate-secrets` again."
        )


def _move(service: IntegrationService, name: str, to: Backend) -> bool:
    """Move one integration, reading it again when someone edits it meanwhile."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return service.move_secrets(name, to)
        except ConcurrentUpdateError:
            if attempt == ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
