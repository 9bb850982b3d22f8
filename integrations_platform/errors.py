"""The platform's errors, grouped by how to recover from them.

Every error carries a ``reason`` (what went wrong) and an ``instruction`` (what to do
about it), so that the CLI, the API and the Dagster logs can all show both.
"""

from collections.abc import Mapping


class PlatformError(Exception):
    """Root of every error the platform raises on purpose."""

    def __init__(self, reason: str, instruction: str = "") -> None:
        self.reason = reason
        self.instruction = instruction
        super().__init__(f"{reason}. {instruction}" if instruction else reason)

    def __str__(self) -> str:
        if self.instruction:
            return f"{self.reason.rstrip('.')}. {self.instruction}"
        return self.reason


class CatalogError(PlatformError):
    """A connector catalog file is missing, unreadable or invalid."""


class ConnectorNotFoundError(PlatformError):
    """An integration names a connector the catalog does not have."""


class IntegrationNotFoundError(PlatformError):
    """No integration has that name."""


class DestinationNotFoundError(IntegrationNotFoundError):
    """No configured destination has that name (answered like a missing integration)."""


class IntegrationExistsError(PlatformError):
    """An integration with that name already exists."""


class DestinationExistsError(IntegrationExistsError):
    """A destination with that name already exists."""


class DestinationInUseError(PlatformError):
    """A destination an integration still loads into cannot be removed."""


class ConfigurationError(PlatformError):
    """A setting is missing, unknown or of the wrong type.

    ``field_errors`` maps each offending field to its message, so that a form can show
    each message next to its field.
    """

    def __init__(
        self,
        reason: str,
        instruction: str = "",
        field_errors: Mapping[str, str] | None = None,
    ) -> None:
        self.field_errors = dict(field_errors or {})
        super().__init__(reason, instruction)


class EncryptionKeyError(PlatformError):
    """The encryption keys are missing or malformed."""


class DecryptionError(PlatformError):
    """A stored config cannot be decrypted with the configured keys."""


class IncompleteRepairError(DecryptionError, ConfigurationError):
    """An unreadable config was to be replaced, but the new one is not complete.

    Both a decryption error (the row stays unreadable) and a configuration error (its
    ``field_errors`` name what the complete config still lacks).
    """


class SyncError(PlatformError):
    """A sync failed."""


class ConcurrentUpdateError(PlatformError):
    """The integration changed since it was read; the write was refused."""


class NotDiscoveredError(PlatformError):
    """An integration whose source has not been discovered yet."""


class SignInFailed(PlatformError):
    """A sign-in with a wrong name, password or link (the message never says which)."""


class TooManySignIns(PlatformError):
    """Too many failed sign-ins for an account or from an address: wait, then retry."""

    def __init__(self, reason: str, instruction: str, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        self.headers = {"Retry-After": str(retry_after_s)}
        super().__init__(reason, instruction)


class Forbidden(PlatformError):
    """The caller's role may not do this."""


class CsrfError(PlatformError):
    """A change made with the session cookie came without its CSRF token."""


class UserNotFoundError(PlatformError):
    """No user (or API token) has that name or id."""


class UserExistsError(PlatformError):
    """A user with that name already exists."""
