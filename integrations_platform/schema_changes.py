"""Schema changes: what changed in a source between two looks at it, and what a sync
does about it.

A sync compares the source's current schema of its selected streams with the stored one
(:mod:`integrations_platform.runner.schema_probe` looks cheaply; a difference brings a
full discovery), records every change, and applies the integration's policy:

- ``allow_all``: new columns of selected streams are synced, new streams are selected;
- ``allow_columns`` (the default): new columns are synced, new streams wait for someone
  to select them;
- ``block_all``: new columns and new streams are left out until someone approves them.

Removed columns and type changes are never silent: the sync goes on with what still
exists, and the change is raised (a warning notification, an ERROR asset check).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from integrations_platform.discovery import DiscoveredStream, Discovery
from integrations_platform.errors import ConfigurationError
from integrations_platform.integration import StreamSelection

ALLOW_ALL = "allow_all"
ALLOW_COLUMNS = "allow_columns"
BLOCK_ALL = "block_all"
POLICIES = (ALLOW_ALL, ALLOW_COLUMNS, BLOCK_ALL)
DEFAULT_POLICY = ALLOW_COLUMNS
POLICY_HELP = {
    ALLOW_ALL: "new columns are synced and new streams are selected",
    ALLOW_COLUMNS: "new columns are synced; new streams wait for someone to select them",
    BLOCK_ALL: "new columns and new streams are left out until someone approves them",
}

# Kinds of change.
STREAM_ADDED = "stream_added"
STREAM_REMOVED = "stream_removed"
COLUMN_ADDED = "column_added"
COLUMN_REMOVED = "column_removed"
TYPE_CHANGED = "type_changed"
KEY_CHANGED = "key_changed"
KINDS = (STREAM_ADDED, STREAM_REMOVED, COLUMN_ADDED, COLUMN_REMOVED, TYPE_CHANGED, KEY_CHANGED)

# What became of a change: applied by the policy (synced, or nothing to decide), waiting
# for an approval, or approved by someone.
APPLIED = "applied"
PENDING = "pending"
APPROVED = "approved"


def check_policy(
    value: str | None, errors: dict[str, str], field_name: str = "schema_policy"
) -> str:
    """``value`` if it is a policy (None: the default); otherwise an error in ``errors``."""
    if value is None:
        return DEFAULT_POLICY
    if value not in POLICIES:
        errors[field_name] = (
            f"unknown schema policy {value!r}; choose one of {', '.join(POLICIES)} "
            + "; ".join(f"{p}: {h}" for p, h in POLICY_HELP.items()).join(("(", ")"))
        )
        return DEFAULT_POLICY
    return value


@dataclass(frozen=True)
class SchemaChange:
    """One change of one stream (``column`` None for the stream itself)."""

    stream: str
    kind: str
    column: str | None = None
    old: str | None = None
    new: str | None = None
    # Set once stored.
    id: int | None = None
    status: str = APPLIED
    seen_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None

    @property
    def severity(self) -> str:
        """``error`` for what can break a reader (a selected column gone, a new type,
        a stream gone), ``warning`` for a new key, ``info`` for what was added."""
        if self.kind in (COLUMN_REMOVED, TYPE_CHANGED, STREAM_REMOVED):
            return "error"
        if self.kind == KEY_CHANGED:
            return "warning"
        return "info"

    def describe(self) -> str:
        """One line: ``Account.Rating__c: column added (string)``."""
        where = f"{self.stream}.{self.column}" if self.column else self.stream
        what = self.kind.replace("_", " ")
        if self.kind == TYPE_CHANGED:
            return f"{where}: type changed from {self.old} to {self.new}"
        if self.kind == KEY_CHANGED:
            return f"{where}: primary key changed from ({self.old or ''}) to ({self.new or ''})"
        detail = self.new or self.old
        return f"{where}: {what}" + (f" ({detail})" if detail else "")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "id": self.id,
            "stream": self.stream,
            "column": self.column,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "status": self.status,
            "severity": self.severity,
            "description": self.describe(),
            "seen_at": self.seen_at.isoformat() if self.seen_at else None,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "decided_by": self.decided_by,
        }


def column_type(stream: DiscoveredStream, name: str) -> str | None:
    """The column's type as the diff compares it: ``string``, ``string/date-time``."""
    column = stream.column(name)
    if column is None:
        return None
    return f"{column.type}/{column.format}" if column.format else column.type


def _columns(stream: DiscoveredStream) -> dict[str, str]:
    return {
        c.name: (f"{c.type}/{c.format}" if c.format else c.type)
        for c in stream.columns
        if c.inclusion != "unsupported"
    }


