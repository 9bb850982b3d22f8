"""Load and validate the connector catalog: one YAML file per connector."""

from collections.abc import Iterator
from pathlib import Path

import yaml
from pydantic import ValidationError

from integrations_platform.catalog.models import ConnectorSpec
from integrations_platform.errors import CatalogError, ConnectorNotFoundError


class Catalog:
    """The connectors available to integrations, keyed by id."""

    def __init__(self, connectors: dict[str, ConnectorSpec], directory: Path) -> None:
        self._connectors = dict(sorted(connectors.items()))
        self.directory = directory

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
        words = (query or "").lower().split()
        return [
            c
            for c in self
            if (category is None or c.category.lower() == category.lower())
            and (tier is None or c.tier == tier.lower())
            and all(w in c.searchable_text() for w in words)
        ]

    @property
    def categories(self) -> list[str]:
        """The categories in use, sorted."""
        return sorted({c.category for c in self})

    def logo_path(self, connector: ConnectorSpec) -> Path:
        """The logo file of ``connector``."""
        return self.directory / connector.logo


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
    """Load one catalog file; errors name the file, the field and the reason."""
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


def connector_from_data(data: object, path: Path) -> ConnectorSpec:
    """Check the parsed content of catalog file ``path`` (which need not exist yet: the
    import checks what it is about to write); errors name the file and the field."""
    if not isinstance(data, dict):
        raise CatalogError(
            f"{path}: a catalog file must be a mapping of fields, got {type(data).__name__}",
            "See connector_catalog/salesforce.yaml for the shape.",
        )
    try:
        spec = ConnectorSpec.model_validate(data)
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
        files = sorted(directory.glob("*.yaml"))
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
        spec = load_connector(path)
        connectors[spec.id] = spec
    return Catalog(connectors, directory)
