"""The ``integrations`` command: manage integrations from a terminal.

Every command goes through :class:`IntegrationService`, the same layer as the API.
Exit status: 0 on success, 1 with a one-line ``error:`` message on bad input.
"""

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from integrations_platform.catalog import load_catalog
from integrations_platform.catalog.validation import MAX_CONFIG_BYTES
from integrations_platform.doctor import doctor_command
from integrations_platform.errors import PlatformError
from integrations_platform.service import IntegrationService, StreamSelection
from integrations_platform.settings import Settings, get_settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key
from integrations_platform.store.encryption import repair_instruction

F = TypeVar("F", bound=Callable[..., Any])


def build_service(settings: Settings) -> IntegrationService:
    """The service over the configured catalog, store and keys."""
    return IntegrationService(
        load_catalog(settings.catalog_dir),
        ConfigStore.open(settings.database_url),
        lambda: KeyRing.from_settings(os.environ, settings.key_file),
    )


def reload_dagster(settings: Settings) -> None:
    """After a change: reload Dagster's code location, as the API does, so that the
    change shows in Dagster at once; say so when Dagster cannot be reached."""
    from integrations_platform.orchestration.client import DagsterClient, DagsterUnavailableError

    try:
        DagsterClient(settings.dagster_url, timeout_s=RELOAD_TIMEOUT_S).reload()
    except DagsterUnavailableError as exc:
        click.echo(
            f"Dagster was not reloaded ({exc.reason}); the change is saved and shows in "
            "Dagster when it loads the code location again (at its start, or Deployment → "
            "Reload in its UI).",
            err=True,
        )
        return
    click.echo(f"Reloaded Dagster's code location ({settings.dagster_url}).")


# A reload of a large code location takes seconds; a webserver that does not answer in
# this time is reported, and the change is kept either way.
RELOAD_TIMEOUT_S = 60.0


def _fail(message: str) -> None:
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(1)


def handle_errors(fn: F) -> F:
    """Turn platform errors into a one-line message and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PlatformError as exc:
            _fail(str(exc))

    return wrapper  # type: ignore[return-value]


def read_config_file(path: str) -> dict[str, Any]:
    """A config from a JSON or YAML file, or from standard input with ``-``."""
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_CONFIG_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise PlatformError(
                f"{path} is larger than {MAX_CONFIG_BYTES // 1024} KiB",
                "A config holds a few settings: check that this is the right file.",
            )
        text = raw.decode("utf-8")
    except OSError as exc:
        raise PlatformError(f"Cannot read {path}: {exc.strerror}", "Check the path.") from None
    except UnicodeDecodeError:
        raise PlatformError(f"{path} is not UTF-8 text", "Save it as UTF-8.") from None
    try:
        data = yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise PlatformError(
            f"{path} is neither valid JSON nor YAML{where}", "Fix its syntax."
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PlatformError(
            f"{path} must hold a mapping of setting names to values",
            'Write it like {"client_id": "...", "client_secret": "..."}.',
        )
    return data


def _streams(value: str | None) -> list[StreamSelection] | None:
    if value is None:
        return None
    return [StreamSelection.parse(p) for p in value.split(",") if p.strip()]


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Manage the platform's integrations: connectors, configs, keys and syncs."""


