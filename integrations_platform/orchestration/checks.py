"""Asset checks of every stream: schema, freshness and volume.

Generated with the assets (one spec each per stream) and evaluated by the sync that
materializes the stream; freshness is also failed between syncs by the notification
checks sensor when the stream is overdue — by the same rule as the stale-sync
notification (``INTEGRATIONS_STALE_FACTOR`` times the schedule's interval).

- ``schema``: passes when nothing changed since the stream's last sync; WARN when
  columns (or the stream's key) were added or changed harmlessly; ERROR when a selected
  column disappeared or changed type.
- ``freshness``: fails when the last successful sync is older than the allowed lag.
- ``volume``: WARN when a sync's row count leaves the band of the stream's recent
  history (below a tenth or above ten times the median of its last syncs).
"""

import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import dagster as dg

from integrations_platform.orchestration.partitions import ROW_COUNT
from integrations_platform.schema_changes import (
    COLUMN_ADDED,
    COLUMN_REMOVED,
    KEY_CHANGED,
    PENDING,
    TYPE_CHANGED,
    SchemaChange,
)

SCHEMA_CHECK = "schema"
FRESHNESS_CHECK = "freshness"
VOLUME_CHECK = "volume"
CHECK_NAMES = (SCHEMA_CHECK, FRESHNESS_CHECK, VOLUME_CHECK)
# The volume band: history needed, and how far from the median a count may go.
VOLUME_HISTORY = 14
VOLUME_MIN_HISTORY = 3
VOLUME_FACTOR = 10.0
VOLUME_MIN_MEDIAN = 10

_DESCRIPTIONS = {
    SCHEMA_CHECK: (
        "Passes when the source's schema of this stream did not change since its last sync; "
        "WARN for new columns, ERROR for a selected column removed or retyped."
    ),
    FRESHNESS_CHECK: (
        "Fails when the last successful sync is older than the allowed lag (the stale-sync "
        "rule: INTEGRATIONS_STALE_FACTOR times the schedule's interval)."
    ),
    VOLUME_CHECK: (
        "WARN when a sync's row count leaves the band of the stream's recent history "
        f"(below 1/{VOLUME_FACTOR:g} or above {VOLUME_FACTOR:g}x the median of its last "
        f"{VOLUME_HISTORY} syncs)."
    ),
}


def stream_check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The checks of one stream's asset."""
    return [
        dg.AssetCheckSpec(name, asset=key, description=_DESCRIPTIONS[name]) for name in CHECK_NAMES
    ]


def schema_result(key: dg.AssetKey, changes: Sequence[SchemaChange]) -> dg.AssetCheckResult:
    """The schema check from the changes seen since the stream's last sync."""
    column_changes = [c for c in changes if c.column is not None or c.kind == KEY_CHANGED]
    broken = [c for c in column_changes if c.kind in (COLUMN_REMOVED, TYPE_CHANGED)]
    added = [c for c in column_changes if c.kind == COLUMN_ADDED]
    metadata: dict[str, dg.RawMetadataValue] = {
        "changes": dg.MetadataValue.json([c.as_dict() for c in column_changes]),
        "columns_added": len(added),
        "columns_removed": len([c for c in broken if c.kind == COLUMN_REMOVED]),
        "types_changed": len([c for c in broken if c.kind == TYPE_CHANGED]),
        "waiting_for_approval": len([c for c in added if c.status == PENDING]),
    }
    if not column_changes:
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=SCHEMA_CHECK,
            passed=True,
            description="No schema change since the last sync.",
            metadata=metadata,
        )
    shown = broken or column_changes
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=SCHEMA_CHECK,
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR if broken else dg.AssetCheckSeverity.WARN,
        description="; ".join(c.describe() for c in shown),
        metadata=metadata,
    )


def volume_result(key: dg.AssetKey, rows: int, history: Sequence[int]) -> dg.AssetCheckResult:
    """The volume check of a sync of ``rows`` against earlier syncs' counts."""
    metadata: dict[str, dg.RawMetadataValue] = {"rows": rows, "history": len(history)}
    if len(history) < VOLUME_MIN_HISTORY:
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=VOLUME_CHECK,
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"{rows} rows; the band needs {VOLUME_MIN_HISTORY} earlier syncs "
                f"({len(history)} so far)."
            ),
            metadata=metadata,
        )
    median = statistics.median(history)
    low, high = median / VOLUME_FACTOR, max(median, VOLUME_MIN_MEDIAN) * VOLUME_FACTOR
    metadata.update({"median": float(median), "band_low": float(low), "band_high": float(high)})
    if median >= VOLUME_MIN_MEDIAN and rows < low:
        passed, text = False, f"{rows} rows, below the band ({low:g}–{high:g}; median {median:g})"
    elif rows > high:
        passed, text = False, f"{rows} rows, above the band ({low:g}–{high:g}; median {median:g})"
    else:
        passed, text = True, f"{rows} rows, within the band (median {median:g})"
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=VOLUME_CHECK,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=text,
        metadata=metadata,
    )


