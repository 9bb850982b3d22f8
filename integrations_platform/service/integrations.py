"""IntegrationService: the one way in for the CLI and the API.

Every action they offer on integrations is one method here (the actions that run
something — tests, syncs, state — are in :mod:`.operations`). It validates against the
catalog, encrypts through the key ring, keeps secrets in the configured backend (the
config store, or a vault: see store/secrets_backend.py) and persists through the store;
it never returns a secret value, and reads one from the vault only for a connection
test or a discovery.
"""

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from integrations_platform.catalog import Catalog, ConnectorSpec, load_catalog, validate_config
from integrations_platform.catalog.loader import catalog_stamp
from integrations_platform.catalog.models import DestinationConnectorSpec
from integrations_platform.discovery import Discovery
from integrations_platform.errors import ConfigurationError, DecryptionError, PlatformError
from integrations_platform.integration import Integration, SealedConfig, StreamSelection
from integrations_platform.runner.batch import check_message_format
from integrations_platform.runner.redaction import Redactor
from integrations_platform.schema_changes import check_policy
from integrations_platform.service.destinations import DestinationManagement
from integrations_platform.service.discovery import IntegrationDiscovery
from integrations_platform.service.selection import is_pattern, needs_discovery
from integrations_platform.service.validation import (
    check_name,
    check_orchestration,
    check_text,
    normalise_start,
    raise_if,
    repair_config,
)
from integrations_platform.service.views import IntegrationView
from integrations_platform.settings import Settings
from integrations_platform.store import ConfigStore, KeyRing
from integrations_platform.store.discoveries import load_discovery, save_discovery
from integrations_platform.store.schema import forget_schema, hash_salt, rotate_salts
from integrations_platform.store.secrets import (
    SecretsReference,
    StoredSecret,
    with_placeholders,
)
from integrations_platform.store.secrets_backend import IntegrationSecrets
from integrations_platform.store.vault import Backend, VaultClient, VaultSettings

logger = logging.getLogger(__name__)
CATALOG_CHECK_S = 1.0


@dataclass(frozen=True)
class KeyRotation:
    """What ``rotate_keys`` did: rows re-encrypted, and rows no key could read."""

    rotated: int
    unreadable: tuple[str, ...] = ()


