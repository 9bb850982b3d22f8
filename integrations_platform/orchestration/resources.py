"""The run-time resource: decrypts an integration's config and runs its sync.

Only this resource (and the CLI/API service) ever decrypts. The key arrives through
``dagster.EnvVar`` so that Dagster records the variable's name, never its value. Secrets
kept in a vault are read here, at sync time only, with the worker's vault credentials
from its environment (``INTEGRATIONS_VAULT_*``; see docs/vault.md).
"""

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from pydantic import Field

from integrations_platform.catalog import Catalog, ConnectorSpec, load_catalog
from integrations_platform.destinations import Target, resolve_target
from integrations_platform.errors import PlatformError
from integrations_platform.failures import classify_text
from integrations_platform.integration import Integration, StreamSelection
from integrations_platform.notifications.checks import allowed_lag
from integrations_platform.notifications.service import NotificationService
from integrations_platform.notifications.settings import NotificationSettings
from integrations_platform.orchestration.checks import StreamChecks
from integrations_platform.orchestration.constants import META_INTEGRATION, META_STREAM
from integrations_platform.orchestration.coordinator import tag_run_at_start
from integrations_platform.orchestration.partitions import (
    ROW_COUNT,
    log_partitions,
    materialized_by_earlier_attempts,
    partition_materialization,
    partition_windows,
    record_covered_partitions,
)
from integrations_platform.orchestration.translator import column_schema
from integrations_platform.runner.discovery import run_discovery
from integrations_platform.runner.full_load import try_full_load
from integrations_platform.runner.locks import integration_lock
from integrations_platform.runner.logs import LogLine
from integrations_platform.runner.meltano import SyncRequest, SyncResult, run_sync
from integrations_platform.runner.progress import ProgressSnapshot
from integrations_platform.runner.schema_check import SchemaCheck, check_schema
from integrations_platform.runner.state import clear_resume_marker
from integrations_platform.schema_changes import STREAM_REMOVED, SchemaChange
from integrations_platform.settings import (
    ENV_CATALOG_DIR,
    ENV_ENCRYPTION_KEYS,
    ENV_HOME,
    ENV_SCHEMA_CHECKS,
    Settings,
)
from integrations_platform.store import ConfigStore, KeyRing
from integrations_platform.store.discoveries import save_discovery, stored_catalog
from integrations_platform.store.progress import clear_progress, save_progress
from integrations_platform.store.schema import hash_salt, list_changes
from integrations_platform.store.secrets_backend import IntegrationSecrets


# Generic only in the value a resource factory yields; a ConfigurableResource is its own.
def _audit_scheduled(context: dg.AssetExecutionContext, settings: Settings, name: str) -> None:
    """A sync started by a schedule goes to the audit trail (source ``schedule``); syncs
    started through the API or the CLI were recorded there when they were asked for."""
    schedule = context.run.tags.get("dagster/schedule_name")
    if not schedule:
        return
    from integrations_platform.people import AuditLog

    store = ConfigStore.open(settings.database_url, migrate=False)
    try:
        AuditLog(store).record(
            actor=f"schedule:{schedule}",
            role="-",
            source="schedule",
            action="sync",
            integration=name,
            detail=f"run {context.run.run_id}",
        )
    except Exception as exc:  # the trail must not stop a sync
        context.log.warning(f"The audit trail could not record this scheduled sync: {exc}")
    finally:
        store.close()


class MeltanoResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Runs integrations' syncs with Meltano.

    Example::

        defs = dg.Definitions(
            assets=[...],
            resources={"meltano": MeltanoResource(
                encryption_keys=dg.EnvVar("INTEGRATIONS_ENCRYPTION_KEYS"))},
        )
    """

    encryption_keys: str = Field(
        default="",
        description=(
            f"Comma-separated config keys, set through {ENV_ENCRYPTION_KEYS}; empty: the "
            "key file `integrations up` wrote under INTEGRATIONS_HOME."
        ),
    )
    home: str = Field(
        default="",
        description=(
            f"The platform's folder ({ENV_HOME}) when it is not this process's; connection "
            "strings always come from the environment."
        ),
    )
    catalog_dir: str = Field(default="", description=f"The connector catalog ({ENV_CATALOG_DIR}).")

    def settings(self) -> Settings:
        """The platform's settings for a sync: the environment, with this resource's
        folders over it."""
        environ = dict(os.environ)
        if self.home:
            environ[ENV_HOME] = self.home
        if self.catalog_dir:
            environ[ENV_CATALOG_DIR] = self.catalog_dir
        return Settings.from_env(environ)

    def sync(
        self,
        context: dg.AssetExecutionContext,
        integration: Integration,
        streams: Sequence[StreamSelection],
        keys: Mapping[str, dg.AssetKey],
        *,
        full_refresh: bool = False,
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult | dg.DagsterEvent]:
        """Sync ``streams`` of ``integration``, each stream on its own, materializing
        each at its key in ``keys`` (the keys of the assets' specs).

        A stream that fails does not stop the others: the ones that succeeded are
        materialized with their row counts, then the step fails naming the failed ones,
        so that re-executing from failure syncs only those. In a partitioned run
        (one partition or a backfill range) only the records of the partitions' time
        windows are loaded, the incremental bookmark is left alone, and each partition
        is materialized with its own row count.
        """
        settings = self.settings()
        try:
            catalog = load_catalog(settings.catalog_dir)
            config, connector, discovered, salt, target = self._load_config(
                settings, catalog, integration
            )
        except PlatformError as exc:
            raise dg.Failure(description=str(exc)) from None
        tag_run_at_start(context, integration.name, connector.id)
        _audit_scheduled(context, settings, integration.name)
        windows = partition_windows(context)
        if windows:
            span = f"{windows[0][0]}…{windows[-1][0]}" if len(windows) > 1 else windows[0][0]
            mode = f" for partition(s) {span}, bookmark untouched"
        else:
            mode = " with a full refresh" if full_refresh else " incrementally"
        selected = list(streams)
        context.log.info(
            f"Syncing {', '.join(s.name for s in selected)} of '{integration.name}' "
            f"({connector.label} → {target.name}, {target.spec.label}){mode}"
        )
        done_before = materialized_by_earlier_attempts(context)
        if done_before:
            skipped = [s.name for s in selected if s.name in done_before]
            selected = [s for s in selected if s.name not in done_before]
            context.log.info(
                f"Re-execution from failure: {', '.join(skipped) or 'nothing'} already "
                f"synced by the earlier attempt; syncing {', '.join(s.name for s in selected)}"
            )
        failed: dict[str, str] = {}
        summary: list[str] = []  # "<stream>: <n> rows", logged once (one event) at the end
        progress: _RunProgress | None = None

        waited: list[float] = []

        def waiting(seconds: float) -> None:
            waited.append(seconds)
            context.log.info(
                f"Another sync of '{integration.name}' is running; waiting for it to finish "
                f"({seconds:.0f} s so far)"
            )

        try:
            with integration_lock(settings.meltano_database_uri, integration.state_id, waiting):
                if waited:
                    context.log.info(f"{LOCK_TAKEN} '{integration.name}' finished; syncing now")
                check = self._check_schema(
                    context, settings, integration, connector, config, selected
                )
                if check.catalog is not None:
                    discovered = check.catalog
                gone = {c.stream for c in check.changes if c.kind == STREAM_REMOVED}
                for name in sorted(gone & {s.name for s in selected}):
                    failed[name] = (
                        f"The source no longer has {name} (dropped or renamed, or the "
                        "login lost access to it); nothing was synced for it."
                    )
                    context.log.error(f"{name}: no longer in the source")
                # The selection after the policy (a blocked column left out, new ones in).
                selected = [check.stream(s.name) or s for s in selected if s.name not in gone]

                progress = _RunProgress(context, settings, integration.id)

                if discovered is None and "discover" in connector.extractor.capabilities:
                    discovered = self._discover_once(
                        context, settings, integration, connector, config
                    )

                def run(chosen: list[StreamSelection]) -> tuple[datetime, SyncResult]:
                    request = SyncRequest(
                        integration=integration.name,
                        state_id=integration.state_id,
                        connector=connector,
                        config=config,
                        start_date=integration.start_date,
                        destination=target,
                        streams=chosen,
                        full_refresh=full_refresh,
                        windows=windows,
                        catalog=discovered,
                        hash_salt=salt,
                        message_format=integration.message_format,
                    )
                    started = datetime.now(UTC)
                    log = _RunLog(context)
                    try:
                        reporter = progress.reporter(log)
                        result = try_full_load(
                            request, settings, os.environ, log, reporter
                        ) or run_sync(request, settings, os.environ, log, reporter)
                    finally:
                        log.flush()
                    progress.finished(result)
                    return started, result

                def failure(chosen: list[StreamSelection], result: SyncResult) -> None:
                    for stream in chosen:
                        failed[stream.name] = _failure_summary(result)
                        context.log.error(f"{stream.name}: failed")
                    if not windows:
                        clear_resume_marker(settings, os.environ, integration.state_id)

                checks = self._stream_checks(context, settings, integration, selected, keys)

                def loaded(
                    stream: StreamSelection, result: SyncResult, started: datetime
                ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult | dg.DagsterEvent]:
                    key = keys[stream.name]
                    if not windows:
                        # Before the stream's own materialization, which stays its latest.
                        yield from record_covered_partitions(
                            context, integration.name, key, stream, started
                        )
                    yield from self._materializations(
                        context,
                        integration.name,
                        keys[stream.name],
                        stream,
                        result,
                        windows,
                        full_refresh,
                        summary,
                    )
                    rows = result.row_counts.get(stream.name, 0)
                    if windows:
                        rows = sum(result.window_counts.get(stream.name, {}).values()) or rows
                    yield from checks.results(stream.name, key, rows)

                pending, together = selected, None
                if len(selected) > 1:
                    # Every stream in one tap process; only if that fails for one stream's
                    # sake, each on its own, so that the others' data is kept.
                    started, result = run(selected)
                    pending = []
                    if result.ok:
                        for stream in selected:
                            yield from loaded(stream, result, started)
                    elif whole_source_failure(result):
                        failure(selected, result)
                    else:
                        so_far = ", ".join(f"{n}: {c}" for n, c in result.row_counts.items())
                        context.log.warning(
                            f"The run syncing {len(selected)} streams together failed "
                            f"({_first_error(result)}; rows so far: {so_far or 'none'}); "
                            "syncing each stream on its own"
                        )
                        if not windows:  # the tap would resume at the failed stream
                            clear_resume_marker(settings, os.environ, integration.state_id)
                        pending, together = selected, result
                for stream in pending:
                    started, result = run([stream])
                    if result.ok:
                        # Rows the failed run loaded before it stopped count too.
                        yield from loaded(stream, _plus(together, result, stream.name), started)
                    else:
                        failure([stream], result)
        except PlatformError as exc:
            raise dg.Failure(description=str(exc)) from None
        finally:
            config.clear()  # the decrypted values, no longer needed
            if progress is not None:
                progress.close()
            if summary:
                context.log.info("\n".join(summary))
        if failed:
            details = "\n\n".join(f"{name}:\n{text}" for name, text in failed.items())
            raise dg.Failure(
                description=(
                    f"Sync of '{integration.name}' failed for {', '.join(failed)} "
                    f"({len(selected) - len(failed)} of {len(selected)} streams succeeded; "
                    f"re-execute from failure to retry only the failed ones).\n{details}"
                ),
                metadata={"failed_streams": dg.MetadataValue.json(sorted(failed))},
            )

    def _materializations(
        self,
        context: dg.AssetExecutionContext,
        integration: str,
        key: dg.AssetKey,
        stream: StreamSelection,
        result: SyncResult,
        windows: Sequence[tuple[str, str, str]],
        full_refresh: bool,
        summary: list[str],
    ) -> Iterator[dg.MaterializeResult[None] | dg.DagsterEvent]:
        """The stream's materialization (or its partitions'); its row count goes to
        ``summary``, which the sync logs once for all its streams."""
        duration = dg.MetadataValue.float(round(result.duration_s, 3))
        if not windows:
            rows = result.row_counts.get(stream.name, 0)
            summary.append(f"{stream.name}: {rows} rows")
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    META_INTEGRATION: integration,
                    META_STREAM: stream.name,
                    "rows": dg.MetadataValue.int(rows),
                    ROW_COUNT: dg.MetadataValue.int(rows),
                    "duration_s": duration,
                    "full_refresh": full_refresh,
                    **column_schema(stream.columns, stream.hashed_columns),
                },
            )
            return
        per_window = result.window_counts.get(stream.name, {})
        names = {META_INTEGRATION: integration, META_STREAM: stream.name}
        loaded = []
        for label, start, end in windows:
            # Without a replication key nothing can be split by window: the stream is
            # loaded whole, and its count is reported on every partition.
            count = dg.MetadataValue.int(
                per_window.get(label, 0)
                if stream.replication_key
                else result.row_counts.get(stream.name, 0)
            )
            loaded.append(
                partition_materialization(
                    key,
                    label,
                    f"[{start}, {end})",
                    names,
                    rows=count,
                    duration_s=duration,
                    **{ROW_COUNT: count},
                )
            )
        yield from log_partitions(context, loaded)
        total = (
            sum(per_window.values())
            if stream.replication_key
            else result.row_counts.get(stream.name, 0)
        )
        summary.append(f"{stream.name}: {total} rows in {len(windows)} partition(s)")

    def _load_config(
        self, settings: Settings, catalog: Catalog, integration: Integration
    ) -> tuple[dict[str, object], ConnectorSpec, dict[str, Any] | None, str | None, Target]:
        """The decrypted config (with the secrets the vault keeps, read now), the
        connector, the stored discovery's catalog, the salt of the hashed columns
        (None when nothing is hashed) and the destination with its config."""
        connector = catalog.get(integration.connector)
        keyring = (
            KeyRing.from_value(self.encryption_keys)
            if self.encryption_keys.strip()
            else KeyRing.from_settings(os.environ, settings.key_file)
        )
        store = ConfigStore.open(settings.database_url, migrate=False)
        try:
            stored = store.get(integration.name)
            discovered = stored_catalog(store, stored.id)
            if stored.id != integration.id:
                raise PlatformError(
                    f"Integration '{integration.name}' was removed and created again since "
                    "these definitions were loaded",
                    "Reload the code location in Dagster and launch the run again.",
                )
            hashes = any(s.hashed_columns for s in stored.streams)
            salt = (
                hash_salt(store, keyring, stored.id, stored.name, create=True) if hashes else None
            )
            target = resolve_target(stored.destination, catalog, store, keyring, settings)
        finally:
            store.close()
        # The one read of the vault at run time (secrets kept there; none otherwise).
        config = IntegrationSecrets.from_env(keyring, os.environ).full_config(stored)
        return config, connector, discovered, salt, target

    def _discover_once(
        self,
        context: dg.AssetExecutionContext,
        settings: Settings,
        integration: Integration,
        connector: ConnectorSpec,
        config: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        """Discover a source never discovered, once, and store it: this sync and every
        later one hand it to the tap, which then does not discover the source on every
        run (and a full load by COPY needs the streams' schemas); None if it failed."""
        found = run_discovery(connector, config, settings, os.environ)
        if found.discovery is None:
            context.log.warning(
                f"Discovery of the source failed ({found.outcome.reason}: "
                f"{found.outcome.message}); syncing through the Singer pipeline"
            )
            return None
        store = ConfigStore.open(settings.database_url, migrate=False)
        try:
            # Only the discovery: the integration's record (and its version, which an
            # edit in progress holds) is the user's to change.
            save_discovery(store, integration.id, found.discovery)
        finally:
            store.close()
        context.log.info(
            f"Discovered the source once ({len(found.discovery.streams)} streams in "
            f"{found.discovery.duration_s:.1f} s); later syncs reuse it"
        )
        return dict(found.discovery.catalog)

    def _stream_checks(
        self,
        context: dg.AssetExecutionContext,
        settings: Settings,
        integration: Integration,
        selected: Sequence[StreamSelection],
        keys: Mapping[str, dg.AssetKey],
    ) -> StreamChecks:
        """What the selected streams' checks compare with, read before any is synced."""

        def changes_since(since: datetime | None) -> list[SchemaChange]:
            store = ConfigStore.open(settings.database_url, migrate=False)
            try:
                return list_changes(store, integration.id, since=since)
            finally:
                store.close()

        return StreamChecks.read(
            context,
            {s.name: keys[s.name] for s in selected},
            changes_since,
            allowed_lag(integration.schedule),
        )

    def _check_schema(
        self,
        context: dg.AssetExecutionContext,
        settings: Settings,
        integration: Integration,
        connector: ConnectorSpec,
        config: Mapping[str, Any],
        selected: Sequence[StreamSelection],
    ) -> SchemaCheck:
        """Look for schema changes of the selected streams, apply the policy, record and
        announce them (runner/schema_check.py); never fails the sync."""
        store = ConfigStore.open(settings.database_url, migrate=False)
        try:
            if os.environ.get(ENV_SCHEMA_CHECKS, "on").strip().lower() in ("off", "0", "false"):
                return SchemaCheck(store.get(integration.name), catalog=None)
            current = store.get(integration.name)
            try:
                check = check_schema(
                    store,
                    current,
                    connector,
                    config,
                    settings,
                    os.environ,
                    [s.name for s in selected],
                    context.log.info,
                )
            except Exception as exc:  # noqa: BLE001 - the look must never fail the sync
                # Only the kind of failure: its text could hold a config value.
                check = SchemaCheck(current, catalog=None, note=f"it failed ({type(exc).__name__})")
        finally:
            store.close()
        if check.note:
            context.log.warning(f"Schema check: {check.note}")
        elif check.changes:
            lines = "\n".join(f"  {c.describe()} [{c.status}]" for c in check.changes)
            context.log.warning(
                f"Schema check: {len(check.changes)} change(s) in the source "
                f"(policy {check.integration.schema_policy}):\n{lines}"
            )
            try:
                NotificationService.open(
                    settings.database_url, NotificationSettings.from_env()
                ).record_schema_changes(
                    integration.name,
                    check.changes,
                    check.integration.schema_policy,
                    run_id=context.run_id,
                )
            except PlatformError as exc:
                context.log.warning(f"Schema changes could not be notified: {exc}")
        elif check.probed:
            context.log.info(
                f"Schema check: no change in {len(selected)} stream(s) ({check.seconds:.2f} s)"
            )
        return check


# Logged when a sync that waited for another of its integration may start (tests read it).
LOCK_TAKEN = "The other sync of"


# Failures that no stream escapes (the login, the config, the network, the destination):
# syncing the streams one by one would only repeat them.
_WHOLE_SOURCE = ("authentication", "configuration", "network", "timeout", "destination")


def whole_source_failure(result: SyncResult) -> bool:
    """Whether a failed sync failed for every stream alike."""
    return classify_text(*result.errors, *result.tail[-15:]) in _WHOLE_SOURCE


def _plus(earlier: SyncResult | None, result: SyncResult, stream: str) -> SyncResult:
    """``result`` with the rows ``earlier`` (a failed run of several streams) loaded for
    ``stream`` added, in all and per window."""
    if earlier is None:
        return result
    rows = dict(result.row_counts)
    rows[stream] = rows.get(stream, 0) + earlier.row_counts.get(stream, 0)
    windows = {name: dict(counts) for name, counts in result.window_counts.items()}
    mine = windows.setdefault(stream, {})
    for label, count in earlier.window_counts.get(stream, {}).items():
        mine[label] = mine.get(label, 0) + count
    return replace(result, row_counts=rows, window_counts=windows)


def _first_error(result: SyncResult) -> str:
    return (result.errors or result.tail[-1:] or [f"exit code {result.returncode}"])[0][:300]


def _failure_summary(result: SyncResult) -> str:
    errors = "\n".join(result.errors) or "(none logged)"
    tail = "\n".join(result.tail[-15:])
    return f"Meltano exited with {result.returncode}.\nErrors:\n{errors}\nLast lines:\n{tail}"


class _RunLog:
    """Meltano's lines into Dagster's run log. Dagster stores each log event on its own
    (a few milliseconds each), and a sync of many streams prints hundreds of routine
    lines: those go out together, at most one event a second (and before anything
    else is logged); a warning or an error is an event of its own, at once."""

    def __init__(self, context: dg.AssetExecutionContext, every_s: float = 1.0) -> None:
        self.log = context.log
        self.every_s = every_s
        self.pending: list[tuple[str, str]] = []
        self.flushed = 0.0
        # The sync's lines and its progress reports come from two threads.
        self.lock = threading.RLock()

    def __call__(self, line: LogLine) -> None:
        text = line.format()
        with self.lock:
            if line.level in ("error", "warning"):
                self.flush()
                (self.log.error if line.level == "error" else self.log.warning)(text)
                return
            self.pending.append((line.level, text))
            if time.monotonic() - self.flushed >= self.every_s:
                self.flush()

    def progress(self, text: str) -> None:
        """A progress report, after the lines before it."""
        with self.lock:
            self.flush()
            self.log.info(text)

    def flush(self) -> None:
        """Log what is pending: one event per run of lines of the same level."""
        with self.lock:
            self._flush()

    def _flush(self) -> None:
        group: list[str] = []
        for index, (level, text) in enumerate(self.pending):
            group.append(text)
            last = index + 1 == len(self.pending) or self.pending[index + 1][0] != level
            if last:
                (self.log.debug if level == "debug" else self.log.info)("\n".join(group))
                group = []
        self.pending = []
        self.flushed = time.monotonic()


class _RunProgress:
    """A sync's rows so far, across its Meltano runs: into the run log (with the rate)
    and into the config store, where the API reads a running sync's progress."""

    def __init__(self, context: dg.AssetExecutionContext, settings: Settings, integration_id: str):
        self.run_id = context.run_id
        self.integration_id = integration_id
        self.started = time.monotonic()
        self.done: dict[str, int] = {}  # streams of the sync's finished Meltano runs
        self.store: ConfigStore | None = None
        try:
            self.store = ConfigStore.open(settings.database_url, migrate=False)
        except PlatformError:
            context.log.warning("Progress cannot be stored for the API: the config store is down")

    def reporter(self, log: "_RunLog") -> Callable[[ProgressSnapshot], None]:
        """What ``run_sync`` calls every few seconds."""

        def report(snapshot: ProgressSnapshot) -> None:
            total = ProgressSnapshot(
                {**self.done, **snapshot.rows}, time.monotonic() - self.started
            )
            log.progress(total.describe())
            if self.store is not None:
                save_progress(
                    self.store, self.run_id, self.integration_id, total.rows, total.elapsed_s
                )

        return report

    def finished(self, result: SyncResult) -> None:
        """A Meltano run ended: its streams' rows count as done."""
        for stream, rows in result.row_counts.items():
            self.done[stream] = max(rows, self.done.get(stream, 0))

    def close(self) -> None:
        """The sync ended: its progress leaves the store."""
        if self.store is not None:
            try:
                clear_progress(self.store, self.run_id)
            finally:
                self.store.close()
