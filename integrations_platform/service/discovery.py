"""Discovery on the service: what each integration's source holds, kept in the store.

Mixed into :class:`~integrations_platform.service.IntegrationService`. A discovery of a
stored integration replaces its stored one only when it succeeds; a failed one (bad
credentials, a timeout, a crashing tap) leaves the stored catalog as it was.
"""

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.discovery import Discovery
from integrations_platform.errors import ConfigurationError, NotDiscoveredError
from integrations_platform.integration import Integration
from integrations_platform.notifications.store import NotificationStore
from integrations_platform.schema_changes import (
    APPROVED,
    POLICY_HELP,
    SchemaChange,
    approve_in_selection,
    diff_discoveries,
)
from integrations_platform.service.operations import IntegrationOperations
from integrations_platform.service.selection import refreshed_columns
from integrations_platform.store.schema import (
    decide,
    list_changes,
    pending_changes,
)

if TYPE_CHECKING:
    from integrations_platform.runner.discovery import DiscoveryResult


class IntegrationDiscovery(IntegrationOperations):
    """Discover sources and read the stored discoveries (see the module docstring)."""

    def discover(self, name: str, *, timeout_s: float | None = None) -> "DiscoveryResult":
        """Run the source's discovery and, if it succeeds, store it as the integration's
        (the changes since the stored one recorded, the policy applied to them)."""
        from integrations_platform.runner.schema_check import apply_changes
        from integrations_platform.store.discoveries import load_discovery, save_discovery

        integration = self.get(name)
        connector, config = self.config_to_test(name)
        result = self._discover(connector, config, timeout_s)
        del config
        found = result.discovery
        if found is not None:
            before = load_discovery(self.store, integration.id)
            save_discovery(self.store, integration.id, found)
            changes = (
                diff_discoveries(before, found, [s.name for s in integration.streams])
                if before is not None
                else []
            )
            apply_changes(self.store, integration, changes, found)
        return result

    def discover_config(
        self, connector_id: str, config: Mapping[str, Any], *, timeout_s: float | None = None
    ) -> "DiscoveryResult":
        """Discover with a config not saved yet (the wizard); nothing is stored."""
        return self._discover(self.catalog.get(connector_id), dict(config), timeout_s)

    def discovery(self, name: str) -> Discovery:
        """The integration's stored discovery (raises when there is none yet)."""
        from integrations_platform.store.discoveries import load_discovery

        found = load_discovery(self.store, self.get(name).id)
        if found is None:
            raise NotDiscoveredError(
                f"The source of '{name}' has not been discovered yet",
                f"Run `integrations discover {name}` (or POST "
                f"/api/v1/integrations/{name}/discover).",
            )
        return found

    def schema(self, name: str, *, changes: int = 100) -> dict[str, Any]:
        """The integration's current schema of its selected streams (each column synced,
        left out, hashed or waiting for approval), its policy and the change history."""
        from integrations_platform.store.discoveries import load_discovery

        integration = self.get(name)
        found = load_discovery(self.store, integration.id)
        pending = pending_changes(self.store, integration.id)
        waiting = {(c.stream, c.column) for c in pending}
        streams = []
        for selection in integration.streams:
            stream = found.stream(selection.name) if found else None
            columns = []
            for column in stream.columns if stream else ():
                status = "synced"
                if (selection.name, column.name) in waiting:
                    status = "waiting for approval"
                elif column.name in selection.excluded_columns:
                    status = "left out"
                elif column.name in selection.hashed_columns:
                    status = "hashed"
                elif column.inclusion == "unsupported":
                    status = "unsupported"
                columns.append({**column.as_dict(), "status": status})
            streams.append(
                {
                    "name": selection.name,
                    "in_source": stream is not None if found else None,
                    "primary_key": list(selection.primary_key),
                    "replication_key": selection.replication_key,
                    "columns": columns,
                }
            )
        selected = {s.name for s in integration.streams}
        return {
            "integration": integration.name,
            "schema_policy": integration.schema_policy,
            "policies": dict(POLICY_HELP),
            "discovered_at": found.discovered_at.isoformat() if found else None,
            "streams": streams,
            "unselected_streams": (
                [s.name for s in found.streams if s.name not in selected] if found else []
            ),
            "pending": [c.as_dict() for c in pending],
            "changes": [
                c.as_dict() for c in list_changes(self.store, integration.id, limit=changes)
            ],
        }

    def schema_changes(self, name: str, *, limit: int = 500) -> list[SchemaChange]:
        """The integration's recorded schema changes, newest first."""
        return list_changes(self.store, self.get(name).id, limit=limit)

    def approve(
        self, name: str, stream: str, column: str | None = None, *, by: str = "user"
    ) -> list[SchemaChange]:
        """Approve the pending changes of ``stream`` (or only of its ``column``): a
        blocked column is synced from the next run on, a new stream is selected. Raises
        when nothing of that stream or column waits for approval; changes nothing then."""
        from integrations_platform.store.discoveries import load_discovery

        integration = self.get(name)
        pending = [
            c
            for c in pending_changes(self.store, integration.id)
            if c.stream == stream and (column is None or c.column == column)
        ]
        if not pending:
            waiting = pending_changes(self.store, integration.id)
            listed = ", ".join(f"{c.stream}.{c.column}" if c.column else c.stream for c in waiting)
            where = f"{stream}.{column}" if column else stream
            raise ConfigurationError(
                f"No change of {where} in '{name}' waits for approval",
                f"Waiting: {listed}."
                if listed
                else f"Nothing waits for approval; see `integrations schema {name} --changes`.",
                field_errors={"column" if column else "stream": f"nothing to approve in {where}"},
            )
        found = load_discovery(self.store, integration.id)

        def change(current: Integration) -> Integration:
            streams = current.streams
            for item in pending:
                streams = approve_in_selection(streams, item, found)
            if found is not None:
                streams = refreshed_columns(streams, found)
            return replace(current, streams=streams)

        self.store.update(name, change)
        approved = decide(self.store, [c.id for c in pending if c.id is not None], APPROVED, by)
        self._resolve_schema_notifications(name, stream, by)
        return approved

    def _resolve_schema_notifications(self, name: str, stream: str, by: str) -> None:
        from integrations_platform.notifications.service import NotificationService
        from integrations_platform.notifications.settings import NotificationSettings

        notifications = NotificationService(
            NotificationStore(self.store.engine), NotificationSettings.from_env(self.environ)
        )
        notifications.resolve_schema_changes(name, stream, f"approved by {by}")

    def forget_discovery(self, integration: Integration) -> None:
        """Remove the integration's stored discovery (when the integration is removed)."""
        from integrations_platform.store.discoveries import delete_discovery

        delete_discovery(self.store, integration.id)

    def _discover(
        self, connector: ConnectorSpec, config: dict[str, Any], timeout_s: float | None
    ) -> "DiscoveryResult":
        from integrations_platform.runner.discovery import DISCOVERY_TIMEOUT_S, run_discovery

        return run_discovery(
            connector,
            config,
            self.settings,
            self.environ,
            timeout_s=timeout_s or DISCOVERY_TIMEOUT_S,
        )
