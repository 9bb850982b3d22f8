"""``integrations up``: set up the embedded defaults and start the product.

Everything runs on one machine: SQLite for the config store, Dagster and Meltano's
state; the Salesforce sandbox stands in for Salesforce so the demo integration syncs
offline. Nothing here is needed in production, where each piece is run on its own.
"""

import compileall
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from integrations_platform.catalog import load_catalog
from integrations_platform.catalog.validation import parse_datetime
from integrations_platform.databases import redacted
from integrations_platform.deployment import prepare_dagster_home
from integrations_platform.errors import IntegrationNotFoundError, PlatformError
from integrations_platform.runner.processes import stop_process_group
from integrations_platform.sandbox import SalesforceSandbox, SandboxCredentials
from integrations_platform.service import IntegrationService
from integrations_platform.settings import (
    ENV_API_TOKEN,
    ENV_DAGSTER_URL,
    ENV_ENCRYPTION_KEYS,
    ENV_HOME,
    PROJECT_ROOT,
    Settings,
)
from integrations_platform.store import ConfigStore, KeyRing, generate_key
from integrations_platform.supervisor import Supervisor
from integrations_platform.web.build import build_page

DEMO_INTEGRATION = "demo_salesforce"
# How many days before the first `up` the demo's data (and start date) begins.
DEMO_DAYS = 14
SANDBOX_LOGIN_ENV = "INTEGRATIONS_SALESFORCE_LOGIN_URL"


@dataclass(frozen=True)
class UpOptions:
    """What ``integrations up`` starts, and where."""

    host: str = "127.0.0.1"
    dagster_port: int = 3000
    api_port: int = 8000
    sandbox_port: int = 8765
    demo: bool = True


def ensure_key(settings: Settings, environ: dict[str, str]) -> None:
    """Use the configured keys, or create the embedded setup's key file once.

    A key is never created over a store that holds encrypted rows: they were made with
    another key, which must be restored, not replaced.
    """
    store = ConfigStore.open(settings.database_url)
    try:
        needed = store.key_fingerprints()
    finally:
        store.close()
    if environ.get(ENV_ENCRYPTION_KEYS, "").strip():
        _warn_unknown_fingerprints(KeyRing.from_env(environ), needed)
        return
    if not settings.key_file.exists():
        if needed:
            known = sorted(fp for fp in needed if fp)
            expected = (
                f"its fingerprint is {', '.join(known)}"
                if known
                else "it was saved before fingerprints were recorded"
            )
            raise PlatformError(
                f"The config store {redacted(settings.database_url)} holds "
                f"{sum(needed.values())} encrypted integration(s), but the key file "
                f"{settings.key_file} is missing and {ENV_ENCRYPTION_KEYS} is not set; a new "
                "key would leave every one of them unreadable",
                f"Restore the key file from your backup ({expected}; "
                "`integrations key-fingerprints` prints a key's), or set "
                f"{ENV_ENCRYPTION_KEYS}. Nothing was changed.",
            )
        settings.key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(settings.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(generate_key())
        click.echo(
            f"Created an encryption key in {settings.key_file} (readable by you only). "
            f"In production set {ENV_ENCRYPTION_KEYS} instead."
        )
    environ[ENV_ENCRYPTION_KEYS] = settings.key_file.read_text(encoding="ascii").strip()
    _warn_unknown_fingerprints(KeyRing.from_env(environ), needed)


def _warn_unknown_fingerprints(keyring: KeyRing, needed: Mapping[str | None, int]) -> None:
    missing = {fp: n for fp, n in needed.items() if fp and fp not in keyring.fingerprints}
    if missing:
        listed = ", ".join(f"{n} with key {fp}" for fp, n in sorted(missing.items()))
        click.echo(
            f"Warning: some integrations were saved with a key that is not configured "
            f"({listed}); they cannot sync until that key is added to "
            f"{ENV_ENCRYPTION_KEYS}, or they are repaired by entering their config again.",
            err=True,
        )


def ensure_api_token(settings: Settings, environ: dict[str, str]) -> Path | None:
    """Use INTEGRATIONS_API_TOKEN, or create the embedded setup's token file once."""
    if environ.get(ENV_API_TOKEN, "").strip():
        return None
    path = settings.home / "api-token"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(32))
    environ[ENV_API_TOKEN] = path.read_text(encoding="ascii").strip()
    return path


