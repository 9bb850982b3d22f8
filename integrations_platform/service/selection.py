"""Stream and column selection checked against the source's discovery.

Once a source is discovered, its catalog file's stream list is only a default: any
discovered stream may be selected, with any of its valid replication keys (or none: a
full-table sync), and any column that is not a key may be left out. Every problem is a
field error named after the stream (``streams.Account.replication_key``).
"""

import difflib
import fnmatch
from collections.abc import Sequence
from dataclasses import replace

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.discovery import DiscoveredStream, Discovery
from integrations_platform.integration import StreamSelection


def is_pattern(name: str) -> bool:
    """Whether a selected name is a pattern (``Project_*__c``, ``public-?``)."""
    return any(c in name for c in "*?[")


def needs_discovery(connector: ConnectorSpec, selected: Sequence[StreamSelection]) -> bool:
    """Whether checking ``selected`` needs the source's discovery: a stream the catalog
    file does not list (for a connector with a fixed list), a pattern, or columns left
    out."""
    for selection in selected:
        if selection.excluded_columns or selection.hashed_columns or is_pattern(selection.name):
            return True
        if not connector.dynamic_streams and connector.stream(selection.name) is None:
            return True
    return False


def synced_columns(
    stream: DiscoveredStream, excluded: Sequence[str] = ()
) -> tuple[tuple[str, str], ...]:
    """``(name, type)`` of the columns a selection of ``stream`` syncs."""
    return tuple(
        (c.name, c.type)
        for c in stream.columns
        if c.name not in excluded and c.inclusion != "unsupported"
    )


def _unknown(names: Sequence[str], known: Sequence[str], what: str, where: str) -> str:
    hints = []
    for name in names:
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            hints.append(f"{name} (did you mean {close[0]}?)")
        else:
            hints.append(name)
    return f"unknown {what}(s) {', '.join(hints)} in {where}"


def check_against_discovery(
    connector: ConnectorSpec,
    errors: dict[str, str],
    selected: Sequence[StreamSelection],
    discovery: Discovery,
) -> list[StreamSelection]:
    """Check ``selected`` against ``discovery`` into ``errors``; returns the selections
    to store, with keys and synced columns filled in from the discovery."""
    names = [s.name for s in discovery.streams]
    selected = expand_patterns(errors, selected, names)
    missing = [s.name for s in selected if discovery.stream(s.name) is None]
    if missing:
        errors["streams"] = (
            _unknown(missing, names, "stream", f"the {connector.label} source")
            + f" ({len(names)} discovered; refresh the discovery if the source changed)"
        )
    checked: list[StreamSelection] = []
    for selection in selected:
        stream = discovery.stream(selection.name)
        if stream is None:
            checked.append(selection)
            continue
        checked.append(_checked(connector, errors, selection, stream))
    return checked


def expand_patterns(
    errors: dict[str, str], selected: Sequence[StreamSelection], names: Sequence[str]
) -> list[StreamSelection]:
    """Each pattern replaced by the discovered streams it matches (in name order, after
    the streams named outright; a stream is selected once); a pattern that matches
    nothing is an error."""
    named = [s for s in selected if not is_pattern(s.name)]
    chosen = {s.name for s in named}
    expanded = list(named)
    for selection in selected:
        if not is_pattern(selection.name):
            continue
        matches = [n for n in names if fnmatch.fnmatchcase(n, selection.name)]
        if not matches:
            errors["streams"] = f"no discovered stream matches {selection.name}"
        for name in matches:
            if name not in chosen:
                chosen.add(name)
                expanded.append(replace(selection, name=name))
    return expanded


def _checked(
    connector: ConnectorSpec,
    errors: dict[str, str],
    selection: StreamSelection,
    stream: DiscoveredStream,
) -> StreamSelection:
    field = f"streams.{stream.name}"
    key = selection.replication_key
    if key is not None and key not in stream.replication_keys:
        errors[f"{field}.replication_key"] = (
            f"{key} is not a valid replication key of {stream.name}; valid: "
            f"{', '.join(stream.replication_keys)}"
            if stream.replication_keys
            else f"{stream.name} can only be synced whole (no replication key)"
        )
    if key is None:
        spec = connector.stream(stream.name)
        preferred = spec.replication_key if spec is not None else None
        key = preferred if preferred in stream.replication_keys else stream.default_replication_key
    excluded = list(dict.fromkeys(selection.excluded_columns))
    column_names = [c.name for c in stream.columns]
    unknown = [c for c in excluded if stream.column(c) is None]
    if unknown:
        errors[f"{field}.excluded_columns"] = _unknown(unknown, column_names, "column", stream.name)
    primary_key = selection.primary_key or stream.primary_key
    kept = {*primary_key, *([key] if key else [])}
    kept |= {c.name for c in stream.columns if c.inclusion == "automatic"}
    needed = [c for c in excluded if c in kept]
    if needed:
        errors[f"{field}.excluded_columns"] = (
            f"{', '.join(needed)} cannot be left out of {stream.name}: the sync needs "
            "its primary and replication keys"
        )
    hashed = list(dict.fromkeys(selection.hashed_columns))
    _check_hashed(connector, errors, field, stream, hashed, excluded, kept, key)
    return StreamSelection(
        name=stream.name,
        replication_key=key,
        primary_key=tuple(primary_key),
        excluded_columns=tuple(excluded),
        columns=synced_columns(stream, excluded),
        hashed_columns=tuple(hashed),
    )


def _check_hashed(
    connector: ConnectorSpec,
    errors: dict[str, str],
    field: str,
    stream: DiscoveredStream,
    hashed: Sequence[str],
    excluded: Sequence[str],
    kept: set[str],
    key: str | None,
) -> None:
    """Hashed columns exist, are neither keys nor left out, and the extractor can hash."""
    if not hashed:
        return
    where = f"{field}.hashed_columns"
    if "stream-maps" not in connector.extractor.capabilities:
        errors[where] = (
            f"the {connector.label} extractor ({connector.extractor.name}) cannot hash "
            "columns (it has no stream maps); leave the column out instead"
        )
        return
    unknown = [c for c in hashed if stream.column(c) is None]
    if unknown:
        errors[where] = _unknown(unknown, [c.name for c in stream.columns], "column", stream.name)
        return
    keys = [c for c in hashed if c in kept]
    if keys:
        which = "replication key" if key in keys else "primary key"
        errors[where] = (
            f"{', '.join(keys)} cannot be hashed: it is {stream.name}'s {which}, which "
            "incremental syncs and deduplication read in clear; hash another column"
        )
        return
    both = [c for c in hashed if c in excluded]
    if both:
        errors[where] = (
            f"{', '.join(both)} is both left out and hashed in {stream.name}; choose one"
        )


def refreshed_columns(
    selected: Sequence[StreamSelection], discovery: Discovery
) -> tuple[StreamSelection, ...]:
    """``selected`` with each stream's synced columns as ``discovery`` describes them (a
    stream the source no longer has keeps what it had)."""
    refreshed = []
    for selection in selected:
        stream = discovery.stream(selection.name)
        if stream is None:
            refreshed.append(selection)
            continue
        columns = synced_columns(stream, selection.excluded_columns)
        primary_key = selection.primary_key or stream.primary_key
        refreshed.append(replace(selection, primary_key=tuple(primary_key), columns=columns))
    return tuple(refreshed)
