"""Encryption of connector configs at rest.

Keys come from ``INTEGRATIONS_ENCRYPTION_KEYS``: comma-separated Fernet keys, the first
encrypts and all decrypt, so a key can be rotated without downtime (add the new key in
front, run ``integrations rotate-keys``, then drop the old one).

A ciphertext is bound to its row: the plaintext carries the integration's id, checked
on decryption, so a blob copied onto another integration refuses to decrypt.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from integrations_platform.errors import DecryptionError, EncryptionKeyError
from integrations_platform.settings import ENV_ENCRYPTION_KEYS

_FORMAT = 1


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

    def decrypt(self, integration_id: str, integration_name: str, token: bytes) -> dict[str, Any]:
        """Decrypt the config stored on the integration ``integration_id``."""
        try:
            plaintext = self._multi.decrypt(token)
        except InvalidToken:
            raise DecryptionError(
                f"The config of integration '{integration_name}' cannot be decrypted with "
                f"the {self._count} key(s) in {ENV_ENCRYPTION_KEYS}",
                f"Set {ENV_ENCRYPTION_KEYS} to include the key it was saved with, or "
                f"re-enter its secrets with `integrations update {integration_name}`.",
            ) from None
        payload = json.loads(plaintext)
        if payload.get("integration_id") != integration_id:
            raise DecryptionError(
                f"The stored config of integration '{integration_name}' belongs to another "
                "integration (it was copied between rows)",
                f"Re-enter its config with `integrations update {integration_name}`.",
            )
        config: dict[str, Any] = payload["config"]
        return config

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
