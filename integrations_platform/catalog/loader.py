"""Load and validate the connector catalog: one YAML file per connector."""

import functools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import ValidationError

from integrations_platform.catalog.models import (
    BUILT_IN_DESTINATIONS,
    ConnectorSpec,
    DestinationConnectorSpec,
)
from integrations_platform.errors import CatalogError, ConnectorNotFoundError

# Destination connectors live in this folder of the catalog (their ids may repeat a
# source's: postgres the source, postgres the destination).
DESTINATIONS_FOLDER = "destinations"
PLATFORM_CATALOG = Path(__file__).resolve().parents[2] / "connector_catalog"


class Catalog:
    """The connectors available to integrations, keyed by id: sources (iterating the
    catalog gives them) and destinations (:attr:`destinations`)."""

    def __init__(
        self,
        connectors: dict[str, ConnectorSpec],
        directory: Path,
        destinations: dict[str, DestinationConnectorSpec] | None = None,
    ) -> None:
        self._connectors = dict(sorted(connectors.items()))
        self.directory = directory
        # The built-in destinations (the embedded default, the warehouse shortcut) are in
        # every catalog: one without its own files for them gets the platform's.
        found = {**built_in_destinations(), **(destinations or {})}
        self.destinations = dict(sorted(found.items()))

    def destination(self, connector_id: str) -> DestinationConnectorSpec:
        """The destination connector ``connector_id``; a clear error when unknown."""
        try:
            return self.destinations[connector_id]
        except KeyError:
            known = ", ".join(self.destinations) or "none"
            raise ConnectorNotFoundError(
                f"Unknown destination connector '{connector_id}'",
                f"Use one of: {known} (`integrations catalog --kind destination` lists them).",
            ) from None

    def search_destinations(
        self, query: str | None = None, category: str | None = None, tier: str | None = None
    ) -> list[DestinationConnectorSpec]:
        """Destination connectors as :meth:`search` finds sources."""
        return _matching(self.destinations.values(), query, category, tier)

    def __iter__(self) -> Iterator[ConnectorSpec]:
        return iter(self._connectors.values())

    def __len__(self) -> int:
        return len(self._connectors)

    def __contains__(self, connector_id: object) -> bool:
        return connector_id in self._connectors

    def get(self, connector_id: str) -> ConnectorSpec:
        """The connector ``connector_id``; a clear error when the catalog lacks it."""
        try:
            return self._connectors[connector_id]
        except KeyError:
            known = ", ".join(self._connectors) or "none"
            raise ConnectorNotFoundError(
                f"Unknown connector '{connector_id}'",
                f"Use one of: {known} (`integrations catalog` lists them).",
            ) from None

    def search(
        self, query: str | None = None, category: str | None = None, tier: str | None = None
    ) -> list[ConnectorSpec]:
        """Connectors whose text contains every word of ``query``, in ``category``, of
        ``tier`` (verified or community)."""
        return _matching(self, query, category, tier)

    @property
    def categories(self) -> list[str]:
        """The categories in use, sorted."""
        return sorted({c.category for c in self})

    def logo_path(self, connector: ConnectorSpec | DestinationConnectorSpec) -> Path:
        """The logo file of ``connector``."""
        if isinstance(connector, DestinationConnectorSpec):
            path = self.directory / DESTINATIONS_FOLDER / connector.logo
            if not path.is_file() and connector.id in BUILT_IN_DESTINATIONS.values():
                return PLATFORM_CATALOG / DESTINATIONS_FOLDER / connector.logo
            return path
        return self.directory / connector.logo


_Spec = TypeVar("_Spec", ConnectorSpec, DestinationConnectorSpec)


def _matching(
    specs: Iterable[_Spec], query: str | None, category: str | None, tier: str | None
) -> list[_Spec]:
    """The connectors whose text contains every word of ``query``, in ``category``, of
    ``tier`` (verified or community)."""
    words = (query or "").lower().split()
    return [
        c
        for c in specs
        if (category is None or c.category.lower() == category.lower())
        and (tier is None or c.tier == tier.lower())
        and all(w in c.searchable_text() for w in words)
    ]


