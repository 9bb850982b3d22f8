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
from collections.abc import Sequence
from datetime import datetime, timedelta

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
