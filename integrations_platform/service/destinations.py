"""Destinations on the service: configure, show, test and remove where data lands.

Mixed into :class:`~integrations_platform.service.IntegrationService`. A destination is a
destination connector of the catalog and its settings, encrypted with the same keys as
integrations' configs (bound to the destination's id), secrets write-only: a view says
only whether each is set. Two names need no configuring: ``jsonl`` (embedded) and
``postgres`` (``INTEGRATIONS_WAREHOUSE_URL``, read where syncs run).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from integrations_platform.catalog import Catalog, validate_config
from integrations_platform.catalog.models import DestinationConnectorSpec
from integrations_platform.destinations import BUILT_IN, Target, open_config, resolve_target
from integrations_platform.errors import ConfigurationError, DecryptionError
from integrations_platform.integration import SealedConfig
from integrations_platform.settings import ENV_WAREHOUSE_URL, Settings
from integrations_platform.store import ConfigStore, KeyRing
from integrations_platform.store.destinations import (
    Destination,
    add_destination,
    bound_id,
    delete_destination,
    find_destination,
    get_destination,
    list_destinations,
    rewrite_destinations,
    update_destination,
    users_by_destination,
    users_of,
)

if TYPE_CHECKING:
    from integrations_platform.runner.connection_test import ConnectionTestResult

DESTINATION_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True)
class DestinationView:
    """A destination as the CLI and the API show it: never a secret value."""

    name: str
    connector: str
    label: str
    built_in: bool
    used_by: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, bool] = field(default_factory=dict)
    version: int = 0
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form; secrets appear only as "set" / "not set"."""
        return {
            "name": self.name,
            "connector": self.connector,
            "label": self.label,
            "built_in": self.built_in,
            "used_by": list(self.used_by),
            "config": dict(self.config),
            "secrets": {k: ("set" if v else "not set") for k, v in self.secrets.items()},
            "version": self.version,
            "note": self.note,
        }


def _view(
    destination: Destination,
    spec: DestinationConnectorSpec,
    config: Mapping[str, Any],
    used_by: list[str],
) -> DestinationView:
    return DestinationView(
        name=destination.name,
        connector=spec.id,
        label=spec.label,
        built_in=False,
        used_by=tuple(used_by),
        config={k: v for k, v in config.items() if k not in spec.secret_names},
        secrets={n: bool(config.get(n)) for n in sorted(spec.secret_names)},
        version=destination.version,
    )


_BUILT_IN_NOTES = {
    "jsonl": "Embedded: JSON Lines files under the platform's home folder. Nothing to configure.",
    "postgres": f"The deployment's warehouse: its connection is {ENV_WAREHOUSE_URL}, read "
    "where syncs run.",
}


