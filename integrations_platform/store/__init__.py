"""The encrypted config store."""

from integrations_platform.store.encryption import KeyRing, generate_key, key_fingerprint
from integrations_platform.store.repository import ConfigStore, StoredIntegration

__all__ = ["ConfigStore", "KeyRing", "StoredIntegration", "generate_key", "key_fingerprint"]
