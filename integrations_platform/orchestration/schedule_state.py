"""Dagster's schedule state of an integration: whether its schedule runs, and stopping
it as the UI's toggle does (for the auto-pause after repeated failures)."""

from typing import Any

import dagster as dg

from integrations_platform.dagster_private import instigation


def _schedule_origin(run: dg.DagsterRun, integration: str) -> Any:
    if run.remote_job_origin is None:
        return None
    return run.remote_job_origin.repository_origin.get_instigator_origin(f"{integration}_schedule")


def pause_schedule(
    instance: dg.DagsterInstance, run: dg.DagsterRun, integration: str, cron: str
) -> tuple[bool, str]:
    """Stop the integration's schedule in Dagster's schedule storage, as the UI's toggle
    does; returns whether it is stopped, and how."""
    states = instigation()
    origin = _schedule_origin(run, integration)
    if origin is None:
        return False, "the run was launched outside a code location, so its schedule is unknown"
    origin_id, selector_id = origin.get_id(), origin.get_selector().get_id()
    stored = instance.get_instigator_state(origin_id, selector_id)
    if stored is None:
        # A schedule running by default has no stored state until it is toggled.
        instance.add_instigator_state(
            states.InstigatorState(
                origin,
                states.InstigatorType.SCHEDULE,
                states.InstigatorStatus.STOPPED,
                states.ScheduleInstigatorData(cron_schedule=cron, start_timestamp=None),
            )
        )
    elif stored.status != states.InstigatorStatus.STOPPED:
        instance.stop_schedule(origin_id, selector_id, None)
    return True, f"Dagster schedule '{integration}_schedule' stopped"


def schedule_running(instance: dg.DagsterInstance, run: dg.DagsterRun, integration: str) -> bool:
    """Whether the integration's schedule runs (not stopped in schedule storage)."""
    stopped = instigation().InstigatorStatus.STOPPED
    origin = _schedule_origin(run, integration)
    if origin is None:
        return False
    stored = instance.get_instigator_state(origin.get_id(), origin.get_selector().get_id())
    return stored is None or stored.status != stopped
