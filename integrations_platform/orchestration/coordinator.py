"""Every run names the integrations it syncs, however it was launched.

The one-run-per-integration limit is a limit on the ``integration`` run tag. Runs that the
platform launches (API, CLI, schedules) carry it from the job; runs that Dagster's own
buttons launch — Materialize on an asset or a group, a launchpad backfill, a re-execution —
run the implicit asset job, which has no tags. :class:`IntegrationsRunCoordinator` is
Dagster's queued run coordinator that, before it queues a run, reads which of the
platform's steps the run executes (their op tags name the integration and connector) and
tags the run with them, so the queue applies the limit to every run alike.

Runs that do not go through a coordinator (``dagster asset materialize`` and ``dagster job
execute`` execute in the calling process) are tagged by the sync step itself when it
starts (:func:`tag_run_at_start`), so that the queue counts them while they run; two of
them at once are kept apart by the integration's lock (``runner/locks.py``).
"""

from collections.abc import Mapping

import dagster as dg

from integrations_platform.orchestration.constants import CONNECTOR_TAG, INTEGRATION_TAG

# The integrations of a run that syncs more than one (informational: the queue's tag
# limit applies to the single value of ``integration``).
INTEGRATIONS_TAG = "integrations/integrations"


class IntegrationsRunCoordinator(dg.QueuedRunCoordinator):
    """Dagster's queued run coordinator, tagging each run with its integration first.

    Configured in ``dagster.yaml`` (rendered by ``integrations dagster-yaml``)::

        run_coordinator:
          module: integrations_platform.orchestration.coordinator
          class: IntegrationsRunCoordinator
    """

    def submit_run(self, context: dg.SubmitRunContext) -> dg.DagsterRun:
        run = context.dagster_run
        missing = missing_tags(run.tags, run_step_tags(self._instance, run))
        if missing:
            self._instance.add_run_tags(run.run_id, missing)
            run = self._instance.get_run_by_id(run.run_id) or run
            context = dg.SubmitRunContext(run, context.workspace)
        return super().submit_run(context)


def run_step_tags(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[Mapping[str, str]]:
    """The op tags of the steps ``run`` executes (from its stored execution plan)."""
    if not run.execution_plan_snapshot_id:
        return []
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    selected = set(plan.step_keys_to_execute)
    return [step.tags or {} for step in plan.steps if step.key in selected]


def missing_tags(run_tags: Mapping[str, str], step_tags: list[Mapping[str, str]]) -> dict[str, str]:
    """The run tags that name the integration and connector a run syncs, where absent.

    >>> missing_tags({}, [{"integration": "crm", "integrations/connector": "salesforce"}])
    {'integration': 'crm', 'integrations/connector': 'salesforce'}
    >>> missing_tags({"integration": "crm"}, [{"integration": "crm"}])
    {}
    >>> missing_tags({}, [{"integration": "b"}, {"integration": "a"}])
    {'integrations/integrations': 'a,b'}
    """
    names = sorted({t[INTEGRATION_TAG] for t in step_tags if INTEGRATION_TAG in t})
    connectors = sorted({t[CONNECTOR_TAG] for t in step_tags if CONNECTOR_TAG in t})
    tags: dict[str, str] = {}
    if len(names) == 1 and INTEGRATION_TAG not in run_tags:
        tags[INTEGRATION_TAG] = names[0]
    elif len(names) > 1 and INTEGRATIONS_TAG not in run_tags:
        # One value per tag: such a run is kept apart from the others by each
        # integration's lock, step by step.
        tags[INTEGRATIONS_TAG] = ",".join(names)
    if len(connectors) == 1 and CONNECTOR_TAG not in run_tags:
        tags[CONNECTOR_TAG] = connectors[0]
    return tags


def tag_run_at_start(context: dg.AssetExecutionContext, integration: str, connector: str) -> None:
    """Tag a run that reached its sync step without the coordinator (an in-process
    ``dagster asset materialize``), so that the queue counts it while it runs."""
    if INTEGRATION_TAG in context.run.tags or INTEGRATIONS_TAG in context.run.tags:
        return
    missing = missing_tags(
        context.run.tags, [{INTEGRATION_TAG: integration, CONNECTOR_TAG: connector}]
    )
    context.instance.add_run_tags(context.run_id, missing)
