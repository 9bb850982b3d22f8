"""Before a sync: has the source's schema of the selected streams changed?

1. A cheap probe (:mod:`.schema_probe`) describes the selected streams in the source's
   own types; it is compared with the snapshot the last check stored.
2. Only when they differ (or a stream is gone) does the extractor's full discovery run;
   the changes are computed from the stored catalog and the new one, recorded with
   when they were seen, and the integration's policy is applied to its selection.
3. The new catalog is stored and handed to this sync: new columns are synced (unless
   the policy blocks them), removed ones are no longer asked for.

A source never discovered has no catalog to compare: its first probe is the baseline,
and later changes are computed from the probes (in the source's own types) while the
extractor keeps discovering the source itself at each sync.

Nothing here fails a sync: a probe or a discovery that cannot run is logged, and the
sync goes on with the stored catalog.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.discovery import Discovery
from integrations_platform.integration import Integration, StreamSelection
from integrations_platform.runner.schema_probe import Probe, probe_schema
from integrations_platform.schema_changes import (
    COLUMN_ADDED,
    COLUMN_REMOVED,
    KEY_CHANGED,
    STREAM_REMOVED,
    TYPE_CHANGED,
    SchemaChange,
    apply_policy,
    diff_discoveries,
)
from integrations_platform.service.selection import refreshed_columns
from integrations_platform.settings import Settings
from integrations_platform.store import ConfigStore
from integrations_platform.store.discoveries import load_discovery, save_discovery
from integrations_platform.store.schema import load_snapshots, record_changes, save_snapshots


@dataclass
class SchemaCheck:
    """What the check found and decided."""

    # The integration as stored after the policy (its selection may have changed).
    integration: Integration
    # Changes recorded by this check (with their status under the policy).
    changes: list[SchemaChange] = field(default_factory=list)
    # The catalog this sync hands the tap (None: none stored; the tap discovers).
    catalog: dict[str, Any] | None = None
    probed: bool = False
    discovered: bool = False
    seconds: float = 0.0
    note: str = ""

    def stream(self, name: str) -> StreamSelection | None:
        """The stream's selection after the check."""
        return self.integration.stream(name)


def _differs(
    probe: Probe,
    snapshots: Mapping[str, Mapping[str, str]],
    stored: Discovery | None,
) -> list[str]:
    """The probed streams whose schema differs from what was seen before. A stream never
    probed is compared by column names with the stored discovery; with neither, this
    probe is its baseline."""
    changed = []
    for name, columns in probe.items():
        before = snapshots.get(name)
        known = stored.stream(name) if stored is not None else None
        if columns is None:
            if before is not None or known is not None:
                changed.append(name)
        elif before is not None:
            if dict(before) != dict(columns):
                changed.append(name)
        elif known is not None and {c.name for c in known.columns} != set(columns):
            changed.append(name)
    return changed


def diff_snapshots(
    before: Mapping[str, Mapping[str, str]], probe: Probe, streams: Sequence[str]
) -> list[SchemaChange]:
    """Changes between two probes, in the source's own types (when no discovery is
    stored to compare catalogs: the extractor then discovers the source itself)."""
    changes: list[SchemaChange] = []
    for name in streams:
        old, new = before.get(name), probe.get(name)
        if old is None:
            continue
        if new is None:
            changes.append(SchemaChange(name, STREAM_REMOVED))
            continue
        plain_old = {c: t.removesuffix(" key") for c, t in old.items()}
        plain_new = {c: t.removesuffix(" key") for c, t in new.items()}
        changes += [
            SchemaChange(name, COLUMN_ADDED, c, None, t)
            for c, t in plain_new.items()
            if c not in plain_old
        ]
        changes += [
            SchemaChange(name, COLUMN_REMOVED, c, t, None)
            for c, t in plain_old.items()
            if c not in plain_new
        ]
        changes += [
            SchemaChange(name, TYPE_CHANGED, c, plain_old[c], t)
            for c, t in plain_new.items()
            if c in plain_old and plain_old[c] != t
        ]
        keys_old = [c for c, t in old.items() if t.endswith(" key")]
        keys_new = [c for c, t in new.items() if t.endswith(" key")]
        if keys_old != keys_new:
            changes.append(
                SchemaChange(name, KEY_CHANGED, None, ", ".join(keys_old), ", ".join(keys_new))
            )
    return changes