def diff_stream(old: DiscoveredStream, new: DiscoveredStream) -> list[SchemaChange]:
    """The changes of one stream between two discoveries."""
    before, after = _columns(old), _columns(new)
    changes = [
        SchemaChange(new.name, COLUMN_ADDED, name, None, kind)
        for name, kind in after.items()
        if name not in before
    ]
    changes += [
        SchemaChange(new.name, COLUMN_REMOVED, name, kind, None)
        for name, kind in before.items()
        if name not in after
    ]
    changes += [
        SchemaChange(new.name, TYPE_CHANGED, name, before[name], kind)
        for name, kind in after.items()
        if name in before and before[name] != kind
    ]
    if old.primary_key != new.primary_key:
        changes.append(
            SchemaChange(
                new.name, KEY_CHANGED, None, ", ".join(old.primary_key), ", ".join(new.primary_key)
            )
        )
    return changes


def diff_discoveries(
    old: Discovery, new: Discovery, selected: Sequence[str] | None = None
) -> list[SchemaChange]:
    """Every change between two discoveries: streams added or removed, and the column
    and key changes of ``selected`` streams (all streams when None)."""
    old_names = {s.name for s in old.streams}
    new_names = {s.name for s in new.streams}
    changes = [SchemaChange(s.name, STREAM_ADDED) for s in new.streams if s.name not in old_names]
    changes += [
        SchemaChange(s.name, STREAM_REMOVED) for s in old.streams if s.name not in new_names
    ]
    wanted = set(selected) if selected is not None else old_names & new_names
    for stream in new.streams:
        before = old.stream(stream.name)
        if before is not None and stream.name in wanted:
            changes += diff_stream(before, stream)
    return changes


@dataclass
class PolicyOutcome:
    """What applying the policy to a set of changes decided."""

    streams: tuple[StreamSelection, ...]
    changes: list[SchemaChange] = field(default_factory=list)


def apply_policy(
    policy: str,
    streams: Sequence[StreamSelection],
    changes: Sequence[SchemaChange],
    discovery: Discovery | None,
) -> PolicyOutcome:
    """The selection after ``changes`` under ``policy``, and each change with its status.

    Under ``block_all`` a new column is left out (added to the stream's left-out columns)
    and its change waits for approval; under ``allow_all`` a new stream is selected
    (incremental on its default key); otherwise a new stream waits. Removals and type
    changes need no decision: the sync goes on with what exists.
    """
    selected = {s.name: s for s in streams}
    order = [s.name for s in streams]
    decided: list[SchemaChange] = []
    for change in changes:
        status = APPLIED
        if change.kind == COLUMN_ADDED and policy == BLOCK_ALL and change.stream in selected:
            current = selected[change.stream]
            if change.column and change.column not in current.excluded_columns:
                selected[change.stream] = replace(
                    current, excluded_columns=(*current.excluded_columns, change.column)
                )
            status = PENDING
        elif change.kind == STREAM_ADDED:
            if policy == ALLOW_ALL:
                found = discovery.stream(change.stream) if discovery else None
                if found is not None and change.stream not in selected:
                    selected[change.stream] = StreamSelection(
                        name=found.name,
                        replication_key=found.default_replication_key,
                        primary_key=found.primary_key,
                    )
                    order.append(change.stream)
            else:
                status = PENDING
        decided.append(replace(change, status=status))
    return PolicyOutcome(tuple(selected[name] for name in order), decided)


def approve_in_selection(
    streams: Sequence[StreamSelection],
    change: SchemaChange,
    discovery: Discovery | None,
) -> tuple[StreamSelection, ...]:
    """The selection once ``change`` (pending) is approved: a blocked column synced, a
    new stream selected."""
    if change.kind == COLUMN_ADDED:
        return tuple(
            replace(s, excluded_columns=tuple(c for c in s.excluded_columns if c != change.column))
            if s.name == change.stream
            else s
            for s in streams
        )
    if change.kind == STREAM_ADDED and all(s.name != change.stream for s in streams):
        found = discovery.stream(change.stream) if discovery else None
        if found is None:
            raise ConfigurationError(
                f"The source no longer has the stream {change.stream}",
                "Refresh the schema (`integrations discover NAME`) and look again.",
            )
        return (
            *streams,
            StreamSelection(
                name=found.name,
                replication_key=found.default_replication_key,
                primary_key=found.primary_key,
            ),
        )
    return tuple(streams)


def snapshot(stream: DiscoveredStream) -> dict[str, str]:
    """A stream's columns as a probe reports them: name → type (what is compared)."""
    return _columns(stream)


def summarize(changes: Sequence[SchemaChange]) -> Mapping[str, list[SchemaChange]]:
    """Changes grouped by stream, in order."""
    grouped: dict[str, list[SchemaChange]] = {}
    for change in changes:
        grouped.setdefault(change.stream, []).append(change)
    return grouped
