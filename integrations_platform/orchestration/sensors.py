"""Notification sensors of the generated definitions (running by default).

- ``integrations_run_failure_notifications``: every failed run of an integration becomes
  (or updates) a classified notification; after ``INTEGRATIONS_AUTO_PAUSE_AFTER``
  failures in a row the integration's schedule is stopped in Dagster.
- ``integrations_run_success_notifications``: a successful run resolves them (and a
  "successful" run that found selected streams missing from the source counts as a
  failure of category *source*).
- ``integrations_notification_checks``: misconfigured and stale integrations (a stale
  one's streams fail their freshness check), the notifications of removed ones, and the
  webhook outbox.

Nothing here runs while definitions load: the store, the keys and the catalog are
opened when a sensor is evaluated.
"""

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from sqlalchemy import Engine

from integrations_platform.catalog import load_catalog
from integrations_platform.errors import PlatformError
from integrations_platform.integration import Integration
from integrations_platform.notifications.checks import find_stale, last_successes
from integrations_platform.notifications.models import KIND_AUTO_PAUSED, KIND_STALE
from integrations_platform.notifications.service import NotificationService
from integrations_platform.notifications.settings import NotificationSettings
from integrations_platform.orchestration.checks import freshness_failed
from integrations_platform.orchestration.constants import INTEGRATION_TAG
from integrations_platform.orchestration.schedule_state import pause_schedule, schedule_running
from integrations_platform.orchestration.translator import load_translator, stream_asset_keys
from integrations_platform.runner.redaction import PathScrubber, Redactor
from integrations_platform.service import IntegrationService
from integrations_platform.settings import Settings
from integrations_platform.store import ConfigStore, KeyRing

logger = logging.getLogger(__name__)

FAILURE_SENSOR = "integrations_run_failure_notifications"
SUCCESS_SENSOR = "integrations_run_success_notifications"
CHECKS_SENSOR = "integrations_notification_checks"
WEBHOOK_BUDGET_S = 10.0
MIN_CHECKS_INTERVAL_S = 60

# Dagster's wrapper messages around the real error of a step.
_GENERIC = (
    "Execution of step",
    "Error occurred while executing",
    "Execution of run",
    "Error occurred during the execution of step",
)
_WRAPPERS = {"DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError"}
# Meltano's warning when a selected stream is not in the tap's discovered catalog.
_MISSING_STREAM = re.compile(r"Stream `([^`]+)` was not found in the catalog")


# -- what a sensor needs at evaluation time -----------------------------------------


class _Runtime:
    """The service over the config database, opened once per process and URL."""

    _lock = threading.Lock()
    _services: dict[tuple[str, NotificationSettings], NotificationService] = {}

    @classmethod
    def service(cls, settings: Settings) -> NotificationService:
        notification_settings = NotificationSettings.from_env()
        key = (settings.database_url, notification_settings)
        with cls._lock:
            service = cls._services.get(key)
            if service is None:
                # Migrates once per process: the code server never migrates at load.
                service = NotificationService.open(settings.database_url, notification_settings)
                cls._services[key] = service
            return service

    @classmethod
    def reset(cls) -> None:
        """Forget the opened services (tests switch databases)."""
        with cls._lock:
            for service in cls._services.values():
                service.store.engine.dispose()
            cls._services.clear()


def reset_notification_runtime() -> None:
    """Close what the sensors opened in this process."""
    _Runtime.reset()


def _keyring(settings: Settings) -> KeyRing | None:
    try:
        return KeyRing.from_settings(os.environ, settings.key_file)
    except PlatformError:
        return None


def notification_redactor(settings: Settings, engine: Engine, name: str) -> Callable[[str], str]:
    """What a notification of integration ``name`` shows: its secret values masked
    (defence in depth: runs already redact) and the server's folders hidden.

    ``engine`` is the config store's (the notifications live beside the integrations).
    """
    service = IntegrationService.from_settings(settings, os.environ, store=ConfigStore(engine))
    try:
        redact = service.redactor(service.get(name)).redact
    except PlatformError:
        redact = Redactor(()).redact
    scrub = PathScrubber.for_settings(settings).scrub
    return lambda text: scrub(redact(text))


# -- reading runs ---------------------------------------------------------------------


def integration_of(
    run: dg.DagsterRun, owners: Mapping[dg.AssetKey, str], instance: dg.DagsterInstance
) -> str | None:
    """The integration a run synced: its tag, else the one integration that owns the
    assets it selected or planned to materialize (``owners``: asset key → integration,
    from the specs) — runs launched from the asset graph carry no tag."""
    tagged = run.tags.get(INTEGRATION_TAG)
    if tagged:
        return tagged
    keys = set(run.asset_selection or ())
    if not keys:
        planned = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
        keys = {r.asset_key for r in planned if r.asset_key is not None}
    names = {owners[key] for key in keys if key in owners}
    return names.pop() if len(names) == 1 else None


