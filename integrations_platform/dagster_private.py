"""Every use of Dagster's private modules (``dagster._…``), in one place.

Dagster exports no public handle on these: its cron parser (what its schedules accept),
the definitions load context (to pin the rows a code server loaded for its run workers),
schedule storage (to pause a schedule as the UI's toggle does), instance references
built from a folder, and the batch writing of asset events (one storage write for many
partitions' materializations, as Dagster does for a run over a partition range). Each is
imported lazily, where it is used, so that importing the platform stays cheap;
:func:`private_names` imports them all at once, and a test calls it so that a Dagster
upgrade that moves one fails loudly there instead of at run time.
"""

import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any


def is_valid_cron_string(expression: str) -> bool:
    """Whether Dagster's schedules accept ``expression``."""
    from dagster._utils.schedules import is_valid_cron_string as valid

    return bool(valid(expression))


def cron_string_iterator(start_timestamp: float, cron: str, timezone: str) -> Iterator[datetime]:
    """The ticks of ``cron`` after ``start_timestamp``, as Dagster's scheduler counts them."""
    from dagster._utils.schedules import cron_string_iterator as ticks

    return ticks(start_timestamp, cron, timezone)


def definitions_load_context() -> SimpleNamespace:
    """``DefinitionsLoadContext`` and ``DefinitionsLoadType``."""
    from dagster._core.definitions.definitions_load_context import (
        DefinitionsLoadContext,
        DefinitionsLoadType,
    )

    return SimpleNamespace(Context=DefinitionsLoadContext, LoadType=DefinitionsLoadType)


def instigation() -> SimpleNamespace:
    """Schedule storage's records: ``InstigatorState``, ``InstigatorStatus``,
    ``InstigatorType``, ``ScheduleInstigatorData``."""
    from dagster._core.scheduler.instigation import (
        InstigatorState,
        InstigatorStatus,
        InstigatorType,
        ScheduleInstigatorData,
    )

    return SimpleNamespace(
        InstigatorState=InstigatorState,
        InstigatorStatus=InstigatorStatus,
        InstigatorType=InstigatorType,
        ScheduleInstigatorData=ScheduleInstigatorData,
    )


def instance_ref_from_dir(folder: str, overrides: Mapping[str, Any] | None = None) -> Any:
    """An ``InstanceRef`` for the instance in ``folder`` (``dagster.yaml`` there)."""
    from dagster._core.instance.ref import InstanceRef

    return InstanceRef.from_dir(folder, overrides=dict(overrides) if overrides else None)


# Events per storage write when materializations are logged as a batch (Dagster's own
# setting; it enables batch writing in the run worker and is read at each event).
EVENT_BATCH_SIZE = 500


def log_materializations(step_context: Any, materializations: Sequence[Any]) -> list[Any]:
    """Log ``materializations`` of the running step as batches of ``EVENT_BATCH_SIZE``;
    the logged events, for the step's body to yield (Dagster passes a yielded event on
    without logging it again, so that in-process results list them too).

    Logged one by one (``context.log_event``), each is a storage write of its own: on
    PostgreSQL a connection and a few statements each, seconds for a few hundred
    partitions. This is Dagster's own path for a run over a partition range: the events
    carry batch metadata and the instance writes them together (``store_event_batch``;
    storages that cannot batch write them one by one, as before).
    ``step_context`` is ``context.get_step_execution_context()``.
    """
    from dagster._core.events import (
        DagsterEvent,
        DagsterEventBatchMetadata,
        generate_event_batch_id,
    )

    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", str(EVENT_BATCH_SIZE))
    batch_id = str(generate_event_batch_id())  # type: ignore[no-untyped-call]
    last = len(materializations) - 1
    return [
        DagsterEvent.asset_materialization(
            step_context, materialization, DagsterEventBatchMetadata(batch_id, index == last)
        )
        for index, materialization in enumerate(materializations)
    ]


def private_names() -> dict[str, object]:
    """Every private name the platform uses, imported now (for the test)."""
    loaded = definitions_load_context()
    states = instigation()
    from dagster._core.events import (
        DagsterEvent,
        DagsterEventBatchMetadata,
        generate_event_batch_id,
    )
    from dagster._core.instance.ref import InstanceRef
    from dagster._utils.schedules import cron_string_iterator as ticks
    from dagster._utils.schedules import is_valid_cron_string as valid

    return {
        "DefinitionsLoadContext": loaded.Context,
        "DefinitionsLoadType": loaded.LoadType,
        **vars(states),
        "InstanceRef": InstanceRef,
        "DagsterEvent.asset_materialization": DagsterEvent.asset_materialization,
        "DagsterEventBatchMetadata": DagsterEventBatchMetadata,
        "generate_event_batch_id": generate_event_batch_id,
        "cron_string_iterator": ticks,
        "is_valid_cron_string": valid,
    }
