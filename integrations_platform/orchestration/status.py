"""What Dagster knows of each integration: last run, row counts, next run, run logs.

Read from the Dagster instance (``DAGSTER_HOME``) in a few batched queries, never one
query per integration.
"""

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from integrations_platform.integration import Integration
from integrations_platform.orchestration.constants import (
    INTEGRATION_TAG,
    META_INTEGRATION,
    META_STREAM,
)

# A run's status while it syncs.
RUNNING = dg.DagsterRunStatus.STARTED.value


@dataclass(frozen=True)
class RunSummary:
    """One run of an integration."""

    run_id: str
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    url: str
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        """Wall time of the run, when it has started and ended."""
        if self.started_at and self.ended_at:
            return round((self.ended_at - self.started_at).total_seconds(), 3)
        return None


@dataclass(frozen=True)
class IntegrationStatus:
    """An integration's latest run, row counts and next scheduled run."""

    last_run: RunSummary | None = None
    last_success_at: datetime | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    next_run_at: datetime | None = None


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def next_tick(cron: str, now: datetime | None = None) -> datetime | None:
    """The schedule's next tick after ``now`` (UTC)."""
    from integrations_platform.dagster_private import cron_string_iterator

    start = (now or datetime.now(UTC)).timestamp()
    try:
        return next(cron_string_iterator(start, cron, "UTC")).astimezone(UTC)
    except (StopIteration, ValueError):
        return None


class StatusReader:
    """Reads integrations' status from the Dagster instance, cached for ``ttl_s``."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        dagster_url: str,
        asset_keys: Callable[[Integration], Mapping[str, dg.AssetKey]],
        ttl_s: float = 2.0,
    ) -> None:
        """``asset_keys``: each stream's key by stream name (the service's, from the
        translator's specs)."""
        self.instance = instance
        self.asset_keys = asset_keys
        self.dagster_url = dagster_url.rstrip("/")
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._cache: tuple[float, frozenset[str], dict[str, IntegrationStatus]] | None = None

    def run_url(self, run_id: str) -> str:
        """Deep link to a run in the Dagster UI."""
        return f"{self.dagster_url}/runs/{run_id}"

    def _summary(self, record: Any) -> RunSummary:
        run = record.dagster_run
        return RunSummary(
            run_id=run.run_id,
            status=run.status.value,
            started_at=_ts(record.start_time),
            ended_at=_ts(record.end_time),
            url=self.run_url(run.run_id),
        )

    def statuses(self, integrations: Sequence[Integration]) -> dict[str, IntegrationStatus]:
        """Status of every integration given, in three queries (cached briefly).

        Only what comes from the instance is cached; the next run follows the
        integration's current schedule and state.
        """
        names = frozenset(i.name for i in integrations)
        with self._lock:
            cached = self._cache
        if cached and cached[1] >= names and time.monotonic() - cached[0] < self.ttl_s:
            found = cached[2]
        else:
            found = self._read(integrations)
            with self._lock:
                self._cache = (time.monotonic(), names, found)
        return {
            i.name: replace(found[i.name], next_run_at=next_tick(i.schedule) if i.enabled else None)
            for i in integrations
        }

    def _read(self, integrations: Sequence[Integration]) -> dict[str, IntegrationStatus]:
        if not integrations:
            return {}
        names = [i.name for i in integrations]
        records = self.instance.get_run_records(
            filters=dg.RunsFilter(tags={INTEGRATION_TAG: names}),
            limit=max(100, 4 * len(names)),
        )
        last: dict[str, RunSummary] = {}
        last_success: dict[str, datetime | None] = {}
        for record in records:  # newest first
            name = record.dagster_run.tags.get(INTEGRATION_TAG)
            if name is None:
                continue
            if name not in last:
                last[name] = self._summary(record)
            if (
                name not in last_success
                and record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
            ):
                last_success[name] = _ts(record.end_time)
        rows = self._row_counts(integrations)
        return {
            i.name: IntegrationStatus(
                last_run=last.get(i.name),
                last_success_at=last_success.get(i.name),
                row_counts=rows.get(i.name, {}),
            )
            for i in integrations
        }

    def _row_counts(self, integrations: Sequence[Integration]) -> dict[str, dict[str, int]]:
        """Each stream's rows at its latest materialization, whatever its asset key: a
        sync names its integration and stream in the materialization, so keys that a
        component or translator remapped are found without knowing the remapping.
        Materializations from before they did are found by the configured keys."""
        wanted = {i.name for i in integrations}
        owners = {
            key: (i.name, stream)
            for i in integrations
            for stream, key in self.asset_keys(i).items()
        }
        rows: dict[str, dict[str, int]] = {}
        for record in self.instance.get_asset_records():
            event = record.asset_entry.last_materialization
            mat = event.asset_materialization if event is not None else None
            if mat is None or "rows" not in mat.metadata:
                continue
            named = mat.metadata.get(META_INTEGRATION)
            stream = mat.metadata.get(META_STREAM)
            if named is not None and stream is not None:
                owner = (str(named.value), str(stream.value))
            elif mat.asset_key in owners:
                owner = owners[mat.asset_key]
            else:
                continue
            if owner[0] in wanted:
                count = int(mat.metadata["rows"].value)  # type: ignore[arg-type]
                rows.setdefault(owner[0], {})[owner[1]] = count
        return rows

    def runs(self, integration: str, limit: int = 20) -> list[RunSummary]:
        """Recent runs of one integration, newest first, with their row counts."""
        records = self.instance.get_run_records(
            filters=dg.RunsFilter(tags={INTEGRATION_TAG: integration}), limit=limit
        )
        summaries = []
        for record in records:
            summary = self._summary(record)
            counts: dict[str, int] = {}
            events = self.instance.get_records_for_run(
                record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ).records
            for event in events:
                mat = event.event_log_entry.asset_materialization
                if mat is None or "rows" not in mat.metadata:
                    continue
                stream = mat.metadata.get(META_STREAM)
                label = str(stream.value) if stream else mat.asset_key.path[-1]
                counts[label] = int(mat.metadata["rows"].value)  # type: ignore[arg-type]
            summaries.append(
                RunSummary(
                    summary.run_id,
                    summary.status,
                    summary.started_at,
                    summary.ended_at,
                    summary.url,
                    counts,
                )
            )
        return summaries

    def run_log(self, integration: str, run_id: str) -> list[dict[str, Any]] | None:
        """The run's log lines, or None when the run is not this integration's."""
        run = self.instance.get_run_by_id(run_id)
        if run is None or run.tags.get(INTEGRATION_TAG) != integration:
            return None
        lines = []
        for entry in self.instance.all_logs(run_id):
            message = (
                entry.user_message
                if entry.dagster_event is None
                else entry.message or entry.dagster_event.message or ""
            ) or ""
            # A sync logs Meltano's routine lines several to an event: one line each here.
            for text in message.split("\n") if entry.dagster_event is None else [message]:
                lines.append(
                    {
                        "timestamp": _ts(entry.timestamp),
                        "level": _level_name(entry.level),
                        "step": entry.step_key,
                        "message": text,
                    }
                )
        return lines


def _level_name(level: int | str) -> str:
    import logging

    return logging.getLevelName(level) if isinstance(level, int) else str(level)