def first_admin_link(settings: Settings, base_url: str) -> tuple[str, str]:
    """The first admin (created, password-less, when nobody exists yet) and a one-time
    sign-in link for them, printed by ``up`` as a notebook server prints its token URL."""
    from integrations_platform.cli.people import sign_in_url
    from integrations_platform.people import Accounts

    store = ConfigStore.open(settings.database_url)
    try:
        accounts = Accounts(store)
        name = accounts.ensure_first_admin()
        return name, sign_in_url(accounts.create_link(name), base_url)
    finally:
        store.close()


def install_plugins(
    settings: Settings, environ: Mapping[str, str], names: Sequence[str] = ()
) -> None:
    """Install the Meltano plugins (from PyPI; already installed ones are skipped), or
    only those called ``names``."""
    if names:
        click.echo(f"Installing {', '.join(names)} ...")
    else:
        click.echo("Installing Meltano plugins (first time: about a minute)...")
    env = {
        **environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        # No request to PyPI for a newer Meltano (offline deployments).
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        "MELTANO_DATABASE_URI": settings.meltano_database_uri,
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "meltano"), "install", *names],
        cwd=settings.meltano_project_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise PlatformError(
            "Installing the Meltano plugins failed:\n" + result.stderr[-2000:],
            "Check that PyPI is reachable, then run `integrations up` again.",
        )
    compile_bytecode(settings.meltano_project_dir, names)