class IntegrationService(DestinationManagement, IntegrationDiscovery):
    """Create, read, update and remove integrations; test, sync and reset them.

    The key ring is asked for only by operations that touch the encrypted config, so
    listing works without ``INTEGRATIONS_ENCRYPTION_KEYS``.
    """

    def __init__(
        self,
        catalog: Catalog,
        store: ConfigStore,
        keyring: Callable[[], KeyRing],
        **operations: Any,
    ) -> None:
        self._catalog = catalog
        self._catalog_stamp = catalog_stamp(catalog.directory)
        self._catalog_checked = time.monotonic()
        self.store = store
        self._keyring = keyring
        self._vault_clients: dict[VaultSettings, VaultClient] = {}
        super().__init__(**operations)

    @property
    def catalog(self) -> Catalog:
        """The connector catalog, reloaded when its files change (checked at most once a
        second): a catalog file added or edited while the API runs shows in the
        marketplace without a restart. A file that does not load is reported in the log
        (and by `integrations doctor`) and the catalog stays as it was."""
        now = time.monotonic()
        if now - self._catalog_checked >= CATALOG_CHECK_S:
            self._catalog_checked = now
            stamp = catalog_stamp(self._catalog.directory)
            if stamp != self._catalog_stamp:
                self._catalog_stamp = stamp
                try:
                    self._catalog = load_catalog(self._catalog.directory)
                    logger.info("Connector catalog reloaded: %d connectors", len(self._catalog))
                except PlatformError as exc:
                    logger.warning("Connector catalog change not loaded: %s", exc)
        return self._catalog

    @catalog.setter
    def catalog(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._catalog_stamp = catalog_stamp(catalog.directory)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        environ: Mapping[str, str],
        *,
        store: ConfigStore | None = None,
        **operations: Any,
    ) -> "IntegrationService":
        """The service over the configured catalog, store (opened and migrated unless
        given) and keys (from the environment, else the key file ``up`` writes)."""
        return cls(
            load_catalog(settings.catalog_dir),
            store or ConfigStore.open(settings.database_url),
            lambda: KeyRing.from_settings(environ, settings.key_file),
            settings=settings,
            environ=environ,
            **operations,
        )

    @property
    def keyring(self) -> KeyRing:
        """The configured keys (raises a clear error when missing)."""
        return self._keyring()

    @property
    def secrets(self) -> IntegrationSecrets:
        """The keys and the secrets backend (``INTEGRATIONS_SECRETS_BACKEND``)."""
        return IntegrationSecrets.from_env(self.keyring, self.environ, self._vault_clients)

    def keyring_or_none(self) -> KeyRing | None:
        """The keys, or None where none is configured (checks that can do without)."""
        try:
            return self.keyring
        except PlatformError:
            return None

    # -- reads -------------------------------------------------------------------------

    def list_integrations(self) -> list[IntegrationView]:
        """Every integration, without its config."""
        return [IntegrationView.of(i) for i in self.store.list_all()]

    def get(self, name: str) -> Integration:
        """The integration (its sealed config included, for the runner)."""
        return self.store.get(name)

    def show(self, name: str, *, repairable: bool = False) -> IntegrationView:
        """One integration with its non-secret settings and which secrets are set.

        With ``repairable``, an integration whose config cannot be decrypted is shown
        with an empty config and ``config_error`` (for a form that repairs it) instead
        of raising.
        """
        integration = self.store.get(name)
        connector = self.catalog.get(integration.connector)
        try:
            config = self.stored_config(integration)
        except DecryptionError as exc:
            if not repairable:
                raise
            return IntegrationView.of(integration, {}, connector, config_error=str(exc))
        return IntegrationView.of(integration, config, connector)

    def redactor(self, integration: Integration) -> Redactor:
        """Masks the integration's secret values (none, if its config cannot be read).

        Secrets kept in the vault are not read for this (the API never reads them):
        the sync that read them masked them in its log already.
        """
        try:
            config = self.stored_config(integration)
            stored = {k: v for k, v in config.items() if not isinstance(v, StoredSecret)}
            return Redactor(self.catalog.get(integration.connector).secret_values(stored))
        except PlatformError:
            return Redactor(())

    def stored_config(self, integration: Integration) -> dict[str, Any]:
        """The integration's config as the store holds it: a secret kept in the vault
        is a :class:`StoredSecret` placeholder (set, not read)."""
        return self.keyring.decrypt_integration(integration)

    def decrypted_config(self, integration: Integration) -> dict[str, Any]:
        """The integration's config in clear, for a sync or a connection test only
        (secrets kept in the vault are read from it)."""
        return self.secrets.full_config(integration)

    # -- writes ------------------------------------------------------------------------

    def add(
        self,
        connector_id: str,
        name: str,
        config: Mapping[str, Any],
        *,
        streams: Sequence[StreamSelection | str] | None = None,
        schedule: str | None = None,
        start_date: str | None = None,
        destination: str = "jsonl",
        enabled: bool = True,
        description: str = "",
        schema_policy: str | None = None,
        message_format: str | None = None,
    ) -> IntegrationView:
        """Validate and store a new integration."""
        connector = self.catalog.get(connector_id)
        errors: dict[str, str] = {}
        check_name(errors, name)
        policy = check_policy(schema_policy, errors)
        try:
            clean = validate_config(connector, config)
        except ConfigurationError as exc:
            clean = {}
            errors.update(exc.field_errors)
        requested = _requested(streams)
        discovery, failure = None, ""
        if requested and not errors and needs_discovery(connector, requested):
            discovery, failure = self._discovery_for_check(connector, clean)
        selected = check_orchestration(
            connector,
            errors,
            streams=requested,
            schedule=schedule or connector.default_schedule,
            start_date=start_date,
            discovery=discovery,
        )
        check_text(errors, "description", description)
        target = self.destination_spec(destination, errors)
        formats = _check_format(message_format, errors, connector, target, destination, selected)
        _explain(errors, failure)
        raise_if(errors, connector)
        integration_id = Integration.new_id()
        secrets = self.secrets
        sealing = secrets.seal(integration_id, name, connector.secret_names, clean)
        try:
            added = self.store.add(
                Integration(
                    id=integration_id,
                    name=name,
                    connector=connector.id,
                    enabled=enabled,
                    schedule=schedule or connector.default_schedule,
                    streams=tuple(selected),
                    start_date=normalise_start(start_date),
                    destination=destination,
                    description=description,
                    schema_policy=policy,
                    message_format=formats,
                    sealed=sealing.sealed,
                )
            )
        except BaseException:
            secrets.discard(name, sealing)
            raise
        if discovery is not None:
            save_discovery(self.store, added.id, discovery)
        self._salt_if_hashing(added)
        return IntegrationView.of(added, clean, connector)

    def update(
        self,
        name: str,
        config: Mapping[str, Any] | None = None,
        *,
        streams: Sequence[StreamSelection | str] | None = None,
        schedule: str | None = None,
        start_date: str | None = None,
        destination: str | None = None,
        description: str | None = None,
        schema_policy: str | None = None,
        message_format: str | None = None,
        expected_version: int | None = None,
    ) -> IntegrationView:
        """Change an integration. Omitted settings and blank secrets keep their value.

        Validation runs inside the store's transaction: a failing edit writes nothing.
        An integration whose stored config cannot be decrypted (lost key, tampered row)
        is repaired in place by a complete ``config``: same id, name and bookmarks.
        """
        result: dict[str, Any] = {}
        requested = _requested(streams)
        stored = self.store.get(name)
        discovery = load_discovery(self.store, stored.id)
        fresh, failure = None, ""
        if requested and self._stale_for(stored, requested, discovery):
            _, merged = self.config_to_test(name, config)
            fresh, failure = self._discovery_for_check(self.catalog.get(stored.connector), merged)
            discovery = fresh or discovery

        secrets = self.secrets

        def change(current: Integration) -> Integration:
            connector = self.catalog.get(current.connector)
            errors: dict[str, str] = {}
            previous: SecretsReference | None = None
            try:
                settings, previous = secrets.keyring.open_integration(current)
                stored_config: dict[str, Any] | None = with_placeholders(settings, previous)
            except DecryptionError as unreadable:
                if config is None:
                    raise
                repair_config(connector, config, unreadable)  # complete, or refused
                stored_config = None
            clean = stored_config or {}
            if config is not None:
                try:
                    clean = validate_config(connector, config, existing=stored_config)
                except ConfigurationError as exc:
                    errors.update(exc.field_errors)
            selected = check_orchestration(
                connector,
                errors,
                streams=requested,
                schedule=schedule or current.schedule,
                start_date=start_date or current.start_date,
                default_streams=current.streams,
                discovery=discovery if current.id == stored.id else None,
            )
            check_text(errors, "description", description)
            policy = check_policy(schema_policy or current.schema_policy, errors)
            target = self.destination_spec(destination or current.destination, errors)
            formats = _check_format(
                message_format or current.message_format,
                errors,
                connector,
                target,
                destination or current.destination,
                selected,
            )
            _explain(errors, failure)
            raise_if(errors, connector)
            result["config"], result["connector"] = clean, connector
            sealed = current.sealed
            if clean != stored_config:  # last: the vault is written once all is valid
                sealing = secrets.seal(
                    current.id, current.name, connector.secret_names, clean, previous
                )
                result["sealing"], sealed = sealing, sealing.sealed
            return replace(
                current,
                schema_policy=policy,
                message_format=formats,
                schedule=schedule or current.schedule,
                streams=tuple(selected),
                start_date=normalise_start(start_date) if start_date else current.start_date,
                destination=destination or current.destination,
                description=current.description if description is None else description,
                sealed=sealed,
            )

        try:
            updated = self.store.update(name, change, expected_version=expected_version)
        except BaseException:
            if "sealing" in result:
                secrets.discard(name, result["sealing"])
            raise
        if "sealing" in result:
            secrets.finish(name, result["sealing"])
        if fresh is not None and updated.id == stored.id:
            save_discovery(self.store, updated.id, fresh)
        self._salt_if_hashing(updated)
        return IntegrationView.of(updated, result["config"], result["connector"])

    def _salt_if_hashing(self, integration: Integration) -> None:
        """Create the integration's hashing salt when it first hashes a column."""
        if any(s.hashed_columns for s in integration.streams):
            hash_salt(self.store, self.keyring, integration.id, integration.name, create=True)

    def _stale_for(
        self,
        integration: Integration,
        requested: Sequence[StreamSelection],
        discovery: Discovery | None,
    ) -> bool:
        """Whether checking ``requested`` needs a new discovery of the source: none is
        stored and the selection needs one, or it lacks a requested stream."""
        if discovery is None:
            connector = self.catalog.get(integration.connector)
            return needs_discovery(connector, requested)
        return any(not is_pattern(s.name) and discovery.stream(s.name) is None for s in requested)

    def _discovery_for_check(
        self, connector: ConnectorSpec, config: dict[str, Any]
    ) -> tuple[Discovery | None, str]:
        """Discover the source to check a selection: the discovery, or why it failed."""
        result = self._discover(connector, config, CHECK_DISCOVERY_TIMEOUT_S)
        outcome = result.outcome
        failure = (
            ""
            if result.discovery is not None
            else f"discovering the {connector.label} source to check the selection failed "
            f"({outcome.reason}: {outcome.message.rstrip('.')})"
        )
        return result.discovery, failure

    def set_enabled(
        self, name: str, enabled: bool, *, expected_version: int | None = None
    ) -> Integration:
        """Enable or disable an integration (its schedule follows)."""
        return self.store.update(
            name, lambda cur: replace(cur, enabled=enabled), expected_version=expected_version
        )

    def remove(self, name: str) -> Integration:
        """Delete an integration, its stored config, its secrets in the vault (first:
        when the vault cannot delete them, nothing is removed) and its discovery."""
        stored = self.store.get(name)
        keyring = self.keyring_or_none()
        reference = None
        if keyring is not None:
            try:
                reference = keyring.open_integration(stored)[1]
            except DecryptionError:
                reference = None  # unreadable: where its secrets are is unknown
        if reference is not None:
            self.secrets.vault.delete(name, reference.mount, reference.path)
        removed = self.store.delete(name)
        self.forget_discovery(removed)
        forget_schema(self.store, removed.id)
        return removed

    def rotate_keys(self) -> KeyRotation:
        """Re-encrypt every readable config with the first key.

        A row no configured key can read is left as it is and named in the result, so
        that one lost row does not hold back the others.
        """
        keyring = self.keyring
        unreadable: list[str] = []

        def rewrite(integration: Integration) -> SealedConfig | None:
            try:
                self.stored_config(integration)
            except DecryptionError:
                unreadable.append(integration.name)
                return None
            assert integration.sealed is not None  # read from the store
            token = integration.sealed.ciphertext
            if not keyring.is_primary(token):
                token = keyring.rotate(token)
            return SealedConfig(token, keyring.primary_fingerprint)

        rotated = self.store.replace_ciphertexts(rewrite)
        rotated += rotate_salts(self.store, keyring)
        rotated += self.rotate_destination_keys(keyring, unreadable)
        return KeyRotation(rotated=rotated, unreadable=tuple(sorted(unreadable)))

    def move_secrets(self, name: str, to: Backend) -> bool:
        """Move one integration's secrets to ``to`` (``database``, or the configured
        vault path): write them there, switch the record (refused if it changed since it
        was read), then delete them where they were. False: already there.

        Idempotent and resumable: run again after a failure, it finishes the move.
        """
        secrets = self.secrets
        current = self.store.get(name)
        connector = self.catalog.get(current.connector)
        settings, previous = secrets.keyring.open_integration(current)
        if to == "database" and previous is None:
            return False
        if to == "vault" and previous is not None:
            vault = secrets.vault.settings
            if (previous.mount, previous.path) == (vault.mount, vault.path_for(current.id)):
                return False
        config = with_placeholders(settings, previous)
        sealing = secrets.seal(
            current.id, name, connector.secret_names, config, previous, backend=to
        )
        try:
            self.store.update(
                name,
                lambda cur: replace(cur, sealed=sealing.sealed),
                expected_version=current.version,
            )
        except BaseException:
            secrets.discard(name, sealing)
            raise
        secrets.finish(name, sealing, strict=True)
        return True

    # -- configs for the operations ----------------------------------------------------

    def config_to_test(
        self, name: str, edits: Mapping[str, Any] | None = None
    ) -> tuple[ConnectorSpec, dict[str, Any]]:
        """The config a connection test of ``name`` uses: the stored one, with ``edits``
        merged as :meth:`update` would (nothing is stored). An unreadable stored config
        is replaced by ``edits`` when they are complete, as a repair would."""
        integration = self.store.get(name)
        connector = self.catalog.get(integration.connector)
        try:
            current = self.decrypted_config(integration)
        except DecryptionError as unreadable:
            if not edits:
                raise
            return connector, repair_config(connector, edits, unreadable)
        if not edits:
            return connector, current
        return connector, validate_config(connector, edits, existing=current)


# A selection's check waits this long for the source's discovery.
CHECK_DISCOVERY_TIMEOUT_S = 120.0


def _explain(errors: dict[str, str], failure: str) -> None:
    """Say why a stream could not be checked, beside the error about it."""
    if failure and "streams" in errors:
        errors["streams"] = f"{errors['streams']} ({failure})"


def _requested(streams: Sequence[StreamSelection | str] | None) -> list[StreamSelection] | None:
    if streams is None:
        return None
    return [StreamSelection.parse(s) if isinstance(s, str) else s for s in streams]


def _check_format(
    value: str | None,
    errors: dict[str, str],
    connector: ConnectorSpec,
    spec: DestinationConnectorSpec | None,
    destination: str,
    streams: Sequence[StreamSelection],
) -> str:
    """The integration's message format, checked against its source and destination."""
    if spec is None:  # reported under destination
        return value or "auto"
    return check_message_format(value, errors, connector, spec.loader, destination, streams)