def check_schema(
    store: ConfigStore,
    integration: Integration,
    connector: ConnectorSpec,
    config: Mapping[str, Any],
    settings: Settings,
    environ: Mapping[str, str],
    streams: Sequence[str],
    log: Callable[[str], None],
    discover: Callable[[], Discovery | None] | None = None,
) -> SchemaCheck:
    """Check ``streams`` of ``integration`` (see the module docstring).

    ``discover`` runs the source's full discovery (default: the extractor's, with
    ``config``); it returns None when the discovery failed."""
    started = time.monotonic()
    stored = load_discovery(store, integration.id)
    result = SchemaCheck(integration, catalog=dict(stored.catalog) if stored else None)
    if connector.schema_probe == "none" or not streams:
        return result
    probe: Probe | None = None
    changed: list[str]
    if connector.schema_probe == "discovery":
        changed = list(streams)
    else:
        probe = probe_schema(connector, config, streams, environ)
        result.probed = probe is not None
        if probe is None:
            result.note = "the source's schema could not be checked (the probe failed)"
            result.seconds = time.monotonic() - started
            return result
        snapshots = load_snapshots(store, integration.id)
        changed = _differs(probe, snapshots, stored)
        if changed and stored is None:
            # Nothing discovered to compare catalogs with (nor to hand the tap: it
            # discovers the source itself): the changes in the source's own types.
            _apply_changes(store, result, diff_snapshots(snapshots, probe, changed), None)
            changed = []
    if changed:
        log(
            f"The source's schema of {', '.join(changed)} changed since the last check; "
            "discovering the source"
        )
        found = (discover or (lambda: _discover(connector, config, settings, environ)))()
        result.discovered = True
        if found is None:
            result.note = "the source changed, but its discovery failed; syncing as before"
            result.seconds = time.monotonic() - started
            return result
        _apply(store, result, stored, found, streams)
    if probe is not None:
        save_snapshots(store, integration.id, {k: v for k, v in probe.items() if v is not None})
    result.seconds = time.monotonic() - started
    return result


def _apply(
    store: ConfigStore,
    result: SchemaCheck,
    stored: Discovery | None,
    found: Discovery,
    streams: Sequence[str],
) -> None:
    changes = diff_discoveries(stored, found, selected=streams) if stored else []
    save_discovery(store, result.integration.id, found)
    result.catalog = dict(found.catalog)
    _apply_changes(store, result, changes, found)


def _apply_changes(
    store: ConfigStore,
    result: SchemaCheck,
    changes: Sequence[SchemaChange],
    found: Discovery | None,
) -> None:
    result.integration, result.changes = apply_changes(store, result.integration, changes, found)


def apply_changes(
    store: ConfigStore,
    integration: Integration,
    changes: Sequence[SchemaChange],
    found: Discovery | None,
) -> tuple[Integration, list[SchemaChange]]:
    """Record ``changes`` with their status under the integration's policy, and store
    the selection the policy leaves (each stream's columns as ``found`` describes them).
    Returns the integration as stored and the changes as recorded."""
    decided: list[SchemaChange] = []

    def change(current: Integration) -> Integration:
        # The stored record may be newer than the caller's copy: the policy applies to it.
        outcome = apply_policy(current.schema_policy, current.streams, changes, found)
        decided[:] = outcome.changes
        streams = refreshed_columns(outcome.streams, found) if found else outcome.streams
        return replace(current, streams=streams)

    if change(integration).streams != integration.streams:
        integration = store.update(integration.name, change)
    recorded = record_changes(store, integration.id, decided) if decided else []
    return integration, recorded


def _discover(
    connector: ConnectorSpec,
    config: Mapping[str, Any],
    settings: Settings,
    environ: Mapping[str, str],
) -> Discovery | None:
    from integrations_platform.runner.discovery import run_discovery

    return run_discovery(connector, config, settings, environ).discovery
