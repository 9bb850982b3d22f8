"""Encryption of connector configs at rest.

Keys come from ``INTEGRATIONS_ENCRYPTION_KEYS``: comma-separated Fernet keys, the first
encrypts and all decrypt, so a key can be rotated without downtime (add the new key in
front, run ``integrations rotate-keys``, then drop the old one).

A ciphertext is bound to its row: the plaintext carries the integration's id, checked
on decryption, so a blob copied onto another integration refuses to decrypt.

Each row also records the fingerprint of the key that encrypted it (a one-way digest of
the key, safe to print), so that a missing or wrong key is named, never replaced.
"""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from integrations_platform.errors import DecryptionError, EncryptionKeyError
from integrations_platform.integration import Integration, SealedConfig
from integrations_platform.settings import ENV_ENCRYPTION_KEYS
from integrations_platform.store.secrets import SecretsReference, split_stored, with_placeholders

_FORMAT = 1
FINGERPRINT_LENGTH = 16
_FINGERPRINT_CONTEXT = b"integrations-platform encryption key fingerprint\0"


def key_fingerprint(key: str) -> str:
    """A short, one-way name for ``key``: shows which key a row needs, reveals nothing."""
    digest = hashlib.sha256(_FINGERPRINT_CONTEXT + key.strip().encode("ascii"))
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


def repair_instruction(integration_name: str) -> str:
    """How to repair an integration whose stored config cannot be read."""
    return (
        f"repair it by entering its complete config again (every required setting and "
        f"secret): `integrations update {integration_name} --config FILE`, or the page's "
        "edit form. Its id, schedule and bookmarks are kept."
    )


def generate_key() -> str:
    """A new random key, in the form ``INTEGRATIONS_ENCRYPTION_KEYS`` takes."""
    return Fernet.generate_key().decode("ascii")


class KeyRing:
    """The configured keys; encrypts with the first, decrypts with any."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise EncryptionKeyError(
                f"{ENV_ENCRYPTION_KEYS} is not set",
                f"Run `integrations keygen` and export {ENV_ENCRYPTION_KEYS}=<key>.",
            )
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise EncryptionKeyError(
                    f"{ENV_ENCRYPTION_KEYS}: key #{position} is not a valid key "
                    "(32 url-safe base64-encoded bytes)",
                    "Generate one with `integrations keygen`.",
                ) from None
        self._multi = MultiFernet(fernets)
        self._primary = fernets[0]
        self._count = len(fernets)
        self.fingerprints = tuple(key_fingerprint(k) for k in keys)

    @property
    def primary_fingerprint(self) -> str:
        """The fingerprint of the key new ciphertexts are made with."""
        return self.fingerprints[0]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "KeyRing":
        """The keys named by ``INTEGRATIONS_ENCRYPTION_KEYS`` in ``environ``."""
        raw = environ.get(ENV_ENCRYPTION_KEYS, "")
        return cls([k.strip() for k in raw.split(",") if k.strip()])

    @classmethod
    def from_settings(cls, environ: Mapping[str, str], key_file: Path) -> "KeyRing":
        """The keys from the environment, else from ``key_file`` (written by ``up``)."""
        if environ.get(ENV_ENCRYPTION_KEYS, "").strip():
            return cls.from_env(environ)
        if key_file.is_file():
            return cls.from_value(key_file.read_text(encoding="ascii"))
        return cls([])

    @classmethod
    def from_value(cls, raw: str) -> "KeyRing":
        """The keys in a comma-separated string (as the variable holds them)."""
        return cls([k.strip() for k in raw.split(",") if k.strip()])

    def encrypt(self, integration_id: str, config: Mapping[str, Any]) -> bytes:
        """Encrypt ``config`` for the integration ``integration_id``."""
        payload = json.dumps(
            {"v": _FORMAT, "integration_id": integration_id, "config": dict(config)},
            separators=(",", ":"),
            sort_keys=True,
        )
        return self._primary.encrypt(payload.encode("utf-8"))

    def decrypt(
        self,
        integration_id: str,
        integration_name: str,
        token: bytes,
        *,
        fingerprint: str | None = None,
    ) -> dict[str, Any]:
        """Decrypt the config stored on the integration ``integration_id``.

        ``fingerprint`` (the row's) names the key the row needs when none fits.
        """
        repair = repair_instruction(integration_name)
        try:
            plaintext = self._multi.decrypt(token)
        except InvalidToken:
            needed = (
                f" (it was saved with the key whose fingerprint is {fingerprint})"
                if fingerprint and fingerprint not in self.fingerprints
                else ""
            )
            raise DecryptionError(
                f"The config of integration '{integration_name}' cannot be decrypted with "
                f"the {self._count} key(s) in {ENV_ENCRYPTION_KEYS}{needed}",
                f"Set {ENV_ENCRYPTION_KEYS} to include the key it was saved with, or {repair}",
            ) from None
        try:
            payload = json.loads(plaintext)
            config = payload["config"]
            bound_to = payload["integration_id"]
        except (ValueError, TypeError, KeyError):
            raise DecryptionError(
                f"The stored config of integration '{integration_name}' is not in the "
                "expected form (it was written by something else)",
                repair[:1].upper() + repair[1:],
            ) from None
        if bound_to != integration_id:
            raise DecryptionError(
                f"The stored config of integration '{integration_name}' belongs to another "
                "integration (it was copied between rows)",
                repair[:1].upper() + repair[1:],
            )
        if not isinstance(config, dict):
            raise DecryptionError(
                f"The stored config of integration '{integration_name}' is not a mapping",
                repair[:1].upper() + repair[1:],
            )
        return config

    def seal(self, integration_id: str, config: Mapping[str, Any]) -> SealedConfig:
        """``config`` encrypted for the integration, with the first key's fingerprint."""
        return SealedConfig(self.encrypt(integration_id, config), self.primary_fingerprint)

    def decrypt_integration(self, integration: Integration) -> dict[str, Any]:
        """The integration's config in clear (for a sync or a connection test only).

        Secrets kept in the vault are not read: each is a
        :class:`~integrations_platform.store.secrets.StoredSecret` placeholder here
        (``IntegrationSecrets.full_config`` reads them, at sync time).
        """
        settings, reference = self.open_integration(integration)
        return with_placeholders(settings, reference)

    def open_integration(
        self, integration: Integration
    ) -> tuple[dict[str, Any], SecretsReference | None]:
        """The integration's stored settings, and where the vault keeps its secrets
        (None: the settings include them)."""
        if integration.sealed is None:
            raise DecryptionError(
                f"Integration '{integration.name}' was read without its config",
                "Read it from the config store (ConfigStore.get) to decrypt it.",
            )
        config = self.decrypt(
            integration.id,
            integration.name,
            integration.sealed.ciphertext,
            fingerprint=integration.sealed.key_fingerprint,
        )
        try:
            return split_stored(config)
        except ValueError as exc:
            raise DecryptionError(
                f"The stored config of integration '{integration.name}' has an unreadable "
                f"vault reference ({exc})",
                repair_instruction(integration.name)[:1].upper()
                + repair_instruction(integration.name)[1:],
            ) from None

    def is_primary(self, token: bytes) -> bool:
        """Whether ``token`` is already encrypted with the first key."""
        try:
            self._primary.decrypt(token)
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt ``token`` with the first key (keeps its contents and binding)."""
        try:
            return self._multi.rotate(token)
        except InvalidToken:
            raise DecryptionError(
                f"A stored config cannot be decrypted with the keys in {ENV_ENCRYPTION_KEYS}",
                "Add the key it was saved with before rotating.",
            ) from None
