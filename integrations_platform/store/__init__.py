"""The encrypted config store."""

from integrations_platform.store.encryption import KeyRing, generate_key, key_fingerprint
from integrations_platform.store.repository import ConfigStore

__all__ = ["ConfigStore", "KeyRing", "generate_key", "key_fingerprint"]
