"""Discovery: what an integration's source holds."""

import sys

import click

from integrations_platform.cli.support import _print_json, build_service, handle_errors
from integrations_platform.discovery import Discovery
from integrations_platform.settings import get_settings


@click.command()
@click.argument("name")
@click.option("--stored", is_flag=True, help="Show the stored discovery; do not run the extractor.")
@click.option("--timeout", type=click.FloatRange(1, 3600), help="Seconds (default: 600).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every column of every stream).")
@handle_errors
def discover(name: str, stored: bool, timeout: float | None, as_json: bool) -> None:
    """Discover the streams and columns of integration NAME's source and store them.

    Runs the extractor's discovery (a few seconds, minutes for a large org), then lists
    each stream with its column count, primary key and replication key. A failed
    discovery exits 1 with its reason and hint, and leaves the stored one as it was.
    """
    service = build_service(get_settings())
    if stored:
        found = service.discovery(name)
        if as_json:
            _print_json(found.as_dict())
        else:
            _print_streams(name, found)
        return
    result = service.discover(name, timeout_s=timeout)
    if as_json:
        _print_json(result.as_dict())
    elif result.discovery is not None:
        click.echo(f"{name}: {result.outcome.message} ({result.outcome.duration_s:.1f}s)")
        _print_streams(name, result.discovery)
    else:
        outcome = result.outcome
        click.echo(f"{name}: failed ({outcome.reason}) in {outcome.duration_s:.2f}s. ", nl=False)
        click.echo(outcome.message)
        if outcome.hint:
            click.echo(f"hint: {outcome.hint}")
    if not result.ok:
        sys.exit(1)


def _print_streams(name: str, found: Discovery) -> None:
    if not found.streams:
        click.echo(f"{name}: the source has no stream this extractor can read.")
        return
    width = max(12, *(len(s.name) for s in found.streams))
    click.echo(f"{'STREAM':<{width}}  COLUMNS  PRIMARY KEY          REPLICATION")
    for stream in found.streams:
        key = ",".join(stream.primary_key) or "-"
        replication = stream.default_replication_key or "full table"
        click.echo(f"{stream.name:<{width}}  {len(stream.columns):>7}  {key:<20} {replication}")
    click.echo(
        f"{len(found.streams)} stream(s), discovered {found.discovered_at:%Y-%m-%d %H:%M} UTC."
    )
