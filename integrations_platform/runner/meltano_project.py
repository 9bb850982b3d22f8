"""meltano.yml is generated from the connector catalog (sources and destinations).

One source of truth: the catalog declares each extractor and its settings; this module
renders the Meltano project from it, ``integrations meltano-yml --write`` writes it, and
a test proves the committed file equals the rendering.
"""

from pathlib import Path
from typing import Any

import yaml

from integrations_platform.catalog import Catalog, ConnectorSpec, ExtractorSpec
from integrations_platform.catalog.models import DestinationConnectorSpec
from integrations_platform.runner.batch import supports_batch

HEADER = """\
# Generated from connector_catalog/ by `integrations meltano-yml --write`: edit the
# catalog, not this file. It holds no config and no secret: every setting reaches the
# plugins as an environment variable, only while a sync runs.
"""


def _plugin(spec: ExtractorSpec, settings: list[dict[str, Any]]) -> dict[str, Any]:
    plugin: dict[str, Any] = {
        "name": spec.name,
        "namespace": spec.namespace,
        "pip_url": spec.pip_url,
        "executable": spec.executable,
    }
    if spec.capabilities:
        plugin["capabilities"] = list(spec.capabilities)
    plugin["settings"] = [dict(s) for s in settings]  # copies: no YAML anchors
    return plugin


def extractor_settings(connector: ConnectorSpec) -> list[dict[str, Any]]:
    """The extractor's setting declarations (name and Meltano kind)."""
    declared = [{"name": s.name, "kind": s.meltano_kind} for s in connector.settings]
    if connector.extractor.start_date_setting:
        declared.append({"name": connector.extractor.start_date_setting, "kind": "date_iso8601"})
    if "stream-maps" in connector.extractor.capabilities:
        # Hashed columns (runner/meltano.py): the SDK's own stream maps, in the tap.
        declared += [
            {"name": "stream_maps", "kind": "object"},
            {"name": "stream_map_config", "kind": "object"},
        ]
    if supports_batch(connector.extractor):
        declared.append({"name": "batch_config", "kind": "object"})
    return sorted(declared, key=lambda s: s["name"])


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"


def loader_settings(destination: DestinationConnectorSpec) -> list[dict[str, Any]]:
    """The loader's setting declarations: the form's, and those the platform sets."""
    declared = {s.name: s.meltano_kind for s in destination.settings}
    options = destination.destination
    for name in options.per_integration:
        declared.setdefault(name, "string")
    for name, value in {**options.fixed, **options.batch_settings}.items():
        declared.setdefault(name, _kind_of(value))
    return [{"name": name, "kind": kind} for name, kind in sorted(declared.items())]


# The mapper that bounds a partition run to its time windows (see runner/meltano.py).
WINDOW_MAPPER = "singer-window-filter"
WINDOW_MAPPING = "partition-window"


def _window_mapper() -> dict[str, Any]:
    return {
        "name": WINDOW_MAPPER,
        "namespace": "singer_window_filter",
        "pip_url": "${MELTANO_PROJECT_ROOT}/plugins/singer-window-filter",
        "executable": "singer-window-filter",
        "settings": [{"name": "streams", "kind": "object"}, {"name": "windows", "kind": "array"}],
        "mappings": [{"name": WINDOW_MAPPING}],
    }


def render_meltano_project(catalog: Catalog) -> str:
    """The text of meltano.yml for ``catalog``."""
    extractors = []
    for connector in catalog:
        settings = extractor_settings(connector)
        extractors.append(_plugin(connector.extractor, settings))
        if connector.local_login:
            extractors.append(_plugin(connector.local_login.extractor, settings))
    loaders = [_plugin(d.loader, loader_settings(d)) for d in catalog.destinations.values()]
    project = {
        "project_id": "integrations-platform",
        "send_anonymous_usage_stats": False,
        "default_environment": "prod",
        "environments": [{"name": "prod"}],
        "plugins": {"extractors": extractors, "loaders": loaders, "mappers": [_window_mapper()]},
    }
    return HEADER + yaml.safe_dump(project, sort_keys=False, width=100)


def write_meltano_project(catalog: Catalog, project_dir: Path) -> Path:
    """Write meltano.yml into ``project_dir``; returns its path."""
    path = project_dir / "meltano.yml"
    path.write_text(render_meltano_project(catalog), encoding="utf-8")
    return path


def missing_plugins(catalog: Catalog, project_dir: Path) -> list[str]:
    """The extractors and loaders of ``catalog`` not installed in the Meltano project."""
    wanted = [("extractors", c.extractor) for c in catalog]
    wanted += [("extractors", c.local_login.extractor) for c in catalog if c.local_login]
    wanted += [("loaders", d.loader) for d in catalog.destinations.values()]
    return [
        plugin.name
        for kind, plugin in wanted
        if not (
            project_dir / ".meltano" / kind / plugin.name / "venv" / "bin" / plugin.executable
        ).exists()
    ]
