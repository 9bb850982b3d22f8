"""The run-time resource: decrypts an integration's config and runs its sync.

Only this resource (and the CLI/API service) ever decrypts. The key arrives through
``dagster.EnvVar`` so that Dagster records the variable's name, never its value.
"""

import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from pydantic import Field

from integrations_platform.catalog import Catalog, ConnectorSpec, load_catalog
from integrations_platform.catalog.validation import format_datetime
from integrations_platform.errors import PlatformError
from integrations_platform.integration import Integration, StreamSelection
from integrations_platform.orchestration.constants import META_INTEGRATION, META_STREAM
from integrations_platform.orchestration.coordinator import tag_run_at_start
from integrations_platform.runner.locks import integration_lock
from integrations_platform.runner.logs import LogLine
from integrations_platform.runner.meltano import SyncRequest, SyncResult, run_sync
from integrations_platform.runner.state import clear_resume_marker
from integrations_platform.settings import (
    ENV_CATALOG_DIR,
    ENV_ENCRYPTION_KEYS,
    ENV_HOME,
    Settings,
)
from integrations_platform.store import ConfigStore, KeyRing
from integrations_platform.store.discoveries import load_discovery


# Generic only in the value a resource factory yields; a ConfigurableResource is its own.
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
    ) -> Iterator[dg.MaterializeResult[None]]:
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
            config, connector, discovered = self._load_config(settings, catalog, integration)
        except PlatformError as exc:
            raise dg.Failure(description=str(exc)) from None
        tag_run_at_start(context, integration.name, connector.id)
        windows = partition_windows(context)
        if windows:
            span = f"{windows[0][0]}…{windows[-1][0]}" if len(windows) > 1 else windows[0][0]
            mode = f" for partition(s) {span}, bookmark untouched"
        else:
            mode = " with a full refresh" if full_refresh else " incrementally"
        selected = list(streams)
        context.log.info(
            f"Syncing {', '.join(s.name for s in selected)} of '{integration.name}' "
            f"({connector.label} → {integration.destination}){mode}"
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
                for stream in selected:
                    request = SyncRequest(
                        integration=integration.name,
                        state_id=integration.state_id,
                        connector=connector,
                        config=config,
                        start_date=integration.start_date,
                        destination=integration.destination,
                        streams=[stream],
                        full_refresh=full_refresh,
                        windows=windows,
                        catalog=discovered,
                    )
                    started = datetime.now(UTC)
                    result = run_sync(request, settings, os.environ, _logger(context))
                    if not result.ok:
                        failed[stream.name] = _failure_summary(result)
                        context.log.error(f"{stream.name}: failed")
                        if not windows:
                            clear_resume_marker(settings, os.environ, integration.state_id)
                        continue
                    if not windows:
                        # Before the stream's own materialization, which stays its latest.
                        record_covered_partitions(
                            context, integration.name, keys[stream.name], stream, started
                        )
                    yield from self._materializations(
                        context,
                        integration.name,
                        keys[stream.name],
                        stream,
                        result,
                        windows,
                        full_refresh,
                    )
        except PlatformError as exc:
            raise dg.Failure(description=str(exc)) from None
        finally:
            del config
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
    ) -> Iterator[dg.MaterializeResult[None]]:
        duration = dg.MetadataValue.float(round(result.duration_s, 3))
        if not windows:
            rows = result.row_counts.get(stream.name, 0)
            context.log.info(f"{stream.name}: {rows} rows")
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    META_INTEGRATION: integration,
                    META_STREAM: stream.name,
                    "rows": dg.MetadataValue.int(rows),
                    ROW_COUNT: dg.MetadataValue.int(rows),
                    "duration_s": duration,
                    "full_refresh": full_refresh,
                },
            )
            return
        per_window = result.window_counts.get(stream.name, {})
        for label, start, end in windows:
            # Without a replication key nothing can be split by window: the stream is
            # loaded whole, and its count is reported on every partition.
            rows = (
                per_window.get(label, 0)
                if stream.replication_key
                else result.row_counts.get(stream.name, 0)
            )
            log_partition(
                context,
                key,
                label,
                f"[{start}, {end})",
                {META_INTEGRATION: integration, META_STREAM: stream.name},
                rows=dg.MetadataValue.int(rows),
                duration_s=duration,
                **{ROW_COUNT: dg.MetadataValue.int(rows)},
            )
        total = (
            sum(per_window.values())
            if stream.replication_key
            else result.row_counts.get(stream.name, 0)
        )
        context.log.info(f"{stream.name}: {total} rows in {len(windows)} partition(s)")

    def _load_config(
        self, settings: Settings, catalog: Catalog, integration: Integration
    ) -> tuple[dict[str, object], ConnectorSpec, dict[str, Any] | None]:
        """The decrypted config, the connector and the stored discovery's catalog."""
        connector = catalog.get(integration.connector)
        store = ConfigStore.open(settings.database_url, migrate=False)
        try:
            stored = store.get(integration.name)
            discovery = load_discovery(store, stored.id)
        finally:
            store.close()
        if stored.id != integration.id:
            raise PlatformError(
                f"Integration '{integration.name}' was removed and created again since "
                "these definitions were loaded",
                "Reload the code location in Dagster and launch the run again.",
            )
        keyring = (
            KeyRing.from_value(self.encryption_keys)
            if self.encryption_keys.strip()
            else KeyRing.from_settings(os.environ, settings.key_file)
        )
        catalog_json = dict(discovery.catalog) if discovery is not None else None
        return keyring.decrypt_integration(stored), connector, catalog_json


