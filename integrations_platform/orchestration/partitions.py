"""A sync's partitions: the windows a partitioned run loads, the windows an incremental
sync has covered, and the streams an earlier attempt of a re-executed run loaded."""

from collections.abc import Mapping, Sequence
from datetime import datetime

import dagster as dg

from integrations_platform.catalog.validation import format_datetime
from integrations_platform.dagster_private import log_materializations
from integrations_platform.integration import StreamSelection
from integrations_platform.orchestration.constants import META_INTEGRATION, META_STREAM


def partition_materialization(
    key: dg.AssetKey,
    partition: str,
    window: str,
    names: Mapping[str, str],
    **metadata: object,
) -> dg.AssetMaterialization:
    """``partition`` of ``key`` as materialized, naming its integration and stream
    (``names``) and its time window."""
    return dg.AssetMaterialization(
        asset_key=key,
        partition=partition,
        metadata={**names, **metadata, "window": window},  # type: ignore[dict-item]
    )


def log_partitions(
    context: dg.AssetExecutionContext, materializations: Sequence[dg.AssetMaterialization]
) -> list[dg.DagsterEvent]:
    """Log the partitions' materializations together: one storage write per batch (a few
    hundred logged one by one cost seconds of a run, and on PostgreSQL a connection each).
    Returns the logged events, which the asset's body yields."""
    if not materializations:
        return []
    return log_materializations(context.get_step_execution_context(), materializations)


# Dagster's standard row count, shown in the asset's overview beside its table schema.
ROW_COUNT = "dagster/row_count"


# The covered partitions one sync records per stream, newest first (written as one batch
# on PostgreSQL; SQLite's event storage writes them one by one, ~2–4 s).
MAX_COVERED_PER_SYNC = 400


def record_covered_partitions(
    context: dg.AssetExecutionContext,
    integration: str,
    key: dg.AssetKey,
    stream: StreamSelection,
    started: datetime,
) -> list[dg.DagsterEvent]:
    """Record as materialized the partitions an incremental or full sync has covered.

    Such a sync leaves the destination holding every record of the stream changed from
    the integration's start date to the moment the sync started: the first sync (and a
    full refresh, and the first after a reset) reads from the start date, and each later
    one from the bookmark the previous one left. So every *complete* window that ends by
    then is loaded; the current one is not yet complete and stays unmaterialized until
    the sync after it ends. Returns the events logged, which the asset's body yields.
    """
    partitions = context.assets_def.partitions_def
    if not isinstance(partitions, dg.TimeWindowPartitionsDefinition):
        return []
    complete = partitions.get_partition_keys(current_time=started)
    done = context.instance.get_materialized_partitions(key)
    new = [k for k in complete if k not in done]
    if len(new) > MAX_COVERED_PER_SYNC:
        # One event each: years of days would take minutes. The newest are recorded
        # (what Dagster's partition dialog shows first); each later sync adds as many.
        context.log.warning(
            f"{stream.name}: {len(new) - MAX_COVERED_PER_SYNC} older complete window(s) "
            f"({new[0]}…{new[-MAX_COVERED_PER_SYNC - 1]}) are loaded but not marked yet: "
            f"Dagster records one event per partition, and a sync marks at most "
            f"{MAX_COVERED_PER_SYNC}; the next syncs mark the rest"
        )
        new = new[-MAX_COVERED_PER_SYNC:]
    names = {META_INTEGRATION: integration, META_STREAM: stream.name}
    windows = (partitions.time_window_for_partition_key(p) for p in new)
    events = log_partitions(
        context,
        [
            partition_materialization(
                key,
                partition,
                f"[{format_datetime(window.start)}, {format_datetime(window.end)})",
                names,
                covered_by="sync",
            )
            for partition, window in zip(new, windows, strict=True)
        ],
    )
    if new:
        span = new[0] if len(new) == 1 else f"{new[0]}…{new[-1]}"
        context.log.info(
            f"{stream.name}: partition(s) {span} now loaded ({len(new)} complete window(s) "
            f"up to {format_datetime(started)})"
        )
    return events


def materialized_by_earlier_attempts(context: dg.AssetExecutionContext) -> set[str]:
    """Streams already materialized by the runs a from-failure re-execution retries.

    Dagster re-runs a failed multi-asset step whole; the streams that succeeded in an
    earlier attempt of the same run group are not synced again.
    """
    run = context.run
    if run.tags.get("dagster/is_resume_retry") != "true" or not run.parent_run_id:
        return set()
    done: set[str] = set()
    run_id: str | None = run.parent_run_id
    while run_id:
        records = context.instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        for record in records:
            materialization = record.asset_materialization
            if materialization is not None and META_STREAM in materialization.metadata:
                done.add(str(materialization.metadata[META_STREAM].value))
        parent = context.instance.get_run_by_id(run_id)
        resumed = parent is not None and parent.tags.get("dagster/is_resume_retry") == "true"
        run_id = parent.parent_run_id if parent is not None and resumed else None
    return done


def partition_windows(context: dg.AssetExecutionContext) -> list[tuple[str, str, str]]:
    """``(partition key, start, end)`` for each partition of a partitioned run, else []."""
    if not (context.has_partition_key or context.has_partition_key_range):
        return []
    partitions = context.assets_def.partitions_def
    if not isinstance(partitions, dg.TimeWindowPartitionsDefinition):
        return []
    windows = []
    for key in context.partition_keys:
        window = partitions.time_window_for_partition_key(key)
        windows.append((key, format_datetime(window.start), format_datetime(window.end)))
    return windows
