"""What a source holds: its Singer catalog, read as typed streams and columns.

A tap's discovery (``--discover``) prints a Singer catalog: one entry per stream with a
JSON Schema of its records and metadata (primary key, the replication keys the tap
accepts, whether it forces a full-table sync). :func:`parse_catalog` turns that into
:class:`DiscoveredStream` values the service, the API and Dagster's definitions share.
The catalog holds names and types only, never a config value.
"""

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations_platform.errors import ConfigurationError
from integrations_platform.integration import StreamSelection

# JSON Schema types, most specific first: a column typed ["null", "integer", "string"]
# is reported as "string" (what every value fits), a ["null", "integer"] as "integer".
_TYPE_ORDER = ("object", "array", "string", "number", "integer", "boolean")
# Formats of a string column an incremental sync can order by.
_ORDERED_FORMATS = {"date-time", "date"}


@dataclass(frozen=True)
class DiscoveredColumn:
    """One column (top-level property) of a stream."""

    name: str
    type: str  # a JSON Schema type: string, number, integer, boolean, object, array
    format: str | None = None  # date-time, date, time, ...
    nullable: bool = True
    # Singer's inclusion: "automatic" (always synced: keys), "available" or "unsupported".
    inclusion: str = "available"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "nullable": self.nullable,
            "inclusion": self.inclusion,
        }