class DestinationManagement:
    """Configured destinations (see the module docstring)."""

    store: ConfigStore
    environ: Mapping[str, str]

    if TYPE_CHECKING:

        @property
        def catalog(self) -> Catalog: ...

        @property
        def keyring(self) -> KeyRing: ...

        @property
        def settings(self) -> Settings: ...

    # -- reads -------------------------------------------------------------------------

    def destination_spec(
        self, name: str, errors: dict[str, str] | None = None
    ) -> DestinationConnectorSpec | None:
        """The connector of destination ``name`` (built-in or configured); None, with
        the reason under ``destination`` in ``errors``, when there is none."""
        connector = BUILT_IN.get(name)
        if connector is None:
            found = find_destination(self.store, name)
            connector = found.connector if found else None
        if connector is None or connector not in self.catalog.destinations:
            if errors is not None:
                configured = [d.name for d in list_destinations(self.store)]
                errors["destination"] = (
                    f"no destination named '{name}'"
                    + (" (its connector is not in the catalog)" if connector else "")
                    + f"; use {', '.join([*BUILT_IN, *configured])}, or configure one "
                    "(`integrations destinations add`)"
                )
            return None
        return self.catalog.destination(connector)

    def list_destinations(self) -> list[DestinationView]:
        """The built-in destinations, then the configured ones (without their config)."""
        users = users_by_destination(self.store)
        views = [
            DestinationView(
                name=name,
                connector=connector,
                label=self.catalog.destination(connector).label,
                built_in=True,
                used_by=tuple(users.get(name, ())),
                note=_BUILT_IN_NOTES[name],
            )
            for name, connector in BUILT_IN.items()
            if connector in self.catalog.destinations
        ]
        for destination in list_destinations(self.store):
            label = (
                self.catalog.destinations[destination.connector].label
                if destination.connector in self.catalog.destinations
                else f"{destination.connector} (not in the catalog)"
            )
            views.append(
                DestinationView(
                    name=destination.name,
                    connector=destination.connector,
                    label=label,
                    built_in=False,
                    used_by=tuple(users.get(destination.name, ())),
                    version=destination.version,
                )
            )
        return views

    def show_destination(self, name: str) -> DestinationView:
        """One destination with its non-secret settings and which secrets are set."""
        if name in BUILT_IN:
            return next(v for v in self.list_destinations() if v.name == name)
        destination = get_destination(self.store, name)
        spec = self.catalog.destination(destination.connector)
        config = self._open(destination)
        return _view(destination, spec, config, users_of(self.store, name))

    def _open(self, destination: Destination) -> dict[str, Any]:
        return open_config(self.keyring, destination)

    def target(self, name: str, settings: Settings | None = None) -> Target:
        """Destination ``name`` with its config in clear, for a sync or a test only."""
        return resolve_target(name, self.catalog, self.store, self.keyring, settings)

    # -- writes ------------------------------------------------------------------------

    def add_destination(
        self, connector_id: str, name: str, config: Mapping[str, Any]
    ) -> DestinationView:
        """Validate and store a new destination."""
        spec = self.catalog.destination(connector_id)
        errors: dict[str, str] = {}
        if not DESTINATION_NAME.fullmatch(name or ""):
            errors["name"] = (
                "use 1-32 lower-case letters, digits and underscores, starting with a letter"
            )
        elif name in BUILT_IN:
            errors["name"] = f"'{name}' is a built-in destination's name; choose another"
        try:
            clean = validate_config(spec, config)
        except ConfigurationError as exc:
            clean = {}
            errors.update(exc.field_errors)
        if errors:
            raise _invalid(spec, errors)
        new_id = Destination.new_id()
        sealed = self.keyring.seal(bound_id(new_id), clean)
        added = add_destination(
            self.store, Destination(id=new_id, name=name, connector=spec.id, sealed=sealed)
        )
        return _view(added, spec, clean, [])

    def update_destination(
        self, name: str, config: Mapping[str, Any], *, expected_version: int | None = None
    ) -> DestinationView:
        """Change a destination's settings. Omitted settings and blank secrets keep their
        value; a failing edit writes nothing."""
        if name in BUILT_IN:
            raise ConfigurationError(
                f"'{name}' is built in and has no settings to change",
                "Configure a destination of your own (`integrations destinations add`).",
            )
        result: dict[str, Any] = {}

        def change(current: Destination) -> SealedConfig:
            spec = self.catalog.destination(current.connector)
            try:
                clean = validate_config(spec, config, existing=self._open(current))
            except ConfigurationError as exc:
                raise _invalid(spec, exc.field_errors) from None
            result["config"], result["spec"] = clean, spec
            return self.keyring.seal(current.bound_to, clean)

        updated = update_destination(self.store, name, change, expected_version=expected_version)
        return _view(updated, result["spec"], result["config"], users_of(self.store, name))

    def remove_destination(self, name: str) -> DestinationView:
        """Remove a destination no integration loads into."""
        if name in BUILT_IN:
            raise ConfigurationError(
                f"'{name}' is built in and cannot be removed",
                "Remove only destinations you configured.",
            )
        removed = delete_destination(self.store, name)
        label = self.catalog.destinations.get(removed.connector)
        return DestinationView(
            name=removed.name,
            connector=removed.connector,
            label=label.label if label else removed.connector,
            built_in=False,
        )

    def rotate_destination_keys(self, keyring: KeyRing, unreadable: list[str]) -> int:
        """Re-encrypt every readable destination config with the first key (those no
        key reads are added to ``unreadable``); returns how many changed."""

        def rewrite(destination: Destination) -> SealedConfig | None:
            token = destination.sealed.ciphertext
            try:
                self._open(destination)
            except DecryptionError:
                unreadable.append(f"destination {destination.name}")
                return None
            if not keyring.is_primary(token):
                token = keyring.rotate(token)
            return SealedConfig(token, keyring.primary_fingerprint)

        return rewrite_destinations(self.store, rewrite)

    # -- connection tests --------------------------------------------------------------

    def test_destination(
        self,
        name: str | None = None,
        *,
        connector_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        timeout_s: float = 30.0,
    ) -> "ConnectionTestResult":
        """Test destination ``name`` (with ``config`` merged as an update would), or a
        new one of ``connector_id`` with ``config`` (nothing is stored)."""
        from integrations_platform.runner.connection_test.destination import test_target

        if name is not None:
            target = self.target(name, self.settings)
            if config:
                if name in BUILT_IN:
                    raise ConfigurationError(
                        f"'{name}' is built in and has no settings to change",
                        "Test it without settings.",
                    )
                merged = validate_config(target.spec, config, existing=target.config)
                target = Target(name, target.spec, merged)
        elif connector_id is not None:
            target = Target("(new)", self.catalog.destination(connector_id), dict(config or {}))
        else:
            raise ConfigurationError(
                "Name a destination to test, or a connector and its settings",
                "Give NAME, or --connector with the settings.",
            )
        return test_target(target, self.settings, self.environ, timeout_s=timeout_s)

    test_destination.__test__ = False  # type: ignore[attr-defined]


def _invalid(spec: DestinationConnectorSpec, errors: Mapping[str, str]) -> ConfigurationError:
    fields = ", ".join(sorted(errors))
    return ConfigurationError(
        f"Invalid {spec.label} destination ({fields})",
        "Fix the listed fields: " + "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())),
        field_errors=dict(errors),
    )
