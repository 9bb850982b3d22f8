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
from integrations_platform.errors import NotDiscoveredError
from integrations_platform.integration import Integration
from integrations_platform.service.operations import IntegrationOperations
from integrations_platform.service.selection import refreshed_columns

if TYPE_CHECKING:
    from integrations_platform.runner.discovery import DiscoveryResult


class IntegrationDiscovery(IntegrationOperations):
    """Discover sources and read the stored discoveries (see the module docstring)."""

    def discover(self, name: str, *, timeout_s: float | None = None) -> "DiscoveryResult":
        """Run the source's discovery and, if it succeeds, store it as the integration's."""
        from integrations_platform.store.discoveries import save_discovery

        integration = self.get(name)
        connector, config = self.config_to_test(name)
        result = self._discover(connector, config, timeout_s)
        del config
        found = result.discovery
        if found is not None:
            save_discovery(self.store, integration.id, found)
            if refreshed_columns(integration.streams, found) != integration.streams:
                self.store.update(
                    name, lambda cur: replace(cur, streams=refreshed_columns(cur.streams, found))
                )
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
