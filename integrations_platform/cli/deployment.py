"""Setting up and running: meltano-yml, dagster-yaml, migrate, exec, api, up."""

import os
import sys
from pathlib import Path

import click

from integrations_platform.catalog import load_catalog
from integrations_platform.cli.support import (
    _fail,
    handle_errors,
)
from integrations_platform.errors import PlatformError
from integrations_platform.settings import get_settings


@click.command("meltano-yml")
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


@click.command("dagster-yaml")
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


@click.command()
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


@click.command("exec", context_settings={"ignore_unknown_options": True})
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


@click.command()
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


@click.command()
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