@dataclass(frozen=True)
class DiscoveredStream:
    """One stream (table, object) of the source, as its tap describes it."""

    name: str  # the tap's stream id: what a selection names
    columns: tuple[DiscoveredColumn, ...]
    primary_key: tuple[str, ...] = ()
    # Keys an incremental sync may use, best first (the tap's own choice first).
    replication_keys: tuple[str, ...] = ()
    # False when the tap forces full-table syncs of this stream.
    incremental: bool = False

    @property
    def default_replication_key(self) -> str | None:
        """The key an incremental selection uses unless told otherwise."""
        return self.replication_keys[0] if self.incremental and self.replication_keys else None

    def column(self, name: str) -> DiscoveredColumn | None:
        """The column called ``name``, if the stream has it."""
        return next((c for c in self.columns if c.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "name": self.name,
            "primary_key": list(self.primary_key),
            "replication_keys": list(self.replication_keys),
            "default_replication_key": self.default_replication_key,
            "incremental": self.incremental,
            "columns": [c.as_dict() for c in self.columns],
        }


@dataclass(frozen=True)
class Discovery:
    """A discovery of one source: when it was taken, how long it took, what it found."""

    streams: tuple[DiscoveredStream, ...]
    discovered_at: datetime
    duration_s: float
    # The tap's Singer catalog as it printed it (schemas and metadata; no config).
    catalog: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def stream(self, name: str) -> DiscoveredStream | None:
        """The stream called ``name``, if the source has it."""
        return next((s for s in self.streams if s.name == name), None)

    def as_dict(self, *, streams: bool = True) -> dict[str, Any]:
        """A JSON-ready copy (without the raw catalog)."""
        body: dict[str, Any] = {
            "discovered_at": self.discovered_at.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "stream_count": len(self.streams),
        }
        if streams:
            body["streams"] = [s.as_dict() for s in self.streams]
        return body


def _types(schema: Mapping[str, Any]) -> tuple[set[str], str | None]:
    """The JSON types a property schema admits, and its format (``anyOf`` flattened)."""
    found: set[str] = set()
    fmt = schema.get("format")
    kind = schema.get("type")
    if isinstance(kind, str):
        found.add(kind)
    elif isinstance(kind, list):
        found.update(str(k) for k in kind)
    for branch in list(schema.get("anyOf") or []) + list(schema.get("oneOf") or []):
        if isinstance(branch, Mapping):
            sub, sub_fmt = _types(branch)
            found |= sub
            fmt = fmt or sub_fmt
    if not found and "properties" in schema:
        found.add("object")
    return found, fmt if isinstance(fmt, str) else None


def parse_column(name: str, schema: Mapping[str, Any], inclusion: str) -> DiscoveredColumn:
    """A column from its JSON Schema property."""
    types, fmt = _types(schema)
    kind = next((t for t in _TYPE_ORDER if t in types), "string")
    return DiscoveredColumn(
        name=name,
        type=kind,
        format=fmt,
        nullable="null" in types or not types,
        inclusion=inclusion,
    )


def _orderable(column: DiscoveredColumn) -> bool:
    return column.inclusion != "unsupported" and (
        column.format in _ORDERED_FORMATS or column.type == "integer"
    )


def parse_stream(entry: Mapping[str, Any]) -> DiscoveredStream:
    """One Singer catalog entry as a typed stream."""
    name = str(entry.get("tap_stream_id") or entry.get("stream") or "")
    if not name:
        raise ValueError("a catalog entry has neither tap_stream_id nor stream")
    metadata = {
        tuple(m.get("breadcrumb") or ()): m.get("metadata") or {}
        for m in entry.get("metadata") or ()
        if isinstance(m, Mapping)
    }
    root = metadata.get((), {})
    properties = (entry.get("schema") or {}).get("properties") or {}
    columns = tuple(
        parse_column(
            str(column),
            schema if isinstance(schema, Mapping) else {},
            str(metadata.get(("properties", column), {}).get("inclusion", "available")),
        )
        for column, schema in properties.items()
    )
    primary_key = tuple(
        str(k) for k in root.get("table-key-properties") or entry.get("key_properties") or ()
    )
    forced_full = root.get("forced-replication-method") == "FULL_TABLE"
    valid = [str(k) for k in root.get("valid-replication-keys") or () if k]
    if not valid and not forced_full:
        # A database tap names no key: every date, timestamp or integer column may be one.
        valid = [c.name for c in columns if _orderable(c)]
    return DiscoveredStream(
        name=name,
        columns=columns,
        primary_key=primary_key,
        replication_keys=tuple(valid) if not forced_full else (),
        incremental=bool(valid) and not forced_full,
    )


def parse_catalog(catalog: Mapping[str, Any]) -> tuple[DiscoveredStream, ...]:
    """Every stream of a Singer catalog, by name.

    Raises :class:`ConfigurationError` for what is not a Singer catalog.
    """
    entries = catalog.get("streams") if isinstance(catalog, Mapping) else None
    if not isinstance(entries, list):
        raise ConfigurationError(
            "The extractor's discovery did not print a Singer catalog (no 'streams' list)",
            "Run the extractor with --discover and check its output.",
        )
    try:
        streams = [parse_stream(e) for e in entries if isinstance(e, Mapping)]
    except ValueError as exc:
        raise ConfigurationError(
            f"The extractor's catalog is malformed: {exc}",
            "Run the extractor with --discover and check its output.",
        ) from None
    return tuple(sorted(streams, key=lambda s: s.name.lower()))


def select_catalog(
    catalog: Mapping[str, Any], streams: Sequence[StreamSelection]
) -> dict[str, Any]:
    """The catalog a sync hands the tap: only the selected streams, each marked selected
    with its replication method and key, every column selected but the excluded ones.

    Meltano applies no select or metadata rule to a catalog it is given, so the
    selection is written into the catalog itself, as Singer's metadata says — and also
    as the stream's top-level ``replication_method`` / ``replication_key``, which older
    Singer SDK releases (e.g. meltanolabs-tap-mysql's, singer-sdk 0.35) read instead.
    """
    chosen = {s.name: s for s in streams}
    entries = []
    for entry in catalog.get("streams") or ():
        name = entry.get("tap_stream_id") or entry.get("stream")
        selection = chosen.get(name)
        if selection is None:
            continue
        excluded = set(selection.excluded_columns)
        metadata = []
        for item in entry.get("metadata") or ():
            breadcrumb = list(item.get("breadcrumb") or ())
            values = {
                k: v for k, v in (item.get("metadata") or {}).items() if k != "selected-by-default"
            }
            if not breadcrumb:
                values["selected"] = True
                if selection.replication_key:
                    values["replication-method"] = "INCREMENTAL"
                    values["replication-key"] = selection.replication_key
                else:
                    values["replication-method"] = "FULL_TABLE"
                    values.pop("replication-key", None)
            elif breadcrumb[:1] == ["properties"] and len(breadcrumb) == 2:
                values["selected"] = breadcrumb[1] not in excluded
            metadata.append({"breadcrumb": breadcrumb, "metadata": values})
        # A column the tap gave no metadata is selected or not all the same.
        described = {tuple(m["breadcrumb"]) for m in metadata}
        for column in (entry.get("schema") or {}).get("properties") or {}:
            if ("properties", column) not in described:
                metadata.append(
                    {
                        "breadcrumb": ["properties", column],
                        "metadata": {"selected": column not in excluded},
                    }
                )
        top_level: dict[str, Any] = (
            {"replication_method": "INCREMENTAL", "replication_key": selection.replication_key}
            if selection.replication_key
            else {"replication_method": "FULL_TABLE", "replication_key": None}
        )
        entries.append({**entry, **top_level, "metadata": metadata})
    return {**catalog, "streams": entries}


def pack_catalog(catalog: Mapping[str, Any]) -> bytes:
    """The catalog, compressed for the store (a large org's catalog is megabytes)."""
    return zlib.compress(json.dumps(catalog, separators=(",", ":")).encode(), level=6)


def unpack_catalog(blob: bytes) -> dict[str, Any]:
    """The catalog :func:`pack_catalog` stored."""
    value = json.loads(zlib.decompress(blob))
    return value if isinstance(value, dict) else {}


def describe(streams: Sequence[DiscoveredStream]) -> str:
    """A one-line summary: ``312 streams, 4,120 columns``."""
    columns = sum(len(s.columns) for s in streams)
    return f"{len(streams):,} stream(s), {columns:,} column(s)"
