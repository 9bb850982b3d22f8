"""Meltano: its state database, the connector catalog, the installed plugins."""

import os

import sqlalchemy as sa
import yaml

from integrations_platform.databases import redacted, sqlite_file_missing
from integrations_platform.doctor.report import Check
from integrations_platform.doctor.support import (
    DoctorState,
    _existing_ancestor,
    _plugin_problem,
    _url_source,
)
from integrations_platform.errors import PlatformError
from integrations_platform.settings import (
    ENV_CATALOG_DIR,
    ENV_MELTANO_DATABASE_URI,
    ENV_MELTANO_PROJECT,
)


class PluginChecks(DoctorState):
    """Meltano: its state database, the connector catalog, the installed plugins."""

    # -- Meltano

    def meltano_state(self) -> Check:
        name = "meltano state"
        url = self.settings.meltano_database_uri
        source = _url_source(self.given, ENV_MELTANO_DATABASE_URI)
        path = sqlite_file_missing(url)
        if path is not None:
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

        def count_states(connection: sa.Connection) -> int | None:
            if "state" not in sa.inspect(connection).get_table_names():
                return None
            return connection.execute(sa.text("SELECT count(*) FROM state")).scalar()

        states = self.read_database(name, url, source, count_states)
        if isinstance(states, Check):
            return states
        if states is None:
            return Check(
                name,
                "ok",
                f"{redacted(url)}: reachable; Meltano creates its tables on the first sync",
            )
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
        from integrations_platform.runner.meltano_project import render_meltano_project
        from integrations_platform.runner.processes import meltano_executable

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
        # Which catalog file asks for each extractor, to name it in the report.
        files = {
            spec.name: f"{c.id}.yaml"
            for c in self.catalog
            for spec in (c.extractor, *([c.local_login.extractor] if c.local_login else []))
        }
        missing: list[str] = []
        for kind, plugin, executable in needed:
            problem = _plugin_problem(project / ".meltano" / kind / plugin / "venv", executable)
            if problem:
                source = f", for {files[plugin]}" if plugin in files else ""
                missing.append(f"{plugin} ({problem}{source})")
        stale = meltano_yml.read_text(encoding="utf-8") != rendered
        install = f"cd {project} && UV_PYTHON_DOWNLOADS=never {meltano_executable()} install"
        if missing:
            fix = f"`integrations catalog sync` (or `{install}`)."
            if stale:
                fix = (
                    "`integrations catalog sync` (renders meltano.yml, installs, reloads "
                    f"Dagster; or `integrations meltano-yml --write`, then `{install}`)."
                )
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
