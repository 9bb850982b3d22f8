"""Where an integration's secret values live, as its stored config says.

With the database backend the sealed config holds every setting, secrets included.
With the vault backend it holds the non-secret settings and, under the reserved key
:data:`RESERVED_KEY`, a :class:`SecretsReference`: the KV v2 mount and path of the
integration's secrets, the version the record uses and the names of the settings kept
there. The record pins the version it wrote, so that switching a record to new secrets
is one update of the record (all or nothing) and concurrent edits cannot mix values.

Code that needs no secret value (the page, the CLI's ``show``, validation of an edit,
health checks) reads the stored config with a :class:`StoredSecret` placeholder for each
secret kept in the vault: "set", but never read.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Setting names are identifiers the catalog declares; none starts with underscores.
RESERVED_KEY = "__vault__"


class StoredSecret(str):
    """Stands for a secret value kept in the vault: known to be set, never read.

    >>> value = StoredSecret.placeholder()
    >>> bool(value), isinstance(value, str)
    (True, True)
    """

    __slots__ = ()

    @classmethod
    def placeholder(cls) -> "StoredSecret":
        """The placeholder (long enough to pass a secret's length check)."""
        return cls("(kept in the vault)")


@dataclass(frozen=True)
class SecretsReference:
    """Where in the vault the secrets of one integration are, and which version.

    >>> ref = SecretsReference("secret", "integrations/1f2e", 3, ("password",))
    >>> ref.where
    'secret/integrations/1f2e (version 3)'
    """

    mount: str
    path: str
    version: int
    keys: tuple[str, ...]

    @property
    def location(self) -> str:
        """``<mount>/<path>``, as ``bao kv get`` takes it."""
        return f"{self.mount}/{self.path}"

    @property
    def where(self) -> str:
        """The location and version, for messages."""
        return f"{self.location} (version {self.version})"

    def as_dict(self) -> dict[str, Any]:
        """The stored form (inside the sealed config)."""
        return {
            "mount": self.mount,
            "path": self.path,
            "version": self.version,
            "keys": list(self.keys),
        }

    @classmethod
    def from_dict(cls, data: Any) -> "SecretsReference":
        """Inverse of :meth:`as_dict`; ValueError when ``data`` is not one."""
        if not isinstance(data, Mapping):
            raise ValueError("the vault reference is not a mapping")
        try:
            mount, path, version = data["mount"], data["path"], data["version"]
            keys = tuple(str(k) for k in data["keys"])
        except (KeyError, TypeError):
            raise ValueError("the vault reference lacks mount, path, version or keys") from None
        if not (isinstance(mount, str) and isinstance(path, str) and isinstance(version, int)):
            raise ValueError("the vault reference has a field of the wrong type")
        return cls(mount, path, version, keys)


def split_stored(config: Mapping[str, Any]) -> tuple[dict[str, Any], SecretsReference | None]:
    """A decrypted stored config as its settings and its vault reference (if any)."""
    settings = {k: v for k, v in config.items() if k != RESERVED_KEY}
    if RESERVED_KEY not in config:
        return settings, None
    return settings, SecretsReference.from_dict(config[RESERVED_KEY])


def with_placeholders(
    settings: Mapping[str, Any], reference: SecretsReference | None
) -> dict[str, Any]:
    """``settings`` with a :class:`StoredSecret` for every secret the vault keeps."""
    shown = dict(settings)
    if reference is not None:
        shown.update({name: StoredSecret.placeholder() for name in reference.keys})
    return shown


def stored_form(settings: Mapping[str, Any], reference: SecretsReference | None) -> dict[str, Any]:
    """What is sealed: the settings, and the reference under :data:`RESERVED_KEY`."""
    if any(isinstance(v, StoredSecret) for v in settings.values()):
        # A placeholder stored as a value would silently replace the real secret.
        raise ValueError("a vault placeholder cannot be stored as a setting's value")
    sealed = dict(settings)
    if reference is not None:
        sealed[RESERVED_KEY] = reference.as_dict()
    return sealed


def partition(
    config: Mapping[str, Any], secret_names: Iterable[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``config`` as (non-secret settings, set secrets); blank secrets are dropped."""
    names = frozenset(secret_names)
    settings = {k: v for k, v in config.items() if k not in names}
    secrets = {k: v for k, v in config.items() if k in names and v not in (None, "")}
    return settings, secrets


__all__ = [
    "RESERVED_KEY",
    "SecretsReference",
    "StoredSecret",
    "partition",
    "split_stored",
    "stored_form",
    "with_placeholders",
]