def log_partition(
    context: dg.AssetExecutionContext,
    key: dg.AssetKey,
    partition: str,
    window: str,
    names: Mapping[str, str],
    **metadata: object,
) -> None:
    """Record ``partition`` of ``key`` as materialized, naming its integration and stream
    (``names``) and its time window."""
    context.log_event(
        dg.AssetMaterialization(
            asset_key=key,
            partition=partition,
            metadata={**names, **metadata, "window": window},  # type: ignore[dict-item]
        )
    )


# Dagster's standard row count, shown in the asset's overview beside its table schema.
ROW_COUNT = "dagster/row_count"

# Logged when a sync that waited for another of its integration may start (tests read it).
LOCK_TAKEN = "The other sync of"


def record_covered_partitions(
    context: dg.AssetExecutionContext,
    integration: str,
    key: dg.AssetKey,
    stream: StreamSelection,
    started: datetime,
) -> list[str]:
    """Record as materialized the partitions an incremental or full sync has covered.

    Such a sync leaves the destination holding every record of the stream changed from
    the integration's start date to the moment the sync started: the first sync (and a
    full refresh, and the first after a reset) reads from the start date, and each later
    one from the bookmark the previous one left. So every *complete* window that ends by
    then is loaded; the current one is not yet complete and stays unmaterialized until
    the sync after it ends. Returns the partition keys newly recorded.
    """
    partitions = context.assets_def.partitions_def
    if not isinstance(partitions, dg.TimeWindowPartitionsDefinition):
        return []
    complete = partitions.get_partition_keys(current_time=started)
    done = context.instance.get_materialized_partitions(key)
    new = [k for k in complete if k not in done]
    for partition in new:
        window = partitions.time_window_for_partition_key(partition)
        log_partition(
            context,
            key,
            partition,
            f"[{format_datetime(window.start)}, {format_datetime(window.end)})",
            {META_INTEGRATION: integration, META_STREAM: stream.name},
            covered_by="sync",
        )
    if new:
        span = new[0] if len(new) == 1 else f"{new[0]}…{new[-1]}"
        context.log.info(
            f"{stream.name}: partition(s) {span} now loaded ({len(new)} complete window(s) "
            f"up to {format_datetime(started)})"
        )
    return new


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


def _failure_summary(result: SyncResult) -> str:
    errors = "\n".join(result.errors) or "(none logged)"
    tail = "\n".join(result.tail[-15:])
    return f"Meltano exited with {result.returncode}.\nErrors:\n{errors}\nLast lines:\n{tail}"


def _logger(context: dg.AssetExecutionContext):  # type: ignore[no-untyped-def]
    log = context.log

    def emit(line: LogLine) -> None:
        text = line.format()
        if line.level == "error":
            log.error(text)
        elif line.level == "warning":
            log.warning(text)
        elif line.level == "debug":
            log.debug(text)
        else:
            log.info(text)

    return emit
