"""Where synced data lands: a destination connector of the catalog, configured once.

Destination connectors are catalog files (``connector_catalog/destinations/``). An
integration names the destination it loads into:

* ``jsonl`` — the embedded default: JSON Lines files under ``INTEGRATIONS_HOME``, one
  row per primary key (runner/compaction.py);
* ``postgres`` — the deployment-wide warehouse shortcut: the PostgreSQL destination
  connector with its connection from ``INTEGRATIONS_WAREHOUSE_URL``, set where syncs run;
* any other name — a destination configured through the CLI, the API or the page
  (``store/destinations.py``): a connector and its settings, encrypted, secrets write-only.

A sync resolves the name to a :class:`Target` (the connector and its decrypted config)
at run time only.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from integrations_platform.catalog import Catalog
from integrations_platform.catalog.models import (
    BUILT_IN_DESTINATIONS,
    DestinationConnectorSpec,
    ExtractorSpec,
)
from integrations_platform.catalog.validation import effective_config
from integrations_platform.errors import ConfigurationError
from integrations_platform.settings import ENV_WAREHOUSE_URL, Settings

if TYPE_CHECKING:
    from integrations_platform.store import ConfigStore, KeyRing
    from integrations_platform.store.destinations import Destination

EMBEDDED_DESTINATION = "jsonl"
WAREHOUSE_DESTINATION = "postgres"
# The names an integration may use without configuring anything, and their connectors.
BUILT_IN = BUILT_IN_DESTINATIONS


@dataclass(frozen=True)
class Target:
    """The destination one sync writes to. ``config`` is decrypted: never log it."""

    name: str
    spec: DestinationConnectorSpec
    config: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def loader(self) -> ExtractorSpec:
        """The Meltano loader (Singer target) that writes."""
        return self.spec.loader

    @property
    def embedded(self) -> bool:
        """Whether this is the embedded JSON Lines destination."""
        return self.spec.destination.embedded

    @property
    def full_load(self) -> str:
        """The table-to-table full loads it takes (runner/full_load.py)."""
        return self.spec.destination.full_load

    @property
    def batch_settings(self) -> dict[str, Any]:
        """Loader settings added when a sync sends batch files."""
        return dict(self.spec.destination.batch_settings)

    def table_name(self, integration: str, stream: str) -> str:
        """Where ``stream`` of ``integration`` lands."""
        return self.spec.table_name(integration, stream)

    def loader_config(self, settings: Settings, integration: str) -> dict[str, Any]:
        """The loader's settings for a sync of ``integration``: the fixed ones, the
        configured ones (defaults filled in), and the per-integration ones."""
        options = self.spec.destination
        config = dict(options.fixed)
        config.update(effective_config(self.spec, self.config))
        for name, template in options.per_integration.items():
            config[name] = template.format(
                integration=integration,
                stream="",
                table="",
                output_dir=str(settings.output_dir),
                value=config.get(name, ""),
            )
        return config

    def secret_values(self) -> list[str]:
        """The secret values of the config, for a redactor."""
        return self.spec.secret_values(self.config)


def warehouse_config(settings: Settings) -> dict[str, Any]:
    """The PostgreSQL destination's settings from ``INTEGRATIONS_WAREHOUSE_URL``."""
    if not settings.warehouse_url:
        raise ConfigurationError(
            f"The postgres destination needs {ENV_WAREHOUSE_URL}",
            f"Set {ENV_WAREHOUSE_URL}=postgresql://user:password@host:5432/database "
            "where syncs run, configure a PostgreSQL destination (`integrations "
            "destinations add`), or choose the jsonl destination.",
        )
    url = make_url(settings.warehouse_url)
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        # target-postgres refuses a connection without a password; with trust auth any works.
        "password": url.password or "unused",
        "database": url.database or "postgres",
    }


def built_in_target(name: str, catalog: Catalog, settings: Settings | None) -> Target | None:
    """The built-in destination ``name`` (None if ``name`` is not one). The warehouse
    shortcut's connection is read from ``settings`` when given (at run time)."""
    connector = BUILT_IN.get(name)
    if connector is None:
        return None
    spec = catalog.destination(connector)
    if name == WAREHOUSE_DESTINATION and settings is not None:
        return Target(name, spec, warehouse_config(settings))
    return Target(name, spec)


def embedded_target(catalog: Catalog) -> Target:
    """The embedded destination (what discovery and connection tests name: they start
    no loader)."""
    return Target(EMBEDDED_DESTINATION, catalog.destination(BUILT_IN[EMBEDDED_DESTINATION]))


def resolve_target(
    name: str,
    catalog: Catalog,
    store: "ConfigStore",
    keyring: "KeyRing",
    settings: Settings | None,
) -> Target:
    """Destination ``name`` with its config in clear (a sync or a test only)."""
    from integrations_platform.store.destinations import get_destination

    built_in = built_in_target(name, catalog, settings)
    if built_in is not None:
        return built_in
    destination = get_destination(store, name)
    return Target(
        name, catalog.destination(destination.connector), open_config(keyring, destination)
    )


def open_config(keyring: "KeyRing", destination: "Destination") -> dict[str, Any]:
    """A configured destination's settings, decrypted."""
    return keyring.decrypt(
        destination.bound_to,
        f"destination {destination.name}",
        destination.sealed.ciphertext,
        fingerprint=destination.sealed.key_fingerprint,
    )
