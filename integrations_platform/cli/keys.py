"""Encryption keys: keygen, key-fingerprints, rotate-keys."""

import os

import click

from integrations_platform.cli.support import (
    _fail,
    _print_json,
    build_service,
    handle_errors,
)
from integrations_platform.errors import PlatformError
from integrations_platform.settings import get_settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key
from integrations_platform.store.encryption import repair_instruction


@click.command()
def keygen() -> None:
    """Print a new encryption key for INTEGRATIONS_ENCRYPTION_KEYS."""
    click.echo(generate_key())


@click.command("key-fingerprints")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def key_fingerprints(as_json: bool) -> None:
    """The fingerprints of the configured keys and of the keys the stored rows need.

    A fingerprint names a key without revealing it: compare a backup's
    (`INTEGRATIONS_ENCRYPTION_KEYS=<backup> integrations key-fingerprints`) with the ones
    the rows need before restoring it.
    """
    settings = get_settings()
    try:
        configured = list(KeyRing.from_settings(os.environ, settings.key_file).fingerprints)
    except PlatformError:
        configured = []
    needed = ConfigStore.open(settings.database_url).key_fingerprints()
    if as_json:
        _print_json(
            {
                "configured": configured,
                "stored": [{"fingerprint": fp, "integrations": n} for fp, n in needed.items()],
            }
        )
        return
    click.echo("configured keys: " + (", ".join(configured) or "none"))
    for fingerprint, count in sorted(needed.items(), key=lambda item: str(item[0])):
        if fingerprint is None:
            click.echo(f"  (saved before fingerprints were recorded): {count} integration(s)")
            continue
        known = "configured" if fingerprint in configured else "NOT configured"
        click.echo(f"  {fingerprint}: {count} integration(s), {known}")


@click.command("rotate-keys")
@handle_errors
def rotate_keys() -> None:
    """Re-encrypt every config with the first key of INTEGRATIONS_ENCRYPTION_KEYS.

    Rows no configured key can read are left as they are and listed (exit status 1).
    """
    rotation = build_service(get_settings()).rotate_keys()
    click.echo(f"Re-encrypted {rotation.rotated} integration(s) with the first key.")
    if rotation.unreadable:
        names = ", ".join(rotation.unreadable)
        _fail(
            f"{len(rotation.unreadable)} integration(s) cannot be decrypted with any "
            f"configured key and were left as they are: {names}. Add the key they were "
            "saved with and run `integrations rotate-keys` again, or " + repair_instruction("NAME")
        )
