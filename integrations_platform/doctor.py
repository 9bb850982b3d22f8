"""``integrations doctor``: check a deployment's configuration and say what to fix.

One result per check: ``ok``, ``warn`` or ``fail``, what was found, and the exact fix.
The checks only read: nothing is created, migrated or written (the fix for most
problems is ``integrations migrate``, which does that). Every connection is bounded by a
short timeout, so the doctor answers even when a server is down or unreachable.

What is checked, in order: the settings, the config store, the encryption keys
(against every stored integration), Meltano's system database, the Meltano plugins,
the connector catalog, DAGSTER_HOME's ``dagster.yaml`` against the settings, Dagster's
storage, the run queue's pool limits, the run launcher's variables, and the Dagster
webserver. A check that needs an earlier one which failed says "not checked" (a
warning). Passwords in URLs are never printed, nor any key or stored value.

An unreachable Dagster webserver is a failure, not a warning: the API and the CLI's
``sync`` need it, so a deployment without it is not working. Run the doctor where the
deployment's variables are set (in the compose recipe: ``docker compose exec api
integrations doctor``).
"""

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url

from integrations_platform.databases import redacted, search_path_schema
from integrations_platform.errors import PlatformError
from integrations_platform.runner.redaction import Redactor
from integrations_platform.settings import (
    ENV_CATALOG_DIR,
    ENV_DAGSTER_DATABASE_URL,
    ENV_DAGSTER_URL,
    ENV_DATABASE_URL,
    ENV_ENCRYPTION_KEYS,
    ENV_MELTANO_DATABASE_URI,
    ENV_MELTANO_PROJECT,
    ENV_POSTGRES_URL,
    Settings,
)

if TYPE_CHECKING:
    import dagster as dg

    from integrations_platform.catalog import Catalog
    from integrations_platform.store import StoredIntegration

Status = Literal["ok", "warn", "fail"]
DEFAULT_TIMEOUT_S = 5.0
MIGRATE = "Run `integrations migrate`."
# The tables Dagster's storage has once `integrations migrate` prepared it.
_DAGSTER_TABLES = ("runs", "event_logs", "alembic_version")
_LOCATION_NAME = "integrations"
_GRAPHQL_QUERY = """
query Doctor {
  version
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
    ... on PythonError { message }
  }
}"""


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    status: Status
    found: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        """The check as JSON-ready data."""
        return {"name": self.name, "status": self.status, "found": self.found, "fix": self.fix}

    def format(self) -> str:
        """One line: status, name, what was found, and the fix when there is one."""
        label = "FAIL" if self.status == "fail" else self.status
        line = f"{label:<5} {self.name:<17} {self.found}"
        return f"{line} Fix: {self.fix}" if self.fix else line