def compile_bytecode(meltano_project_dir: Path, names: Sequence[str] = ()) -> None:
    """Compile every plugin's Python files, and the platform's, ahead of time.

    Meltano installs plugins with uv, which writes no bytecode; where Python may not
    write it either (``PYTHONDONTWRITEBYTECODE``, common in container images) every tap
    and target start compiles its libraries again: about a second of CPU per process,
    per sync. Compiled once here, a run reads the cached bytecode. Already compiled files
    are only checked (a fraction of a second per plugin). With ``names``, only those
    plugins (just installed) are compiled.
    """
    venvs = sorted((meltano_project_dir / ".meltano").glob("*/*/venv"))
    if names:
        venvs = [v for v in venvs if v.parent.name in names]
    for venv in venvs:
        python = venv / "bin" / "python"
        if not python.exists():
            continue
        result = subprocess.run(
            [str(python), "-m", "compileall", "-q", "-j", "0", str(venv / "lib")],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if result.returncode != 0:
            # A file that does not compile (a plugin's test data, say) is never
            # imported, so it costs nothing at run time: say so and go on.
            click.echo(f"Some files of the plugin in {venv.parent} were not compiled.")
    package = Path(__file__).resolve().parent
    for folder, children, files in os.walk(package):
        children[:] = [c for c in children if c not in {"node_modules", "__pycache__"}]
        for name in files:
            if name.endswith(".py"):
                compileall.compile_file(str(Path(folder) / name), quiet=2)


def demo_service(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> IntegrationService:
    """The service over the embedded store, for the demo's set-up."""
    return IntegrationService(
        load_catalog(settings.catalog_dir),
        ConfigStore.open(settings.database_url),
        lambda: KeyRing.from_env(os.environ),
        settings=settings,
        environ=environ if environ is not None else os.environ,
    )


def demo_start(settings: Settings, today: date | None = None) -> datetime:
    """Where the demo's data starts: the demo integration's start date once it exists,
    else midnight UTC ``DEMO_DAYS`` days ago — recent, so that Dagster's partition dialog
    (which shows the last 90 days) offers every day of it, and few days, so that loading
    them all is one quick run."""
    try:
        return parse_datetime(demo_service(settings).get(DEMO_INTEGRATION).start_date)
    except IntegrationNotFoundError:
        day = (today or datetime.now(UTC).date()) - timedelta(days=DEMO_DAYS)
        return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def ensure_demo(
    settings: Settings,
    sandbox: SalesforceSandbox,
    start: datetime,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Create the demo Salesforce integration against the sandbox, once, and discover
    the sandbox's org for it (so that its syncs do not describe 300 objects each)."""
    service = demo_service(settings, environ)
    try:
        service.get(DEMO_INTEGRATION)
        return
    except IntegrationNotFoundError:
        pass
    creds = sandbox.credentials
    service.add(
        "salesforce",
        DEMO_INTEGRATION,
        {
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
            "instance_url": sandbox.url,
        },
        start_date=start.date().isoformat(),
        description="Demo: the local Salesforce sandbox, synced into JSON Lines files.",
    )
    click.echo(f"Created the demo integration '{DEMO_INTEGRATION}'.")
    found = service.discover(DEMO_INTEGRATION)
    click.echo(f"{DEMO_INTEGRATION}: {found.outcome.message}")


def run_up(options: UpOptions) -> int:
    """Set everything up, start Dagster (webserver and daemon), wait for Ctrl-C."""
    # Started in the background by a script, a process inherits SIGINT ignored, and so
    # would every child: take Ctrl-C back, so that `up` and its children stop on it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    environ = dict(os.environ)
    environ.setdefault(ENV_HOME, str(Path.cwd() / ".integrations"))
    settings = Settings.from_env(environ)
    settings.home.mkdir(parents=True, exist_ok=True)
    # First: one `up` per home, and whatever this one starts stops with it.
    supervisor = Supervisor(settings.home)
    supervisor.start(environ)
    try:
        return _run_up(options, settings, environ)
    finally:
        supervisor.stop()


def _run_up(options: UpOptions, settings: Settings, environ: dict[str, str]) -> int:
    ensure_key(settings, environ)
    os.environ[ENV_ENCRYPTION_KEYS] = environ[ENV_ENCRYPTION_KEYS]
    install_plugins(settings, environ)
    build_page(log=click.echo)

    sandbox: SalesforceSandbox | None = None
    if options.demo:
        start = demo_start(settings)
        sandbox = SalesforceSandbox(
            SandboxCredentials(),
            host=options.host,
            port=options.sandbox_port,
            start=start,
            org="full",
        ).start()
        environ.setdefault(SANDBOX_LOGIN_ENV, sandbox.url)
        click.echo(f"Salesforce sandbox: {sandbox.url} ({len(sandbox.object_names)} objects)")
        ensure_demo(settings, sandbox, start, environ)

    dagster_home, pool_limits = prepare_dagster_home(settings, environ)
    if pool_limits:
        limits = ", ".join(f"{pool} ≤ {n}" for pool, n in sorted(pool_limits.items()))
        click.echo(f"Run queue: one run per integration; {limits}.")
    dagster_url = f"http://{options.host}:{options.dagster_port}"
    environ.setdefault(ENV_DAGSTER_URL, dagster_url)
    token_file = ensure_api_token(settings, environ)
    bin_dir = Path(sys.executable).parent
    api_command = [
        str(bin_dir / "integrations"),
        "api",
        "--host",
        options.host,
        "--port",
        str(options.api_port),
    ]
    processes = [
        start_dagster_dev(environ, options.host, options.dagster_port),
        subprocess.Popen(api_command, env=environ, cwd=PROJECT_ROOT, start_new_session=True),
    ]
    api_url = f"http://{options.host}:{options.api_port}"
    token_hint = (
        f'-H "Authorization: Bearer $(cat {token_file})"'
        if token_file
        else f'-H "Authorization: Bearer ${ENV_API_TOKEN}"'
    )
    admin, link = first_admin_link(settings, api_url)
    click.echo(
        f"\nDagster UI:  {dagster_url}  (DAGSTER_HOME={dagster_home})\n"
        f"Config API:  {api_url}/docs   e.g. curl {token_hint} {api_url}/api/v1/integrations\n"
        f"Wizard page: {api_url}/   sign in as '{admin}' with this one-time link "
        "(valid 12 hours; `integrations users link NAME` prints another):\n"
        f"    {link}\n"
        f"Integrations: `integrations list`; synced files land in {settings.output_dir}.\n"
        "Press Ctrl-C to stop.\n"
    )

    def _stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    names = {processes[0].pid: "dagster dev", processes[1].pid: "the config API"}
    signal.signal(signal.SIGTERM, _stop)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        failed = next(p for p in processes if p.poll() is not None)
        click.echo(f"{names[failed.pid]} exited with {failed.returncode}; stopping.", err=True)
        return failed.returncode or 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes:
            stop_group(process)
        if sandbox is not None:
            sandbox.stop()


def start_dagster_dev(
    environ: Mapping[str, str], host: str, port: int, **popen: Any
) -> subprocess.Popen[bytes]:
    """``dagster dev`` (webserver, daemon, code server) on the project's workspace, in
    its own process group; stop it with :func:`stop_group`."""
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "dev",
        "-w",
        str(PROJECT_ROOT / "workspace.yaml"),
        "-h",
        host,
        "-p",
        str(port),
    ]
    return subprocess.Popen(
        command, env=dict(environ), cwd=PROJECT_ROOT, start_new_session=True, **popen
    )


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Interrupt a process group (as Ctrl-C would); kill it if it has not stopped in 30 s."""
    stop_process_group(process, grace_s=30.0, first=signal.SIGINT)
