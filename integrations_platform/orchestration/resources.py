"""The run-time resource: decrypts an integration's config and runs its sync.

Only this resource (and the CLI/API service) ever decrypts. The key arrives through
``dagster.EnvVar`` so that Dagster records the variable's name, never its value.
"""

import os
import time
from collections.abc import Iterator, Sequence

import dagster as dg
from pydantic import Field

from integrations_platform.catalog import Catalog, ConnectorSpec, load_catalog
from integrations_platform.errors import PlatformError
from integrations_platform.orchestration.constants import META_STREAM
from integrations_platform.orchestration.snapshot import IntegrationSnapshot
from integrations_platform.orchestration.translator import stream_key_part
from integrations_platform.runner.logs import LogLine
from integrations_platform.runner.meltano import SyncRequest, SyncStream, run_sync
from integrations_platform.settings import ENV_ENCRYPTION_KEYS, Settings
from integrations_platform.store import ConfigStore, KeyRing


class MeltanoResource(dg.ConfigurableResource):
    """Runs integrations' syncs with Meltano.

    Example::

        defs = dg.Definitions(
            assets=[...],
            resources={"meltano": MeltanoResource(
                encryption_keys=dg.EnvVar("INTEGRATIONS_ENCRYPTION_KEYS"))},
        )
    """

    encryption_keys: str = Field(
        description=f"Comma-separated config keys; set through {ENV_ENCRYPTION_KEYS}.",
    )

    def sync(
        self,
        context: dg.AssetExecutionContext,
        integration: IntegrationSnapshot,
        streams: Sequence[dict[str, object]],
        *,
        full_refresh: bool = False,
    ) -> Iterator[dg.MaterializeResult]:
        """Sync ``streams`` of ``integration``; one MaterializeResult per stream."""
        settings = Settings.from_env()
        try:
            catalog = load_catalog(settings.catalog_dir)
            config, request_connector = self._load_config(settings, catalog, integration)
        except PlatformError as exc:
            raise dg.Failure(description=str(exc)) from None
        request = SyncRequest(
            integration=integration.name,
            state_id=integration.state_id,
            connector=request_connector,
            config=config,
            start_date=integration.start_date,
            destination=integration.destination,
            streams=[
                SyncStream(str(s["name"]), s.get("replication_key"))  # type: ignore[arg-type]
                for s in streams
            ],
            full_refresh=full_refresh,
        )
        names = ", ".join(s.name for s in request.streams)
        context.log.info(
            f"Syncing {names} of '{integration.name}' ({request_connector.label} → "
            f"{integration.destination}){' with a full refresh' if full_refresh else ''}"
        )
        started = time.monotonic()
        try:
            result = run_sync(request, settings, os.environ, _logger(context))
        except PlatformError as exc:
            raise dg.Failure(description=str(exc)) from None
        finally:
            del config
        if not result.ok:
            tail = "\n".join(result.tail[-25:])
            errors = "\n".join(result.errors) or "(none logged)"
            raise dg.Failure(
                description=(
                    f"Sync of '{integration.name}' failed (Meltano exited with "
                    f"{result.returncode}).\nErrors:\n{errors}\nLast lines:\n{tail}"
                ),
                metadata={
                    "exit_code": result.returncode,
                    "log_tail": dg.MetadataValue.md(f"```\n{tail}\n```"),
                    "rows_before_failure": dg.MetadataValue.json(result.row_counts),
                },
            )
        duration = round(time.monotonic() - started, 3)
        for stream in request.streams:
            rows = result.row_counts.get(stream.name, 0)
            context.log.info(f"{stream.name}: {rows} rows")
            yield dg.MaterializeResult(
                asset_key=dg.AssetKey([integration.name, stream_key_part(stream.name)]),
                metadata={
                    META_STREAM: stream.name,
                    "rows": dg.MetadataValue.int(rows),
                    "duration_s": dg.MetadataValue.float(duration),
                    "full_refresh": full_refresh,
                },
            )

    def _load_config(
        self, settings: Settings, catalog: Catalog, integration: IntegrationSnapshot
    ) -> tuple[dict[str, object], ConnectorSpec]:
        connector = catalog.get(integration.connector)
        store = ConfigStore.open(settings.database_url, migrate=False)
        try:
            stored = store.get(integration.name)
        finally:
            store.close()
        if stored.id != integration.id:
            raise PlatformError(
                f"Integration '{integration.name}' was removed and created again since "
                "these definitions were loaded",
                "Reload the code location in Dagster and launch the run again.",
            )
        keyring = KeyRing.from_value(self.encryption_keys)
        return keyring.decrypt(stored.id, stored.name, stored.config_ciphertext), connector


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