@dataclass(frozen=True)
class DoctorReport:
    """Every check's outcome, in the order they ran."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """No check failed (warnings allowed)."""
        return all(c.status != "fail" for c in self.checks)

    def count(self, status: Status) -> int:
        """How many checks ended with ``status``."""
        return sum(1 for c in self.checks if c.status == status)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {"ok": self.ok, "checks": [c.as_dict() for c in self.checks]}


def run_doctor(environ: Mapping[str, str], *, timeout_s: float = DEFAULT_TIMEOUT_S) -> DoctorReport:
    """Run every check against the deployment ``environ`` describes.

    >>> report = run_doctor(os.environ)  # doctest: +SKIP
    >>> [c.name for c in report.checks if c.status == "fail"]  # doctest: +SKIP
    ['dagster webserver']
    """
    env = dict(environ)
    try:
        settings = Settings.from_env(env)
    except PlatformError as exc:
        return DoctorReport((Check("settings", "fail", exc.reason, exc.instruction),))
    # The URLs the settings derive (INTEGRATIONS_POSTGRES_URL → Dagster, Meltano), as
    # `integrations exec` exports them to the processes that read them by name.
    from integrations_platform.deployment import export_derived

    export_derived(settings, env)
    doctor = _Doctor(settings, env, dict(environ), timeout_s)
    checks = doctor.run()
    scrub = _scrubber(settings, env)
    return DoctorReport(
        tuple(Check(c.name, c.status, scrub(c.found), scrub(c.fix)) for c in checks)
    )


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--timeout",
    "timeout_s",
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    type=click.FloatRange(0.5, 60),
    help="Seconds each connection may take.",
)
def doctor_command(as_json: bool, timeout_s: float) -> None:
    """Check the configuration (databases, keys, plugins, Dagster) and say what to fix.

    Exit 1 when a check fails; warnings alone exit 0.
    """
    import json

    report = run_doctor(os.environ, timeout_s=timeout_s)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for check in report.checks:
            click.echo(check.format())
        click.echo(
            f"{len(report.checks)} checks: {report.count('ok')} ok, "
            f"{report.count('warn')} warning(s), {report.count('fail')} failed."
        )
    sys.exit(0 if report.ok else 1)


# -- the checks ------------------------------------------------------------------------


@dataclass
class _Doctor:
    settings: Settings
    environ: dict[str, str]  # with the derived URLs, as the Dagster processes see it
    given: dict[str, str]  # as given: which variables the operator set
    timeout_s: float
    stored: "list[StoredIntegration] | None" = None
    catalog: "Catalog | None" = None
    dagster_yaml: dict[str, Any] | None = None
    instance: "dg.DagsterInstance | None" = None
    checks: list[Check] = field(default_factory=list)

    def run(self) -> list[Check]:
        steps: list[tuple[str, Callable[[], Check]]] = [
            ("config store", self.config_store),
            ("encryption keys", self.encryption_keys),
            ("meltano state", self.meltano_state),
            ("connector catalog", self.connector_catalog),
            ("meltano plugins", self.meltano_plugins),
            ("dagster.yaml", self.dagster_home),
            ("dagster storage", self.dagster_storage),
            ("run queue", self.run_queue),
            ("run launcher", self.run_launcher),
            ("dagster webserver", self.dagster_webserver),
        ]
        try:
            for name, step in steps:
                try:
                    check = step()
                except PlatformError as exc:
                    check = Check(name, "fail", exc.reason, exc.instruction)
                except Exception as exc:  # a check must report, never crash the doctor
                    check = Check(
                        name,
                        "fail",
                        f"the check itself failed: {type(exc).__name__}: {_first_line(exc)}",
                        "Fix the problems reported above, then run `integrations doctor` again.",
                    )
                if check.name:  # an empty name: not applicable here
                    self.checks.append(check)
        finally:
            if self.instance is not None:
                self.instance.dispose()
        return self.checks

    # -- config store

    def config_store(self) -> Check:
        name = "config store"
        url = self.settings.database_url
        source = _url_source(self.given, ENV_DATABASE_URL)
        problem = _unreachable(url, self.timeout_s)
        if problem is not None:
            return Check(name, "fail", problem, _reach_fix(url, source))
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from alembic.script.revision import ResolutionError
        from alembic.util import CommandError

        from integrations_platform.store import ConfigStore
        from integrations_platform.store.repository import MIGRATIONS_DIR

        script = ScriptDirectory(str(MIGRATIONS_DIR))
        head = script.get_current_head()
        engine = _engine(url, self.timeout_s)
        try:
            with engine.connect() as connection:
                missing = _missing_schema(connection, url)
                if missing:
                    return Check(name, "fail", f"{redacted(url)}: {missing}", MIGRATE)
                current = MigrationContext.configure(connection).get_current_revision()
            if current is None:
                return Check(
                    name, "fail", f"{redacted(url)}: no tables yet (not migrated)", MIGRATE
                )
            if current != head:
                try:
                    script.get_revision(current)
                except (CommandError, ResolutionError):
                    return Check(
                        name,
                        "fail",
                        f"{redacted(url)}: at revision {current}, which this release does not "
                        "know (a newer release migrated it)",
                        "Run the release the database was migrated with, or upgrade this one.",
                    )
                return Check(
                    name,
                    "fail",
                    f"{redacted(url)}: at revision {current}, this release needs {head}",
                    MIGRATE,
                )
            self.stored = ConfigStore(engine).list_all()
        finally:
            engine.dispose()
        return Check(
            name,
            "ok",
            f"{redacted(url)}: migrated (revision {head}), "
            f"{len(self.stored)} integration(s) stored",
        )

    # -- keys

    def encryption_keys(self) -> Check:
        from integrations_platform.errors import DecryptionError, EncryptionKeyError
        from integrations_platform.store import KeyRing

        name = "encryption keys"
        key_file = self.settings.key_file
        raw = self.environ.get(ENV_ENCRYPTION_KEYS, "").strip()
        if raw:
            source = ENV_ENCRYPTION_KEYS
        elif key_file.is_file():
            source = f"the key file {key_file}"
        else:
            saved = f" ({len(self.stored)} integration(s) are stored)" if self.stored else ""
            return Check(
                name,
                "fail",
                f"no key: {ENV_ENCRYPTION_KEYS} is not set and there is no key file at "
                f"{key_file}{saved}",
                f"Set {ENV_ENCRYPTION_KEYS} to the key(s) the configs were saved with "
                "(a new deployment: create one with `integrations keygen`).",
            )
        try:
            keyring = KeyRing.from_settings(self.environ, key_file)
        except EncryptionKeyError as exc:
            return Check(name, "fail", f"{exc.reason} (from {source})", exc.instruction)
        count = len([k for k in (raw or key_file.read_text("ascii")).split(",") if k.strip()])
        keys = f"{count} well-formed key(s) from {source}"
        if self.stored is None:
            return Check(
                name,
                "warn",
                f"{keys}; the stored configs were not checked (the config store is not ready)",
                "Fix the config store first.",
            )
        wrong_key: list[str] = []
        copied: list[str] = []
        old_key: list[str] = []
        for stored in self.stored:
            try:
                keyring.decrypt(stored.id, stored.name, stored.config_ciphertext)
            except DecryptionError:
                try:
                    keyring.rotate(stored.config_ciphertext)
                except DecryptionError:
                    wrong_key.append(stored.name)
                else:
                    copied.append(stored.name)
                continue
            if not keyring.is_primary(stored.config_ciphertext):
                old_key.append(stored.name)
        total = len(self.stored)
        if wrong_key or copied:
            found: list[str] = []
            fixes: list[str] = []
            if wrong_key:
                needed = sorted(
                    {s.key_fingerprint or "" for s in self.stored if s.name in wrong_key}
                    - {"", *keyring.fingerprints}
                )
                saved_with = f" (saved with key {', '.join(needed)})" if needed else ""
                found.append(
                    f"{len(wrong_key)} of {total} stored integration(s) cannot be decrypted "
                    f"with the {keys}: {', '.join(wrong_key)}{saved_with}"
                )
                fixes.append(
                    f"Put the key they were saved with after the current one "
                    f"({ENV_ENCRYPTION_KEYS}=<current key>,<old key>) and run "
                    "`integrations rotate-keys`; or repair each by entering its complete "
                    "config again: `integrations update NAME --config FILE`."
                )
            if copied:
                found.append(
                    f"the stored config of {', '.join(copied)} belongs to another integration "
                    "(copied between rows)"
                )
                fixes.append("Re-enter their config with `integrations update NAME --config FILE`.")
            return Check(name, "fail", "; ".join(found), " ".join(fixes))
        if old_key:
            return Check(
                name,
                "warn",
                f"{keys}; all {total} stored integration(s) decrypt, but {len(old_key)} still "
                f"use an older key: {', '.join(old_key)}",
                "Run `integrations rotate-keys` (re-encrypts with the first key), then the old "
                "key can be dropped.",
            )
        if not total:
            return Check(name, "ok", f"{keys}; no integration stored yet")
        return Check(name, "ok", f"{keys}; all {total} stored integration(s) decrypt")

    # -- Meltano

    def meltano_state(self) -> Check:
        name = "meltano state"
        url = self.settings.meltano_database_uri
        source = _url_source(self.given, ENV_MELTANO_DATABASE_URI)
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            path = Path(parsed.database)
            if not path.exists():
                parent = _existing_ancestor(path.parent)
                if os.access(parent, os.W_OK):
                    return Check(
                        name, "ok", f"{path}: not created yet; Meltano creates it on the first sync"
                    )
                return Check(
                    name,
                    "fail",
                    f"{path} does not exist and {parent} is not writable",
                    f"Make {parent} writable for the run workers, or set {source} elsewhere.",
                )
        problem = _unreachable(url, self.timeout_s)
        if problem is not None:
            return Check(name, "fail", problem, _reach_fix(url, source))
        engine = _engine(url, self.timeout_s)
        try:
            with engine.connect() as connection:
                missing = _missing_schema(connection, url)
                if missing:
                    return Check(name, "fail", f"{redacted(url)}: {missing}", MIGRATE)
                if "state" not in sa.inspect(connection).get_table_names():
                    return Check(
                        name,
                        "ok",
                        f"{redacted(url)}: reachable; Meltano creates its tables on the first sync",
                    )
                states = connection.execute(sa.text("SELECT count(*) FROM state")).scalar()
        finally:
            engine.dispose()
        return Check(name, "ok", f"{redacted(url)}: reachable, {states} incremental state(s)")

    def connector_catalog(self) -> Check:
        from integrations_platform.catalog import load_catalog

        name = "connector catalog"
        try:
            self.catalog = load_catalog(self.settings.catalog_dir)
        except PlatformError as exc:
            return Check(name, "fail", exc.reason, exc.instruction or f"Check {ENV_CATALOG_DIR}.")
        ids = ", ".join(c.id for c in self.catalog) or "none"
        return Check(
            name, "ok", f"{self.settings.catalog_dir}: {len(self.catalog)} connector(s) ({ids})"
        )

    def meltano_plugins(self) -> Check:
        from integrations_platform.runner.meltano import meltano_executable
        from integrations_platform.runner.meltano_project import render_meltano_project

        name = "meltano plugins"
        project = self.settings.meltano_project_dir
        meltano_yml = project / "meltano.yml"
        if not meltano_yml.is_file():
            return Check(
                name,
                "fail",
                f"no meltano.yml in {project}",
                f"Set {ENV_MELTANO_PROJECT} to the project's folder (the repository's "
                "meltano/), or write it there with `integrations meltano-yml --write`.",
            )
        if self.catalog is None:
            return Check(name, "warn", "not checked: the catalog did not load", "")
        # What the catalog and the destinations need: the rendering of meltano.yml.
        rendered = render_meltano_project(self.catalog)
        plugins = yaml.safe_load(rendered)["plugins"]
        needed = [
            (kind, plugin["name"], plugin["executable"])
            for kind in ("extractors", "loaders", "mappers")
            for plugin in plugins.get(kind, [])
        ]
        missing: list[str] = []
        for kind, plugin, executable in needed:
            problem = _plugin_problem(project / ".meltano" / kind / plugin / "venv", executable)
            if problem:
                missing.append(f"{plugin} ({problem})")
        stale = meltano_yml.read_text(encoding="utf-8") != rendered
        install = f"cd {project} && UV_PYTHON_DOWNLOADS=never {meltano_executable()} install"
        if missing:
            fix = f"`{install}`."
            if stale:
                fix = f"`integrations meltano-yml --write`, then {fix}"
            return Check(
                name,
                "fail",
                f"{len(missing)} of {len(needed)} plugins not installed in "
                f"{project / '.meltano'}: {', '.join(missing)}",
                fix,
            )
        if stale:
            return Check(
                name,
                "warn",
                f"all {len(needed)} plugins installed, but {meltano_yml} differs from the "
                "catalog's rendering",
                f"`integrations meltano-yml --write`, then `{install}`.",
            )
        return Check(name, "ok", f"all {len(needed)} plugins installed in {project / '.meltano'}")

    # -- Dagster

    def _dagster_home(self) -> tuple[Path, str]:
        explicit = self.environ.get("DAGSTER_HOME", "").strip()
        if explicit:
            return Path(explicit), "DAGSTER_HOME"
        return self.settings.dagster_home, "DAGSTER_HOME is unset; the embedded setup's"

    def dagster_home(self) -> Check:
        from integrations_platform.orchestration.run_queue import instance_config

        name = "dagster.yaml"
        home, origin = self._dagster_home()
        path = home / "dagster.yaml"
        if not path.is_file():
            return Check(
                name,
                "fail",
                f"no dagster.yaml in {home} ({origin})",
                "Set DAGSTER_HOME to the folder every Dagster process uses, then run "
                "`integrations migrate` (it writes dagster.yaml there).",
            )
        try:
            actual = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            return Check(name, "fail", f"{path} is not valid YAML: {_first_line(exc)}", MIGRATE)
        if not isinstance(actual, dict):
            return Check(name, "fail", f"{path} does not hold a mapping", MIGRATE)
        self.dagster_yaml = actual
        expected = instance_config(self.settings, self.environ)
        wants_postgres = "postgres" in (expected.get("storage") or {})
        has_postgres = "postgres" in (actual.get("storage") or {})
        if wants_postgres and not has_postgres:
            return Check(
                name,
                "fail",
                f"{path} keeps Dagster's storage in SQLite under DAGSTER_HOME, but the settings "
                f"put it on PostgreSQL ({redacted(self.settings.dagster_database_url or '')})",
                "Run `integrations migrate` (rewrites dagster.yaml and migrates the storage), "
                "then restart the Dagster processes.",
            )
        if has_postgres and not wants_postgres:
            return Check(
                name,
                "fail",
                f"{path} keeps Dagster's storage on PostgreSQL, but neither "
                f"{ENV_DAGSTER_DATABASE_URL} nor {ENV_POSTGRES_URL} is set here",
                f"Set {ENV_POSTGRES_URL} here as in the Dagster processes (or run "
                "`integrations migrate` for the embedded SQLite setup).",
            )
        differences = [
            section
            for section in ("concurrency", "run_launcher")
            if actual.get(section) != expected.get(section)
        ]
        if differences:
            return Check(
                name,
                "warn",
                f"{path}: {' and '.join(differences)} differ from the rendering for these "
                "settings (INTEGRATIONS_MAX_CONCURRENT_RUNS, INTEGRATIONS_RUN_LAUNCHER)",
                "Run `integrations migrate` and restart dagster-daemon; ignore this if you "
                "wrote that section by hand (e.g. a Kubernetes run launcher).",
            )
        storage = "PostgreSQL" if has_postgres else "SQLite under DAGSTER_HOME"
        return Check(name, "ok", f"{path} ({origin}): {storage}, run queue as configured")

    def dagster_storage(self) -> Check:
        name = "dagster storage"
        if self.dagster_yaml is None:
            return Check(name, "warn", "not checked: no usable dagster.yaml", "")
        home, _ = self._dagster_home()
        postgres = (self.dagster_yaml.get("storage") or {}).get("postgres")
        where = f"SQLite under {home}"
        if isinstance(postgres, dict) and "postgres_url" in postgres:
            reference = postgres["postgres_url"]
            if isinstance(reference, dict) and "env" in reference:
                url = self.environ.get(str(reference["env"]), "")
                if not url:
                    return Check(
                        name,
                        "fail",
                        f"dagster.yaml reads the storage URL from {reference['env']}, which is "
                        "not set here",
                        f"Set {ENV_POSTGRES_URL} (or {reference['env']}) in this environment, "
                        "as `integrations exec` does for the Dagster processes.",
                    )
            else:
                url = str(reference)
            source = _url_source(self.given, ENV_DAGSTER_DATABASE_URL)
            problem = _unreachable(url, self.timeout_s)
            if problem is not None:
                return Check(name, "fail", problem, _reach_fix(url, source))
            engine = _engine(url, self.timeout_s)
            try:
                with engine.connect() as connection:
                    missing = _missing_schema(connection, url)
                    tables = set(sa.inspect(connection).get_table_names())
            finally:
                engine.dispose()
            if missing:
                return Check(name, "fail", f"{redacted(url)}: {missing}", MIGRATE)
            absent = [t for t in _DAGSTER_TABLES if t not in tables]
            if absent:
                return Check(
                    name,
                    "fail",
                    f"{redacted(url)}: Dagster's tables are not there (no {', '.join(absent)})",
                    MIGRATE,
                )
            where = redacted(url)
        elif not postgres and not (home / "history" / "runs.db").is_file():
            return Check(name, "fail", f"no Dagster storage under {home} yet", MIGRATE)
        instance = self._load_instance(home)
        version = getattr(instance.run_storage, "alembic_version", None)
        if callable(version):
            current, head = version()
            if current != head:
                return Check(
                    name,
                    "fail",
                    f"{where}: Dagster's schema is at revision {current}, Dagster "
                    f"{_dagster_version()} needs {head}",
                    MIGRATE,
                )
        return Check(name, "ok", f"{where}: migrated for Dagster {_dagster_version()}")

    def _load_instance(self, home: Path) -> "dg.DagsterInstance":
        import dagster as dg

        # dagster.yaml's {env: ...} references resolve from the process environment.
        with _process_environ(self.environ):
            self.instance = dg.DagsterInstance.from_config(str(home))
            # Storage opens lazily; open it while the references resolve.
            _ = self.instance.run_storage, self.instance.event_log_storage
        return self.instance

    def run_queue(self) -> Check:
        from integrations_platform.orchestration.run_queue import connector_limits, connector_pool

        name = "run queue"
        if self.instance is None or self.catalog is None:
            return Check(
                name, "warn", "not checked: Dagster's storage or the catalog is not ready", ""
            )
        try:
            wanted = {
                connector_pool(c): n
                for c, n in connector_limits(self.catalog, self.environ).items()
            }
        except PlatformError as exc:
            return Check(name, "fail", exc.reason, exc.instruction)
        storage = self.instance.event_log_storage
        if not storage.supports_global_concurrency_limits:
            return Check(name, "fail", "Dagster's storage cannot hold pool limits", MIGRATE)
        with _process_environ(self.environ):
            current = {
                p.name: p.limit
                for p in storage.get_pool_limits()
                if p.name.startswith(connector_pool(""))
            }
        runs = ((self.dagster_yaml or {}).get("concurrency") or {}).get("runs") or {}
        limit = runs.get("max_concurrent_runs", "unlimited")
        pools = ", ".join(f"{p} ≤ {n}" for p, n in sorted(wanted.items())) or "none"
        if current != wanted:
            have = ", ".join(f"{p} ≤ {n}" for p, n in sorted(current.items())) or "none"
            return Check(
                name,
                "fail",
                f"connector pool limits in Dagster ({have}) differ from the catalog and "
                f"settings ({pools})",
                "Run `integrations migrate` (writes the limits; queued runs follow them).",
            )
        per_integration = any(
            t.get("key") == "integration" for t in runs.get("tag_concurrency_limits") or []
        )
        one = ", one per integration" if per_integration else ""
        return Check(name, "ok", f"at most {limit} runs at once{one}; pools: {pools}")

    def run_launcher(self) -> Check:
        launcher = (self.dagster_yaml or {}).get("run_launcher")
        if not isinstance(launcher, dict):
            return Check("", "ok", "")  # the default launcher: nothing to check
        name = "run launcher"
        config = launcher.get("config") or {}
        referenced = sorted(_env_references(config))
        passed = [v for v in config.get("env_vars") or [] if isinstance(v, str) and "=" not in v]
        unset = [v for v in dict.fromkeys([*referenced, *passed]) if v not in self.environ]
        kind = f"{launcher.get('module', '?')}.{launcher.get('class', '?')}"
        if unset:
            return Check(
                name,
                "warn",
                f"{kind} reads {', '.join(unset)} from the environment of the process that "
                "launches runs (dagster-daemon), and they are unset here; a launch fails while "
                "one of them is unset",
                "Set each of them where dagster-daemon runs (an empty value for a setting you "
                "do not use, e.g. INTEGRATIONS_WAREHOUSE_URL=).",
            )
        if self.instance is not None:
            with _process_environ(self.environ):
                try:
                    self.instance.run_launcher  # noqa: B018 - constructing it is the check
                except Exception as exc:
                    return Check(
                        name,
                        "fail",
                        f"{kind} cannot be configured: {_first_line(exc)}",
                        "Correct the run_launcher section of dagster.yaml (or its variables), "
                        "then run `integrations migrate`.",
                    )
        return Check(name, "ok", f"{kind}; every variable it passes to runs is set here")

    def dagster_webserver(self) -> Check:
        import httpx

        name = "dagster webserver"
        url = self.settings.dagster_url
        fix = (
            f"Start the Dagster webserver (`integrations up`, or the dagster-webserver "
            f"service), or set {ENV_DAGSTER_URL} to its address."
        )
        try:
            reply = httpx.post(
                f"{url}/graphql", json={"query": _GRAPHQL_QUERY}, timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            return Check(name, "fail", f"no answer from {url} ({type(exc).__name__})", fix)
        try:
            body = reply.json()
            version = body["data"]["version"]
            workspace = body["data"]["workspaceOrError"]
        except (ValueError, KeyError, TypeError):
            return Check(
                name,
                "fail",
                f"{url}/graphql answered HTTP {reply.status_code} without Dagster's GraphQL "
                "API (not a Dagster webserver?)",
                fix,
            )
        if workspace.get("__typename") != "Workspace":
            return Check(
                name,
                "fail",
                f"Dagster {version} at {url} cannot load its workspace: "
                f"{_first_line(workspace.get('message', ''))}",
                "Check the webserver's workspace.yaml and logs.",
            )
        entries = {e["name"]: e for e in workspace.get("locationEntries") or []}
        entry = entries.get(_LOCATION_NAME)
        if entry is None:
            return Check(
                name,
                "fail",
                f"Dagster {version} at {url} has no code location '{_LOCATION_NAME}' "
                f"(it has: {', '.join(entries) or 'none'})",
                f"Name the code location '{_LOCATION_NAME}' in the webserver's workspace.yaml "
                "(see docs/deployment/workspace.yaml).",
            )
        loaded = entry.get("locationOrLoadError") or {}
        if loaded.get("__typename") == "PythonError":
            return Check(
                name,
                "fail",
                f"the code location '{_LOCATION_NAME}' failed to load: "
                f"{_first_line(loaded.get('message', ''))}",
                "Open Deployment in the Dagster UI for the whole error; check the code "
                "server's environment (the same variables as `integrations doctor` here).",
            )
        if entry.get("loadStatus") != "LOADED" or not loaded:
            return Check(
                name,
                "warn",
                f"Dagster {version} at {url}: the code location '{_LOCATION_NAME}' is still "
                "loading",
                "Wait a few seconds and run `integrations doctor` again.",
            )
        return Check(
            name, "ok", f"Dagster {version} at {url}; code location '{_LOCATION_NAME}' loaded"
        )


# -- helpers ------------------------------------------------------------------------------


def _engine(url: str, timeout_s: float) -> sa.Engine:
    """An engine whose connections and statements give up after ``timeout_s``."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        options = parsed.query.get("options") or ""
        if isinstance(options, tuple):
            options = " ".join(options)
        milliseconds = int(timeout_s * 1000)
        connect_args = {
            "connect_timeout": max(1, round(timeout_s)),
            # Keeps the URL's own options (its search_path) and bounds every statement.
            "options": f"{options} -c statement_timeout={milliseconds}".strip(),
        }
    elif backend == "sqlite":
        connect_args = {"timeout": timeout_s}
    return sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)


