"""Every use of Dagster's private modules (``dagster._…``), in one place.

Dagster exports no public handle on these: its cron parser (what its schedules accept),
the definitions load context (to pin the rows a code server loaded for its run workers),
schedule storage (to pause a schedule as the UI's toggle does) and instance references
built from a folder. Each is imported lazily, where it is used, so that importing the
platform stays cheap; :func:`private_names` imports them all at once, and a test calls it
so that a Dagster upgrade that moves one fails loudly there instead of at run time.
"""

from collections.abc import Iterator, Mapping
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


def private_names() -> dict[str, object]:
    """Every private name the platform uses, imported now (for the test)."""
    loaded = definitions_load_context()
    states = instigation()
    from dagster._core.instance.ref import InstanceRef
    from dagster._utils.schedules import cron_string_iterator as ticks
    from dagster._utils.schedules import is_valid_cron_string as valid

    return {
        "DefinitionsLoadContext": loaded.Context,
        "DefinitionsLoadType": loaded.LoadType,
        **vars(states),
        "InstanceRef": InstanceRef,
        "cron_string_iterator": ticks,
        "is_valid_cron_string": valid,
    }