def _location(loc: tuple[int | str, ...], data: object) -> str:
    """Name a pydantic error location the way the YAML reads: settings[client_id].type."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            item = node[key] if isinstance(node, list) and key < len(node) else None
            label = item.get("name") if isinstance(item, dict) else None
            parts.append(f"[{label or key}]")
            node = item
        else:
            parts.append(f".{key}" if parts else str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "(file)"


def load_connector(path: Path) -> ConnectorSpec:
    """Load one source's catalog file; errors name the file, the field and the reason."""
    spec = load_catalog_file(path)
    if not isinstance(spec, ConnectorSpec):
        raise CatalogError(
            f"{path}: a destination's file (kind: destination) among the sources",
            f"Move it into {path.parent / DESTINATIONS_FOLDER}.",
        )
    return spec


def load_catalog_file(path: Path) -> ConnectorSpec | DestinationConnectorSpec:
    """Load one catalog file, a source's or (``kind: destination``) a destination's."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: not UTF-8 text", "Save the file as UTF-8.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(
            f"{path}: not valid YAML{where}: {problem}",
            "Fix the syntax of the file.",
        ) from None
    return connector_from_data(data, path)


def connector_from_data(data: object, path: Path) -> ConnectorSpec | DestinationConnectorSpec:
    """Check the parsed content of catalog file ``path`` (which need not exist yet: the
    import checks what it is about to write); errors name the file and the field."""
    if not isinstance(data, dict):
        raise CatalogError(
            f"{path}: a catalog file must be a mapping of fields, got {type(data).__name__}",
            "See connector_catalog/salesforce.yaml for the shape.",
        )
    model: type[ConnectorSpec | DestinationConnectorSpec] = (
        DestinationConnectorSpec if data.get("kind") == "destination" else ConnectorSpec
    )
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_location(err['loc'], data)}: {err['msg']}" for err in exc.errors())
        raise CatalogError(
            f"{path}: invalid connector definition: {problems}",
            "Fix the named fields (see connector_catalog/salesforce.yaml for the shape).",
        ) from None
    if path.stem != spec.id:
        raise CatalogError(
            f"{path}: id '{spec.id}' does not match the file name",
            f"Rename the file to {spec.id}.yaml or set id: {path.stem}.",
        )
    logo = path.parent / spec.logo
    if not logo.is_file():
        raise CatalogError(
            f"{path}: logo: file {spec.logo} not found next to the catalog file",
            "Add the logo or fix the path.",
        )
    return spec


def catalog_stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a catalog file is added, removed or edited (names, times and
    sizes; a few stat calls)."""
    try:
        files = sorted(directory.glob("*.yaml")) + sorted(
            (directory / DESTINATIONS_FOLDER).glob("*.yaml")
        )
        return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        return ()


def load_catalog(directory: Path) -> Catalog:
    """Load every ``*.yaml`` file of ``directory`` into a :class:`Catalog`.

    >>> catalog = load_catalog(Path("connector_catalog"))  # doctest: +SKIP
    >>> catalog.get("salesforce").label  # doctest: +SKIP
    'Salesforce'
    """
    if not directory.is_dir():
        raise CatalogError(
            f"Connector catalog directory {directory} does not exist",
            "Set INTEGRATIONS_CATALOG_DIR to the folder of connector YAML files.",
        )
    connectors: dict[str, ConnectorSpec] = {}
    for path in sorted(directory.glob("*.yaml")):
        connectors[path.stem] = load_connector(path)
    destinations: dict[str, DestinationConnectorSpec] = {}
    for path in sorted((directory / DESTINATIONS_FOLDER).glob("*.yaml")):
        spec = load_catalog_file(path)
        if not isinstance(spec, DestinationConnectorSpec):
            raise CatalogError(
                f"{path}: a source's file among the destinations",
                f"Move it into {directory}, or set kind: destination.",
            )
        destinations[spec.id] = spec
    return Catalog(connectors, directory, destinations)


@functools.cache
def built_in_destinations() -> dict[str, DestinationConnectorSpec]:
    """The platform's own files of the built-in destinations' connectors."""
    found: dict[str, DestinationConnectorSpec] = {}
    for connector in BUILT_IN_DESTINATIONS.values():
        path = PLATFORM_CATALOG / DESTINATIONS_FOLDER / f"{connector}.yaml"
        spec = load_catalog_file(path)
        if not isinstance(spec, DestinationConnectorSpec):
            raise CatalogError(f"{path}: set kind: destination", "It is a built-in destination.")
        found[connector] = spec
    return found