def freshness_passed(key: dg.AssetKey, allowed: timedelta | None) -> dg.AssetCheckResult:
    """A successful sync makes the stream fresh."""
    metadata: dict[str, dg.RawMetadataValue] = {}
    if allowed is not None:
        metadata["allowed_lag_minutes"] = round(allowed.total_seconds() / 60, 1)
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=FRESHNESS_CHECK,
        passed=True,
        description="Synced just now.",
        metadata=metadata,
    )


def freshness_failed(
    key: dg.AssetKey, last_success: datetime | None, allowed: timedelta
) -> dg.AssetCheckEvaluation:
    """An overdue stream, reported by the sensor between syncs (no run)."""
    when = f"last synced {last_success:%Y-%m-%d %H:%M} UTC" if last_success else "never synced"
    return dg.AssetCheckEvaluation(
        asset_key=key,
        check_name=FRESHNESS_CHECK,
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"Overdue: {when}; allowed lag {allowed}.",
        metadata={
            "allowed_lag_minutes": dg.MetadataValue.float(round(allowed.total_seconds() / 60, 1)),
            "last_success": dg.MetadataValue.text(last_success.isoformat() if last_success else ""),
        },
    )


def recent_row_counts(instance: dg.DagsterInstance, key: dg.AssetKey) -> list[int]:
    """Row counts of the stream's last whole (unpartitioned) syncs, newest first."""
    records = instance.fetch_materializations(key, limit=VOLUME_HISTORY * 2).records
    counts = []
    for record in records:
        materialization = record.asset_materialization
        if materialization is None or materialization.partition:
            continue
        value = materialization.metadata.get(ROW_COUNT)
        raw = getattr(value, "value", value)
        if isinstance(raw, int):
            counts.append(raw)
        if len(counts) >= VOLUME_HISTORY:
            break
    return counts


class StreamChecks:
    """The checks of one sync's streams. What they compare with is read once, before the
    sync materializes anything: each stream's last materialization (one batched query),
    the recent row counts of the streams whose volume is checked, and the schema changes
    recorded since the oldest of those syncs (one query of the config store)."""

    def __init__(
        self,
        wanted: set[dg.AssetCheckKey],
        last_synced: Mapping[dg.AssetKey, datetime | None],
        row_counts: Mapping[dg.AssetKey, list[int]],
        changes: Sequence[SchemaChange],
        allowed: timedelta | None,
    ) -> None:
        self.wanted = wanted
        self.last_synced = last_synced
        self.row_counts = row_counts
        self.changes = changes
        self.allowed = allowed

    @classmethod
    def read(
        cls,
        context: dg.AssetExecutionContext,
        keys: Mapping[str, dg.AssetKey],
        changes_since: Callable[[datetime | None], Sequence[SchemaChange]],
        allowed: timedelta | None,
    ) -> "StreamChecks":
        """``keys``: the selected streams' asset keys; ``changes_since(t)``: the
        integration's schema changes seen after ``t`` (all of them for None)."""
        instance = context.instance
        wanted = set(context.selected_asset_check_keys)
        events = instance.get_latest_materialization_events(list(keys.values()))
        last = {
            key: datetime.fromtimestamp(event.timestamp, UTC) if event else None
            for key, event in events.items()
        }
        volume = {
            key: recent_row_counts(instance, key)
            for key in keys.values()
            if dg.AssetCheckKey(key, VOLUME_CHECK) in wanted
        }
        schema = [k for k in keys.values() if dg.AssetCheckKey(k, SCHEMA_CHECK) in wanted]
        changes: Sequence[SchemaChange] = []
        if schema:
            stamps = [last.get(k) for k in schema]
            changes = changes_since(min(s for s in stamps if s) if None not in stamps else None)
        return cls(wanted, last, volume, changes, allowed)

    def results(self, stream: str, key: dg.AssetKey, rows: int) -> Iterator[dg.AssetCheckResult]:
        """The stream's selected checks after it synced ``rows`` rows."""
        if dg.AssetCheckKey(key, SCHEMA_CHECK) in self.wanted:
            since = self.last_synced.get(key)
            yield schema_result(
                key,
                [
                    c
                    for c in self.changes
                    if c.stream == stream and (since is None or (c.seen_at and c.seen_at > since))
                ],
            )
        if dg.AssetCheckKey(key, FRESHNESS_CHECK) in self.wanted:
            yield freshness_passed(key, self.allowed)
        if dg.AssetCheckKey(key, VOLUME_CHECK) in self.wanted:
            yield volume_result(key, rows, self.row_counts.get(key, []))