def _unreachable(url: str, timeout_s: float) -> str | None:
    """Why ``url`` cannot be connected to, or None when it can."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not Path(database).is_file():
            return f"no database file at {database}"
    try:
        engine = _engine(url, timeout_s)
    except Exception as exc:  # a malformed URL, or a driver that is not installed
        return f"cannot use {redacted(url)}: {_first_line(exc)}"
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        return f"cannot connect to {redacted(url)}: {_first_line(exc.orig)}"
    finally:
        engine.dispose()
    return None


def _missing_schema(connection: sa.Connection, url: str) -> str | None:
    schema = search_path_schema(url)
    if schema is None:
        return None
    exists = connection.execute(
        sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
    ).scalar()
    return None if exists else f"schema '{schema}' does not exist"


def _url_source(environ: Mapping[str, str], variable: str) -> str:
    """The setting a store's URL came from (both candidates when neither is set)."""
    if environ.get(variable):
        return variable
    if environ.get(ENV_POSTGRES_URL):
        return ENV_POSTGRES_URL
    return f"{ENV_POSTGRES_URL} (or {variable})"


def _reach_fix(url: str, source: str) -> str:
    if make_url(url).get_backend_name() == "sqlite":
        return (
            "Run `integrations migrate` (or `integrations up`) to create it, or set "
            f"{source} to the deployment's database."
        )
    return f"Start the database server or correct {source}; then run `integrations migrate`."


