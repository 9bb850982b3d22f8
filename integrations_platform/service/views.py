"""What the CLI and the API show of an integration: the record, never a secret value."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.integration import Integration


@dataclass(frozen=True)
class IntegrationView:
    """An integration, with its settings in clear and its secrets only as set / not set."""

    integration: Integration
    config: dict[str, Any] | None = None
    secrets: dict[str, bool] = field(default_factory=dict)
    # Why the stored config cannot be read (then config is empty: repair by re-entering it).
    config_error: str | None = None

    @classmethod
    def of(
        cls,
        integration: Integration,
        config: Mapping[str, Any] | None = None,
        connector: ConnectorSpec | None = None,
        config_error: str | None = None,
    ) -> "IntegrationView":
        """The view of ``integration``; with ``config`` and ``connector``, its settings
        without the secret values."""
        if config is None or connector is None:
            return cls(integration, config_error=config_error)
        return cls(
            integration,
            config={k: v for k, v in config.items() if k not in connector.secret_names},
            secrets={name: bool(config.get(name)) for name in sorted(connector.secret_names)},
            config_error=config_error,
        )

    @property
    def name(self) -> str:
        """The integration's name."""
        return self.integration.name

    @property
    def version(self) -> int:
        """The integration's version (for optimistic concurrency)."""
        return self.integration.version

    @property
    def enabled(self) -> bool:
        """Whether the integration is in Dagster's definitions."""
        return self.integration.enabled

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form; secrets appear only as "set" / "not set"."""
        data = self.integration.as_dict()
        if self.config is not None:
            data["config"] = self.config
            data["secrets"] = {k: ("set" if v else "not set") for k, v in self.secrets.items()}
        if self.config_error is not None:
            data["config_error"] = self.config_error
        return data
