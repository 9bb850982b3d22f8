"""The service's actions that run something: connection tests, syncs and backfills
launched in Dagster, and the incremental state (bookmarks) and its resets.

Mixed into :class:`~integrations_platform.service.IntegrationService`; the API's routes
and the CLI's commands call these methods and only format what they return.
"""

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from integrations_platform.catalog import Catalog, ConnectorSpec, validate_config
from integrations_platform.errors import ConfigurationError
from integrations_platform.integration import Integration
from integrations_platform.settings import Settings
from integrations_platform.store import ConfigStore

if TYPE_CHECKING:
    import dagster as dg

    from integrations_platform.orchestration.client import DagsterClient
    from integrations_platform.orchestration.translator import IntegrationsTranslator
    from integrations_platform.runner.connection_test import ConnectionTestResult


_ASSET_KEYS_CACHED = 10_000


@dataclass(frozen=True)
class LaunchedSync:
    """A run launched in Dagster; ``partitions`` is the backfill's first and last key."""

    run_id: str
    url: str
    partitions: tuple[str, str] | None = None


class IntegrationOperations(ABC):
    """Tests, syncs and state of stored integrations (see the module docstring)."""

    catalog: Catalog
    store: ConfigStore

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        environ: Mapping[str, str] | None = None,
        dagster: "DagsterClient | None" = None,
        translator: "IntegrationsTranslator | None" = None,
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self._settings = settings
        self._dagster = dagster
        self._translator = translator
        # Keys by integration record: the status of every integration asks for them on
        # each list, and a translator builds a whole AssetSpec per stream to answer.
        self._asset_keys: dict[Integration, dict[str, dg.AssetKey]] = {}

    @abstractmethod
    def get(self, name: str) -> Integration:
        """The stored integration (IntegrationService reads it from the store)."""

    @abstractmethod
    def config_to_test(
        self, name: str, edits: Mapping[str, Any] | None = None
    ) -> tuple[ConnectorSpec, dict[str, Any]]:
        """The config a test of ``name`` uses (see IntegrationService)."""

    # -- collaborators -----------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The platform's settings (from the environment unless given)."""
        if self._settings is None:
            self._settings = Settings.from_env(self.environ)
        return self._settings

    @property
    def dagster(self) -> "DagsterClient":
        """The Dagster webserver's client (at ``INTEGRATIONS_DAGSTER_URL``)."""
        if self._dagster is None:
            from integrations_platform.orchestration.client import DagsterClient

            self._dagster = DagsterClient(self.settings.dagster_url)
        return self._dagster

    @property
    def translator(self) -> "IntegrationsTranslator":
        """The translator Dagster's definitions are built with (INTEGRATIONS_TRANSLATOR)."""
        if self._translator is None:
            from integrations_platform.orchestration.translator import load_translator

            self._translator = load_translator(self.settings.translator)
        return self._translator

    def asset_keys(self, integration: Integration) -> "dict[str, dg.AssetKey]":
        """Each stream's asset key, by stream name, from the translator's specs."""
        from integrations_platform.orchestration.translator import stream_asset_keys

        if integration.connector not in self.catalog:
            return {}
        record = integration.for_orchestration()
        keys = self._asset_keys.get(record)
        if keys is None:
            connector = self.catalog.get(integration.connector)
            keys = stream_asset_keys(self.translator, record, connector)
            if len(self._asset_keys) >= _ASSET_KEYS_CACHED:
                self._asset_keys.clear()
            self._asset_keys[record] = keys
        return dict(keys)

    # -- connection tests --------------------------------------------------------------

    def test_connection(
        self, name: str, edits: Mapping[str, Any] | None = None
    ) -> "ConnectionTestResult":
        """Test the stored integration's connection; with ``edits``, test them merged as
        an update would merge them, before saving (nothing is stored)."""
        connector, config = self.config_to_test(name, edits)
        return self._test(connector, config)

    def test_config(self, connector_id: str, config: Mapping[str, Any]) -> "ConnectionTestResult":
        """Validate ``config`` for a connector, then test it (a config not saved yet)."""
        connector = self.catalog.get(connector_id)
        return self._test(connector, validate_config(connector, config))

    def _test(self, connector: ConnectorSpec, config: dict[str, Any]) -> "ConnectionTestResult":
        from integrations_platform.runner.connection_test import test_connection

        return test_connection(connector, config, self.settings, self.environ)

    # -- syncs -------------------------------------------------------------------------

    def launch_sync(
        self,
        name: str,
        streams: Sequence[str] | None = None,
        *,
        full_refresh: bool = False,
        from_date: str | None = None,
        to_date: str | None = None,
    ) -> LaunchedSync:
        """Launch a sync of ``name`` in Dagster: every stream or some, incremental or a
        full refresh; with ``from_date`` and ``to_date``, one backfill run of exactly
        those days (or months) that leaves the incremental bookmark alone."""
        integration = self.get(name)
        if not integration.enabled:
            raise ConfigurationError(
                f"Integration '{name}' is disabled",
                f"Enable it first (`integrations enable {name}` or POST .../{name}/enable).",
            )
        unknown = [s for s in streams or [] if integration.stream(s) is None]
        if unknown:
            raise ConfigurationError(
                f"Integration '{name}' does not sync {', '.join(unknown)}",
                f"Choose among {', '.join(sorted(integration.stream_names))}.",
                field_errors={"streams": f"unknown stream(s): {', '.join(unknown)}"},
            )
        partitions = self._partitions(integration, full_refresh, from_date, to_date)
        keys = self.asset_keys(integration)
        selection = [keys[s].path for s in streams] if streams else None
        run_id = self.dagster.launch_sync(
            name, selection, full_refresh=full_refresh, partition_range=partitions
        )
        return LaunchedSync(run_id, f"{self.settings.dagster_url}/runs/{run_id}", partitions)

    def _partitions(
        self,
        integration: Integration,
        full_refresh: bool,
        from_date: str | None,
        to_date: str | None,
    ) -> tuple[str, str] | None:
        if from_date is None and to_date is None:
            return None
        if from_date is None or to_date is None:
            raise ConfigurationError(
                "A backfill needs both a first and a last date",
                "Give both (--from and --to, or from_date and to_date), or neither for an "
                "incremental sync.",
                field_errors={"from_date" if from_date is None else "to_date": "missing"},
            )
        if full_refresh:
            raise ConfigurationError(
                "full_refresh does not apply to a backfill, which never reads the bookmark",
                "Leave full_refresh off with a date range.",
                field_errors={"full_refresh": "not with a backfill"},
            )
        from integrations_platform.orchestration.assets import partition_key_range

        connector = self.catalog.get(integration.connector)
        return partition_key_range(integration, connector, from_date, to_date)

    # -- incremental state -------------------------------------------------------------

    def state(self, name: str) -> dict[str, Any]:
        """The integration's bookmarks per stream, and its reset history."""
        from integrations_platform.runner.state import get_state
        from integrations_platform.store.audit import list_resets

        integration = self.get(name)
        found = get_state(self.settings, self.environ, integration.state_id)
        return {"bookmarks": found.get("bookmarks", {}), "resets": list_resets(self.store, name)}

    def reset_state(
        self, name: str, *, stream: str | None, actor: str, confirmed: bool = True
    ) -> dict[str, Any]:
        """Clear the bookmark of ``stream`` (or of every stream) of integration ``name``.

        The next sync of what was reset starts again from the integration's start date.
        Returns the record of the reset (with the bookmarks it removed).
        """
        from integrations_platform.runner.state import reset_state
        from integrations_platform.store.audit import record_reset

        integration = self.get(name)
        if not confirmed:
            raise ConfigurationError(
                "Resetting state needs confirmation",
                'Send "confirm": true; the next sync re-reads everything that is reset.',
                field_errors={"confirm": "must be true"},
            )
        if stream is not None and integration.stream(stream) is None:
            raise ConfigurationError(
                f"Integration '{name}' does not sync '{stream}'",
                f"Choose among {', '.join(integration.stream_names)}.",
                field_errors={"stream": "not one of the integration's streams"},
            )
        previous = reset_state(self.settings, self.environ, integration.state_id, stream)
        return record_reset(self.store, name, stream, actor, previous)
