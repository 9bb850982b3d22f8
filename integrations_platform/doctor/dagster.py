"""Dagster: dagster.yaml, its storage, the run queue, the launcher, the webserver."""

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
import yaml

from integrations_platform.databases import redacted
from integrations_platform.doctor.report import Check
from integrations_platform.doctor.support import (
    _DAGSTER_TABLES,
    _GRAPHQL_QUERY,
    _LOCATION_NAME,
    MIGRATE,
    DoctorState,
    _dagster_version,
    _env_references,
    _first_line,
    _process_environ,
    _url_source,
)
from integrations_platform.errors import PlatformError
from integrations_platform.settings import (
    ENV_DAGSTER_DATABASE_URL,
    ENV_DAGSTER_URL,
    ENV_POSTGRES_URL,
)

if TYPE_CHECKING:
    import dagster as dg


class DagsterChecks(DoctorState):
    """Dagster: dagster.yaml, its storage, the run queue, the launcher, the webserver."""

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
            tables = self.read_database(
                name, url, source, lambda c: set(sa.inspect(c).get_table_names())
            )
            if isinstance(tables, Check):
                return tables
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
