"""Seal and open integrations' configs with their secrets in the configured backend.

``INTEGRATIONS_SECRETS_BACKEND`` decides where a config that is written keeps its
secrets; a stored config is always read from where it says it keeps them (see
:mod:`.secrets`), so records of both forms work side by side while
``integrations migrate-secrets`` moves them.

A write to the vault happens before the record is switched to it: a failure on the way
leaves the record as it was, and the version written for nothing is destroyed.
"""

import logging
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from integrations_platform.integration import Integration, SealedConfig
from integrations_platform.store.encryption import KeyRing
from integrations_platform.store.secrets import (
    SecretsReference,
    StoredSecret,
    partition,
    stored_form,
)
from integrations_platform.store.vault import (
    BACKEND_VAULT,
    Backend,
    SecretsBackendError,
    VaultClient,
    VaultSettings,
    secrets_backend,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sealing:
    """A config sealed for a record, and what it did in the vault.

    ``written`` (mount, path, version) was written for this record; ``obsolete``
    (mount, path) held the record's secrets before and is deleted once the record is
    switched.
    """

    sealed: SealedConfig
    written: tuple[str, str, int] | None = None
    obsolete: tuple[str, str] | None = None


class IntegrationSecrets:
    """The key ring and the vault, as one place that seals and opens configs.

    >>> import os
    >>> from integrations_platform.store import KeyRing, generate_key
    >>> secrets = IntegrationSecrets(KeyRing([generate_key()]), "database", lambda: None)
    >>> secrets.backend
    'database'
    """

    def __init__(
        self, keyring: KeyRing, backend: Backend, vault: Callable[[], VaultClient | None]
    ) -> None:
        self.keyring = keyring
        self.backend = backend
        self._vault = vault

    @classmethod
    def from_env(
        cls,
        keyring: KeyRing,
        environ: Mapping[str, str],
        clients: MutableMapping[VaultSettings, VaultClient] | None = None,
    ) -> "IntegrationSecrets":
        """The backend ``environ`` configures; the vault's settings are read only when
        a record or a write needs the vault. ``clients`` caches logged-in clients."""
        cache: MutableMapping[VaultSettings, VaultClient] = {} if clients is None else clients

        def vault() -> VaultClient:
            settings = VaultSettings.from_env(environ)
            client = cache.get(settings)
            if client is None:
                client = cache[settings] = VaultClient(settings)
            return client

        return cls(keyring, secrets_backend(environ), vault)

    @property
    def vault(self) -> VaultClient:
        """The vault's client (a clear error when the vault is not configured)."""
        client = self._vault()
        if client is None:
            raise SecretsBackendError(
                "No vault is configured here", "Set the vault's variables (docs/vault.md)."
            )
        return client

    # -- reads -------------------------------------------------------------------------

    def reference(self, integration: Integration) -> SecretsReference | None:
        """Where the vault keeps the integration's secrets (None: in the record)."""
        return self.keyring.open_integration(integration)[1]

    def full_config(self, integration: Integration) -> dict[str, Any]:
        """The integration's config with its secret values, read from the vault when it
        keeps them: for a sync, a connection test or a discovery only."""
        settings, reference = self.keyring.open_integration(integration)
        if reference is None:
            return settings
        return {**settings, **self._read(integration.name, reference)}

    def _read(self, name: str, reference: SecretsReference) -> dict[str, Any]:
        values = self.vault.read(name, reference.mount, reference.path, reference.version)
        missing = [k for k in reference.keys if values.get(k) in (None, "")]
        if missing:
            raise SecretsBackendError(
                f"The vault's {reference.where} lacks secret(s) {', '.join(missing)} of "
                f"integration '{name}'",
                f"Enter them again: `integrations update {name} --config FILE`, or the "
                "page's edit form.",
            )
        return {k: values[k] for k in reference.keys}

    # -- writes ------------------------------------------------------------------------

    def seal(
        self,
        integration_id: str,
        name: str,
        secret_names: Iterable[str],
        config: Mapping[str, Any],
        previous: SecretsReference | None = None,
        *,
        backend: Backend | None = None,
    ) -> Sealing:
        """Seal ``config`` (validated; a :class:`StoredSecret` keeps the value at
        ``previous``) with its secrets in ``backend`` (default: the configured one)."""
        target = backend or self.backend
        settings, secrets = partition(config, secret_names)
        kept = {k for k, v in secrets.items() if isinstance(v, StoredSecret)}
        if kept and previous is None:
            raise ValueError(f"no vault reference for the kept secrets of '{name}'")
        old = (previous.mount, previous.path) if previous is not None else None
        if target != BACKEND_VAULT or not secrets:
            if kept:
                assert previous is not None
                secrets.update({k: v for k, v in self._read(name, previous).items() if k in kept})
            sealed = self.keyring.seal(integration_id, stored_form({**settings, **secrets}, None))
            return Sealing(sealed, obsolete=old)
        vault = self.vault
        here = (vault.settings.mount, vault.settings.path_for(integration_id))
        if previous is not None and old == here and kept == set(secrets) == set(previous.keys):
            return Sealing(self.keyring.seal(integration_id, stored_form(settings, previous)))
        if kept:
            assert previous is not None
            secrets.update({k: v for k, v in self._read(name, previous).items() if k in kept})
        version = vault.write(name, *here, secrets)
        reference = SecretsReference(*here, version, tuple(sorted(secrets)))
        sealed = self.keyring.seal(integration_id, stored_form(settings, reference))
        return Sealing(sealed, (*here, version), old if old != here else None)

    def finish(self, name: str, sealing: Sealing, *, strict: bool = False) -> None:
        """The record was switched: delete where its secrets were before (with
        ``strict``, a failure raises; otherwise it is logged, without a value)."""
        if sealing.obsolete is None:
            return
        try:
            self.vault.delete(name, *sealing.obsolete)
        except SecretsBackendError as exc:
            if strict:
                raise
            logger.warning("Old secrets left in the vault: %s", exc)

    def discard(self, name: str, sealing: Sealing) -> None:
        """The record was not switched: destroy what was written for it."""
        if sealing.written is None:
            return
        mount, path, version = sealing.written
        try:
            if version == 1:  # the path was created for this write
                self.vault.delete(name, mount, path)
            else:
                self.vault.destroy_version(name, mount, path, version)
        except SecretsBackendError as exc:
            logger.warning("A version written for nothing is left in the vault: %s", exc)

    def delete(self, integration: Integration) -> None:
        """Delete the integration's secrets from the vault (nothing if none there)."""
        reference = self.reference(integration)
        if reference is not None:
            self.vault.delete(integration.name, reference.mount, reference.path)


__all__ = ["IntegrationSecrets", "Sealing"]