@main.command("catalog")
@click.argument("query", required=False)
@click.option("--category", help="Only connectors of this category.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def catalog_cmd(query: str | None, category: str | None, as_json: bool) -> None:
    """List the connectors, optionally matching QUERY."""
    catalog = load_catalog(get_settings().catalog_dir)
    found = catalog.search(query, category)
    if as_json:
        _print_json(
            [
                {
                    "id": c.id,
                    "label": c.label,
                    "category": c.category,
                    "description": c.description,
                    "streams": [s.name for s in c.streams],
                }
                for c in found
            ]
        )
        return
    for c in found:
        click.echo(f"{c.id:<12} {c.label:<14} {c.category:<10} {c.description}")


@main.command()
@click.argument("connector")
@click.argument("name")
@click.option("--config", "config_path", required=True, help="JSON or YAML file; - for stdin.")
@click.option("--streams", help="Comma-separated streams, each NAME or NAME:REPLICATION_KEY.")
@click.option("--schedule", help="Cron expression (UTC); default: the connector's.")
@click.option("--start-date", help="Sync records from this date (ISO 8601).")
@click.option(
    "--destination",
    type=click.Choice(["jsonl", "postgres"]),
    default="jsonl",
    show_default=True,
)
@click.option("--disabled", is_flag=True, help="Create it disabled (no assets, no schedule).")
@handle_errors
def add(
    connector: str,
    name: str,
    config_path: str,
    streams: str | None,
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
        streams=_streams(streams),
        schedule=schedule,
        start_date=start_date,
        destination=destination,
        enabled=not disabled,
    )
    click.echo(f"Added {view.connector} integration '{view.name}' ({len(view.streams)} streams).")
    if view.enabled:
        reload_dagster(settings)


@main.command("list")
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
    for v in views:
        state = "enabled" if v.enabled else "disabled"
        streams = ",".join(s["name"] for s in v.streams)
        click.echo(f"{v.name:<24} {v.connector:<12} {state:<9} {v.schedule:<14} {streams}")


@main.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def show(name: str, as_json: bool) -> None:
    """Show integration NAME; secrets only as set / not set."""
    data = build_service(get_settings()).show(name).as_dict()
    if as_json:
        _print_json(data)
        return
    for key, value in data.items():
        if isinstance(value, dict | list):
            click.echo(f"{key}:")
            dumped = yaml.safe_dump(value, sort_keys=False, default_flow_style=False).rstrip()
            click.echo("\n".join(f"  {line}" for line in dumped.splitlines()))
        else:
            click.echo(f"{key}: {value}")


@main.command()
@click.argument("name")
@click.option("--config", "config_path", help="JSON or YAML file; - for stdin.")
@click.option("--streams", help="Comma-separated streams, each NAME or NAME:REPLICATION_KEY.")
@click.option("--schedule", help="Cron expression (UTC).")
@click.option("--start-date", help="Sync records from this date (ISO 8601).")
@click.option("--destination", type=click.Choice(["jsonl", "postgres"]))
@handle_errors
def update(
    name: str,
    config_path: str | None,
    streams: str | None,
    schedule: str | None,
    start_date: str | None,
    destination: str | None,
) -> None:
    """Change integration NAME. Settings left out, and blank secrets, keep their value."""
    config = read_config_file(config_path) if config_path else None
    settings = get_settings()
    view = build_service(settings).update(
        name,
        config,
        streams=_streams(streams),
        schedule=schedule,
        start_date=start_date,
        destination=destination,
    )
    click.echo(f"Updated '{view.name}' (version {view.version}).")
    if view.enabled:
        reload_dagster(settings)


@main.command()
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


@main.command()
@click.argument("name")
@handle_errors
def enable(name: str) -> None:
    """Enable integration NAME (its assets and schedule come back)."""
    settings = get_settings()
    build_service(settings).set_enabled(name, True)
    click.echo(f"Enabled '{name}'.")
    reload_dagster(settings)


@main.command()
@click.argument("name")
@handle_errors
def disable(name: str) -> None:
    """Disable integration NAME (its assets and schedule go away; config is kept)."""
    settings = get_settings()
    build_service(settings).set_enabled(name, False)
    click.echo(f"Disabled '{name}'.")
    reload_dagster(settings)


@main.command()
def keygen() -> None:
    """Print a new encryption key for INTEGRATIONS_ENCRYPTION_KEYS."""
    click.echo(generate_key())


@main.command("key-fingerprints")
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


@main.command("rotate-keys")
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


@main.command("meltano-yml")
@click.option("--write", is_flag=True, help="Write meltano/meltano.yml.")
@click.option("--check", is_flag=True, help="Exit 1 if meltano.yml differs from the catalog.")
@handle_errors
def meltano_yml(write: bool, check: bool) -> None:
    """Render the Meltano project's plugin declarations from the catalog."""
    from integrations_platform.runner.meltano_project import render_meltano_project

    settings = get_settings()
    text = render_meltano_project(load_catalog(settings.catalog_dir))
    path = settings.meltano_project_dir / "meltano.yml"
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            _fail(f"{path} is out of date with the catalog; run `integrations meltano-yml --write`")
        click.echo(f"{path} matches the catalog.")
    elif write:
        path.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {path}.")
    else:
        click.echo(text, nl=False)


@main.command("dagster-yaml")
@click.option("--write", "write_to", type=click.Path(dir_okay=False), help="Write it to this file.")
@click.option("--check", is_flag=True, help="Exit 1 if the project's dagster.yaml differs.")
@handle_errors
def dagster_yaml(write_to: str | None, check: bool) -> None:
    """Render the Dagster instance configuration (dagster.yaml) for this environment.

    Storage follows INTEGRATIONS_POSTGRES_URL / INTEGRATIONS_DAGSTER_DATABASE_URL, the run
    queue INTEGRATIONS_MAX_CONCURRENT_RUNS, the run launcher INTEGRATIONS_RUN_LAUNCHER
    (default or docker). With --check, compare with the project's embedded default.
    """
    from integrations_platform.orchestration.run_queue import render_dagster_yaml
    from integrations_platform.settings import PROJECT_ROOT

    text = render_dagster_yaml(get_settings(), os.environ)
    if check:
        path = PROJECT_ROOT / "dagster.yaml"
        if path.read_text(encoding="utf-8") != text:
            _fail(
                f"{path} differs from the rendering; run `integrations dagster-yaml --write {path}`"
            )
        click.echo(f"{path} matches the rendering.")
    elif write_to:
        Path(write_to).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {write_to}.")
    else:
        click.echo(text, nl=False)


@main.command()
@handle_errors
def migrate() -> None:
    """Prepare the databases: schemas, the config store's migrations, Dagster's storage
    (in DAGSTER_HOME) and the run queue's per-connector limits. Safe to repeat."""
    from integrations_platform.deployment import migrate_everything

    environ = dict(os.environ)
    report = migrate_everything(get_settings(), environ)
    click.echo(f"Config store:   {report.config_store} (migrated)")
    click.echo(f"Meltano state:  {report.meltano} (schema ready; Meltano migrates it on use)")
    click.echo(f"Dagster:        {report.dagster_home / 'dagster.yaml'} (storage migrated)")
    limits = ", ".join(f"{p} ≤ {n}" for p, n in sorted(report.pool_limits.items())) or "none"
    click.echo(f"Run queue:      one run per integration; connector limits: {limits}")


@main.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@handle_errors
def exec_command(command: tuple[str, ...]) -> None:
    """Run COMMAND with the variables the settings derive (e.g. Dagster's database URL
    from INTEGRATIONS_POSTGRES_URL) exported: `integrations exec -- dagster-daemon run`."""
    import shutil

    from integrations_platform.deployment import export_derived

    # The project's own commands live beside this interpreter, on PATH or not.
    executable = shutil.which(command[0]) or shutil.which(
        command[0], path=str(Path(sys.executable).parent)
    )
    if executable is None:
        raise PlatformError(f"Command not found: {command[0]}", "Check the command and PATH.")
    environ = dict(os.environ)
    export_derived(get_settings(), environ)
    os.execve(executable, list(command), environ)


@main.command("test")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def test_cmd(name: str, as_json: bool) -> None:
    """Test integration NAME's connection (exit 1 when it fails)."""
    from integrations_platform.runner.connection_test import test_connection

    settings = get_settings()
    service = build_service(settings)
    stored = service.get(name)
    connector = service.catalog.get(stored.connector)
    result = test_connection(connector, service.decrypted_config(stored), settings, os.environ)
    if as_json:
        _print_json(result.as_dict())
    else:
        mark = "ok" if result.ok else f"failed ({result.reason})"
        click.echo(f"{name}: {mark} in {result.duration_s:.2f}s. {result.message}")
        if result.hint:
            click.echo(f"hint: {result.hint}")
    if not result.ok:
        sys.exit(1)


@main.command()
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
    from integrations_platform.orchestration.assets import partition_key_range
    from integrations_platform.orchestration.client import DagsterClient
    from integrations_platform.orchestration.snapshot import IntegrationSnapshot

    settings = get_settings()
    service = build_service(settings)
    stored = service.get(name)
    chosen = [s.strip() for s in streams.split(",") if s.strip()] if streams else None
    unknown = sorted(set(chosen or []) - set(stored.stream_names))
    if unknown:
        known = ", ".join(stored.stream_names)
        _fail(f"'{name}' does not sync {', '.join(unknown)}; it syncs {known}")
    if (from_date is None) != (to_date is None):
        _fail("give both --from and --to for a backfill")
    if from_date and full_refresh:
        _fail("--full-refresh does not apply to a backfill, which never reads the bookmark")
    partitions = None
    if from_date and to_date:
        connector = service.catalog.get(stored.connector)
        snapshot = IntegrationSnapshot.from_stored(stored)
        partitions = partition_key_range(snapshot, connector, from_date, to_date)
    run_id = DagsterClient(settings.dagster_url).launch_sync(
        name, chosen, full_refresh=full_refresh, partition_range=partitions
    )
    what = f" (partitions {partitions[0]}…{partitions[1]})" if partitions else ""
    click.echo(f"Launched run {run_id}{what}: {settings.dagster_url}/runs/{run_id}")


@main.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def state(name: str, as_json: bool) -> None:
    """Show NAME's incremental bookmarks and the history of their resets."""
    from integrations_platform.state_service import integration_state

    data = integration_state(build_service(get_settings()), get_settings(), os.environ, name)
    if as_json:
        _print_json(data)
        return
    for stream, bookmark in sorted(data["bookmarks"].items()):
        click.echo(f"{stream:<24} {json.dumps(bookmark)}")
    if not data["bookmarks"]:
        click.echo("No bookmark: the next sync starts from the start date.")
    for reset in data["resets"]:
        click.echo(f"reset {reset['stream'] or 'all streams'} by {reset['actor']} at {reset['at']}")


@main.command()
@click.argument("name")
@click.option("--stream", help="Reset only this stream (default: every stream).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def reset(name: str, stream: str | None, yes: bool) -> None:
    """Clear NAME's incremental bookmark: the next sync starts from the start date."""
    import getpass

    from integrations_platform.state_service import reset_integration_state

    settings = get_settings()
    service = build_service(settings)
    service.get(name)
    what = f"stream '{stream}' of '{name}'" if stream else f"every stream of '{name}'"
    if not yes and not click.confirm(
        f"Clear the bookmark of {what}? The next sync re-reads it all"
    ):
        _fail("not reset")
    record = reset_integration_state(
        service, settings, os.environ, name, stream=stream, actor=f"cli:{getpass.getuser()}"
    )
    click.echo(f"Reset {what} (recorded at {record['at']}).")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--dev", is_flag=True, help="Development mode: no token required.")
@handle_errors
def api(host: str, port: int, dev: bool) -> None:
    """Serve the config API (token from INTEGRATIONS_API_TOKEN; docs at /docs)."""
    import uvicorn

    from integrations_platform.api import create_app

    app = create_app(dev_mode=dev)
    click.echo(f"API on http://{host}:{port} (OpenAPI docs: http://{host}:{port}/docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--dagster-port", default=3000, show_default=True, type=int)
@click.option("--api-port", default=8000, show_default=True, type=int)
@click.option("--sandbox-port", default=8765, show_default=True, type=int)
@click.option("--no-demo", is_flag=True, help="No Salesforce sandbox and no demo integration.")
@handle_errors
def up(host: str, dagster_port: int, api_port: int, sandbox_port: int, no_demo: bool) -> None:
    """Set up the embedded defaults and start the product (Dagster UI and daemon).

    Creates INTEGRATIONS_HOME (default ./.integrations) with a SQLite config store and
    an encryption key (unless INTEGRATIONS_ENCRYPTION_KEYS is set), installs the Meltano
    plugins, starts the local Salesforce sandbox with a demo integration, and runs
    `dagster dev` on this project's workspace.
    """
    from integrations_platform.launcher import UpOptions, run_up

    sys.exit(run_up(UpOptions(host, dagster_port, api_port, sandbox_port, demo=not no_demo)))


# -- notifications -----------------------------------------------------------------


@main.group("notifications")
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
    from integrations_platform.notifications.checks import find_misconfigurations

    settings = get_settings()
    service = build_service(settings)
    notes = _notifications(settings)
    stored = service.store.list_all()
    try:
        keyring: KeyRing | None = service.keyring
    except PlatformError:
        keyring = None
    found = find_misconfigurations(service.catalog, stored, keyring, notes.settings.settings_url)
    notes.sync_misconfigurations(found, [s.name for s in stored])
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


main.add_command(doctor_command)


if __name__ == "__main__":  # pragma: no cover
    main()
