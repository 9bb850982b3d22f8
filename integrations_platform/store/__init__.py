"""The encrypted config store."""

from integrations_platform.store.encryption import KeyRing, generate_key
from integrations_platform.store.repository import ConfigStore, StoredIntegration

__all__ = ["ConfigStore", "KeyRing", "StoredIntegration", "generate_key"]