def _innermost(error: Any) -> str:
    while error is not None:
        message = (error.message or "").strip()
        nested = error.cause or error.context
        if nested is not None and (error.cls_name in _WRAPPERS or message.startswith(_GENERIC)):
            error = nested
            continue
        return message
    return ""


def failure_text(instance: dg.DagsterInstance, run_id: str, run_event: Any = None) -> str:
    """The real error of a failed run: each failed step's ``Failure`` description, or the
    innermost cause of its exception; else the run failure event's error."""
    texts: list[str] = []
    records = instance.get_records_for_run(
        run_id=run_id, of_type=dg.DagsterEventType.STEP_FAILURE
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.step_failure_data if event else None
        if data is None:
            continue
        user = data.user_failure_data
        if user is not None and user.description:
            texts.append(user.description)
        elif data.error is not None:
            texts.append(_innermost(data.error))
    if not texts and run_event is not None:
        error = getattr(run_event.event_specific_data, "error", None)
        texts.append(_innermost(error) if error is not None else (run_event.message or ""))
    return "\n".join(t for t in texts if t) or "The run failed without an error message."


def missing_streams(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Selected streams the source no longer has (Meltano warns and syncs nothing)."""
    found: list[str] = []
    for entry in instance.all_logs(run_id):
        for name in _MISSING_STREAM.findall(entry.user_message or ""):
            if name not in found:
                found.append(name)
    return found


def _ended_at(instance: dg.DagsterInstance, run_id: str) -> datetime | None:
    record = instance.get_run_record_by_id(run_id)
    if record is None or record.end_time is None:
        return None
    return datetime.fromtimestamp(record.end_time, UTC)


def _succeeded_since(instance: dg.DagsterInstance, integration: str, when: datetime | None) -> bool:
    """Whether a later run of the integration already succeeded (runs seen out of order)."""
    if when is None:
        return False
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            tags={INTEGRATION_TAG: integration}, statuses=[dg.DagsterRunStatus.SUCCESS]
        ),
        limit=1,
    )
    return bool(records and records[0].end_time and records[0].end_time > when.timestamp())


# -- the sensors ------------------------------------------------------------------------


def handle_run_failure(
    context: dg.RunFailureSensorContext,
    owners: Mapping[dg.AssetKey, str],
    schedules: dict[str, str],
) -> str:
    """Record one failed run; returns what was done (for the tick's log)."""
    run = context.dagster_run
    integration = integration_of(run, owners, context.instance)
    if integration is None:
        return f"run {run.run_id} is not an integration's sync"
    settings = Settings.from_env()
    service = _Runtime.service(settings)
    failed_at = _ended_at(context.instance, run.run_id)
    if _succeeded_since(context.instance, integration, failed_at):
        return f"run {run.run_id} of '{integration}' failed, but a later run already succeeded"
    text = failure_text(context.instance, run.run_id, context.failure_event)
    recorded, classification = service.record_run_failure(
        integration,
        run.run_id,
        text,
        notification_redactor(settings, service.store.engine, integration),
        failed_at=failed_at,
    )
    done = (
        f"'{integration}' run {run.run_id}: {classification.category} "
        f"(failure {recorded.notification.count} in a row)"
    )
    threshold = service.settings.auto_pause_after
    count = recorded.notification.count
    if threshold and count >= threshold and not recorded.duplicate:
        if service.store.open_for(f"{KIND_AUTO_PAUSED}:{integration}") is None:
            paused, detail = pause_schedule(
                context.instance, run, integration, schedules.get(integration, "")
            )
            service.record_auto_paused(integration, count, run.run_id, paused, detail)
            done += f"; auto-pause: {detail}"
    service.deliver(WEBHOOK_BUDGET_S)
    return done


def handle_run_success(
    context: dg.RunStatusSensorContext, owners: Mapping[dg.AssetKey, str]
) -> str:
    """Record one successful run; returns what was done."""
    run = context.dagster_run
    integration = integration_of(run, owners, context.instance)
    if integration is None:
        return f"run {run.run_id} is not an integration's sync"
    service = _Runtime.service(Settings.from_env())
    finished_at = _ended_at(context.instance, run.run_id)
    missing = missing_streams(context.instance, run.run_id)
    if missing:
        recorded = service.record_missing_streams(integration, run.run_id, missing, finished_at)
        done = f"'{integration}' run {run.run_id}: missing {', '.join(missing)}"
        done += f" (failure {recorded.notification.count} in a row)"
    else:
        resolved = service.record_run_success(integration, run.run_id, finished_at)
        if service.store.open_for(f"{KIND_AUTO_PAUSED}:{integration}") and schedule_running(
            context.instance, run, integration
        ):
            resolved += service.resolve_auto_paused(
                integration, f"schedule resumed; run {run.run_id} succeeded"
            )
        done = f"'{integration}' run {run.run_id} succeeded; resolved {len(resolved)}"
    service.deliver(WEBHOOK_BUDGET_S)
    return done


def run_checks(
    instance: dg.DagsterInstance,
    asset_keys: Mapping[str, Mapping[str, dg.AssetKey]] | None = None,
    now: datetime | None = None,
) -> str:
    """Misconfigurations, stale syncs, removed integrations, then the webhook outbox.

    ``asset_keys`` (integration → stream → key, from the definitions' specs) tells when
    each integration last synced; without it, the configured translator's keys.
    """
    settings = Settings.from_env()
    service = _Runtime.service(settings)
    stored = ConfigStore(service.store.engine).list_all()
    names = [s.name for s in stored]
    catalog = load_catalog(settings.catalog_dir)
    found = service.check_misconfigurations(catalog, stored, _keyring(settings))
    stale = []
    if service.settings.stale_factor > 0:
        enabled = [s for s in stored if s.enabled]
        if asset_keys is None:
            translator = load_translator(settings.translator)
            asset_keys = {
                i.name: stream_asset_keys(translator, i, catalog.get(i.connector))
                for i in enabled
                if i.connector in catalog
            }
        stale = find_stale(
            enabled,
            last_successes(instance, enabled, asset_keys),
            service.settings.stale_factor,
            now or datetime.now(UTC),
        )
        already = {n.integration for n in service.store.unresolved((KIND_STALE,))}
        service.sync_stale(stale, names)
        # The streams' freshness checks fail once, when the integration becomes stale
        # (a successful sync passes them again).
        for item in stale:
            if item.integration in already:
                continue
            for key in asset_keys.get(item.integration, {}).values():
                instance.report_runless_asset_event(
                    freshness_failed(key, item.last_success_at, item.threshold)
                )
    service.resolve_removed(names)
    flushed = service.deliver(WEBHOOK_BUDGET_S)
    return (
        f"{len(found)} misconfigured, {len(stale)} stale; webhooks: {flushed.delivered} "
        f"delivered, {flushed.failed} failed"
    )


def build_notification_sensors(
    integrations: Sequence[Integration],
    settings: NotificationSettings | None = None,
    asset_keys: Mapping[str, Mapping[str, dg.AssetKey]] | None = None,
) -> list[dg.SensorDefinition]:
    """The notification sensors for these integrations' runs (this code location only).

    ``asset_keys`` (integration → stream → key) are the keys of the definitions' specs,
    which tell whose a run without an integration tag is, and when each last synced.

    >>> sensors = build_notification_sensors([])
    >>> sorted(s.name for s in sensors)  # doctest: +NORMALIZE_WHITESPACE
    ['integrations_notification_checks', 'integrations_run_failure_notifications',
     'integrations_run_success_notifications']
    """
    settings = settings or NotificationSettings.from_env()
    keys = {name: dict(streams) for name, streams in (asset_keys or {}).items()}
    owners = {key: name for name, streams in keys.items() for key in streams.values()}
    schedules = {i.name: i.schedule for i in integrations}
    interval = settings.sensor_interval_s

    @dg.run_failure_sensor(
        name=FAILURE_SENSOR,
        monitor_all_code_locations=False,
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Turns failed syncs into classified notifications (and auto-pauses).",
    )
    def _failures(context: dg.RunFailureSensorContext) -> None:
        # Returning None (not a SkipReason) lets one tick handle every new failed run.
        context.log.info(handle_run_failure(context, owners, schedules))

    @dg.run_status_sensor(
        name=SUCCESS_SENSOR,
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitor_all_code_locations=False,
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Resolves an integration's failure notifications when a sync succeeds.",
    )
    def _successes(context: dg.RunStatusSensorContext) -> None:
        context.log.info(handle_run_success(context, owners))

    @dg.sensor(
        name=CHECKS_SENSOR,
        minimum_interval_seconds=max(interval, MIN_CHECKS_INTERVAL_S),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Misconfigured and stale integrations; retries webhook deliveries.",
    )
    def _checks(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        return dg.SkipReason(run_checks(context.instance, keys))

    return [_failures, _successes, _checks]