def _plugin_problem(venv: Path, executable: str) -> str | None:
    """Why a plugin's executable cannot run, or None."""
    path = venv / "bin" / executable
    if not path.is_file():
        return "missing"
    if not os.access(path, os.X_OK):
        return "not executable"
    with path.open("rb") as handle:
        first = handle.readline(512)
    if first.startswith(b"#!"):
        interpreter = first[2:].decode("utf-8", "replace").split()
        if interpreter and interpreter[0].startswith("/") and not Path(interpreter[0]).exists():
            return f"broken: its interpreter {interpreter[0]} is gone"
    return None


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _env_references(value: Any) -> Iterator[str]:
    """The variables a Dagster config value reads with ``{env: NAME}``."""
    if isinstance(value, dict):
        if set(value) == {"env"} and isinstance(value["env"], str):
            yield value["env"]
            return
        for item in value.values():
            yield from _env_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _env_references(item)


@contextmanager
def _process_environ(environ: Mapping[str, str]) -> Iterator[None]:
    """Expose ``environ``'s variables to code that reads ``os.environ`` (Dagster's config
    resolution), then put the process environment back."""
    added = {k: v for k, v in environ.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _dagster_version() -> str:
    import dagster as dg

    return str(dg.__version__)


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else ""


def _scrubber(settings: Settings, environ: Mapping[str, str]) -> Callable[[str], str]:
    """Remove every password and key this environment holds from a message."""
    secrets: set[str] = set()
    urls = [
        settings.database_url,
        settings.meltano_database_uri,
        settings.dagster_database_url or "",
        settings.warehouse_url or "",
        environ.get(ENV_POSTGRES_URL, ""),
    ]
    for url in urls:
        try:
            password = make_url(url).password if url else None
        except Exception:  # not a URL: nothing to hide in it
            password = None
        if password:
            secrets.add(str(password))
    secrets.update(k.strip() for k in environ.get(ENV_ENCRYPTION_KEYS, "").split(",") if k.strip())
    # Raw, URL-encoded and JSON-escaped forms, as every sync line is redacted.
    return Redactor(secrets).redact
