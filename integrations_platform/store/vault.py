"""The vault that keeps integrations' secret values: OpenBao or HashiCorp Vault, KV v2.

Configured from the environment (see docs/vault.md):

* ``INTEGRATIONS_SECRETS_BACKEND``: ``database`` (default; secrets sealed in the config
  store) or ``vault`` (new and edited integrations keep their secrets in the vault).
* ``INTEGRATIONS_VAULT_ADDR`` (else ``VAULT_ADDR``): the vault's URL.
* ``INTEGRATIONS_VAULT_TOKEN`` (else ``VAULT_TOKEN``), or AppRole:
  ``INTEGRATIONS_VAULT_ROLE_ID`` + ``INTEGRATIONS_VAULT_SECRET_ID``.
* ``INTEGRATIONS_VAULT_MOUNT`` (default ``secret``) and ``INTEGRATIONS_VAULT_PREFIX``
  (default ``integrations``): an integration's secrets are at
  ``<mount>/<prefix>/<integration id>``.
* ``INTEGRATIONS_VAULT_CACERT`` (else ``VAULT_CACERT``): a CA bundle for HTTPS.

Every failure is a :class:`SecretsBackendError` that names the integration and the path
and says what to do; none carries a secret value.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from integrations_platform.errors import PlatformError

if TYPE_CHECKING:
    import hvac  # type: ignore[import-untyped]

ENV_SECRETS_BACKEND = "INTEGRATIONS_SECRETS_BACKEND"
ENV_VAULT_ADDR = "INTEGRATIONS_VAULT_ADDR"
ENV_VAULT_TOKEN = "INTEGRATIONS_VAULT_TOKEN"
ENV_VAULT_ROLE_ID = "INTEGRATIONS_VAULT_ROLE_ID"
ENV_VAULT_SECRET_ID = "INTEGRATIONS_VAULT_SECRET_ID"
ENV_VAULT_MOUNT = "INTEGRATIONS_VAULT_MOUNT"
ENV_VAULT_PREFIX = "INTEGRATIONS_VAULT_PREFIX"
ENV_VAULT_CACERT = "INTEGRATIONS_VAULT_CACERT"
# The variables every Vault client reads, accepted when ours are unset.
FALLBACK_ADDR, FALLBACK_TOKEN, FALLBACK_CACERT = "VAULT_ADDR", "VAULT_TOKEN", "VAULT_CACERT"

BACKEND_DATABASE = "database"
BACKEND_VAULT = "vault"
Backend = Literal["database", "vault"]
DEFAULT_MOUNT = "secret"
DEFAULT_PREFIX = "integrations"
APPROLE_MOUNT = "approle"
# Each request to the vault; a sync waits at most this long for its secrets.
TIMEOUT_S = 10.0


class SecretsBackendError(PlatformError):
    """The vault is unreachable, refuses us, or lacks an integration's secrets."""


def secrets_backend(environ: Mapping[str, str]) -> Backend:
    """Where new and edited integrations keep their secrets (``database`` or ``vault``)."""
    raw = environ.get(ENV_SECRETS_BACKEND, "").strip().lower() or BACKEND_DATABASE
    if raw == "database":
        return "database"
    if raw == "vault":
        return "vault"
    raise PlatformError(
        f"{ENV_SECRETS_BACKEND} must be 'database' or 'vault', not '{raw}'",
        f"Set {ENV_SECRETS_BACKEND}=vault to keep secrets in OpenBao/Vault, or unset it.",
    )


def vault_credentials(environ: Mapping[str, str]) -> list[str]:
    """The vault credentials set in ``environ`` (for scrubbers: never print them)."""
    names = (ENV_VAULT_TOKEN, FALLBACK_TOKEN, ENV_VAULT_SECRET_ID)
    return [environ[n].strip() for n in names if environ.get(n, "").strip()]


@dataclass(frozen=True)
class VaultSettings:
    """How to reach and log in to the vault, and where integrations' secrets go."""

    addr: str
    mount: str = DEFAULT_MOUNT
    prefix: str = DEFAULT_PREFIX
    token: str | None = field(default=None, repr=False)
    role_id: str | None = field(default=None, repr=False)
    secret_id: str | None = field(default=None, repr=False)
    cacert: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "VaultSettings":
        """The vault settings in ``environ``; a clear error when incomplete.

        >>> VaultSettings.from_env({"VAULT_ADDR": "http://127.0.0.1:8200",
        ...                         "VAULT_TOKEN": "t"}).path_for("1f2e")
        'integrations/1f2e'
        """

        def get(name: str, fallback: str = "") -> str:
            return (environ.get(name) or (environ.get(fallback) if fallback else "") or "").strip()

        addr = get(ENV_VAULT_ADDR, FALLBACK_ADDR).rstrip("/")
        if not addr:
            raise SecretsBackendError(
                f"No vault address: {ENV_VAULT_ADDR} (or {FALLBACK_ADDR}) is not set",
                f"Set {ENV_VAULT_ADDR} to the vault's URL, e.g. https://vault.example:8200.",
            )
        role_id, secret_id = get(ENV_VAULT_ROLE_ID), get(ENV_VAULT_SECRET_ID)
        token = get(ENV_VAULT_TOKEN) or (None if role_id else get(FALLBACK_TOKEN))
        if bool(role_id) != bool(secret_id):
            given, missing = (
                (ENV_VAULT_ROLE_ID, ENV_VAULT_SECRET_ID)
                if role_id
                else (ENV_VAULT_SECRET_ID, ENV_VAULT_ROLE_ID)
            )
            raise SecretsBackendError(
                f"AppRole login to the vault needs both IDs: {given} is set, {missing} is not",
                f"Set {missing} too, or use a token ({ENV_VAULT_TOKEN}) instead.",
            )
        if not token and not role_id:
            raise SecretsBackendError(
                f"No vault credentials: neither {ENV_VAULT_TOKEN} (or {FALLBACK_TOKEN}) nor "
                f"{ENV_VAULT_ROLE_ID} and {ENV_VAULT_SECRET_ID} are set",
                f"Set {ENV_VAULT_TOKEN}, or the AppRole's {ENV_VAULT_ROLE_ID} and "
                f"{ENV_VAULT_SECRET_ID}.",
            )
        return cls(
            addr=addr,
            mount=get(ENV_VAULT_MOUNT).strip("/") or DEFAULT_MOUNT,
            prefix=environ.get(ENV_VAULT_PREFIX, DEFAULT_PREFIX).strip().strip("/"),
            token=token or None,
            role_id=role_id or None,
            secret_id=secret_id or None,
            cacert=get(ENV_VAULT_CACERT, FALLBACK_CACERT) or None,
        )

    def path_for(self, integration_id: str) -> str:
        """The KV path (inside the mount) of an integration's secrets."""
        return f"{self.prefix}/{integration_id}" if self.prefix else integration_id

    @property
    def credentials(self) -> str:
        """Which credentials are used, by variable name (for messages)."""
        if self.role_id:
            return f"the AppRole of {ENV_VAULT_ROLE_ID}/{ENV_VAULT_SECRET_ID}"
        return f"the token of {ENV_VAULT_TOKEN} (or {FALLBACK_TOKEN})"


class VaultClient:
    """Reads, writes and deletes integrations' secrets in a KV v2 engine.

    Logs in on first use (AppRole: once, again when the token is refused).

    >>> client = VaultClient(VaultSettings("http://127.0.0.1:8200", token="t"))
    >>> client.settings.mount
    'secret'
    """

    def __init__(self, settings: VaultSettings, *, timeout_s: float = TIMEOUT_S) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._hvac: hvac.Client | None = None

    # -- the operations ----------------------------------------------------------------

    def write(self, integration: str, mount: str, path: str, values: Mapping[str, Any]) -> int:
        """Write ``values`` as a new version at ``mount/path``; returns the version."""
        with self._errors(integration, f"{mount}/{path}", "write"):
            response = self._call(
                lambda c: c.secrets.kv.v2.create_or_update_secret(
                    path=path, secret=dict(values), mount_point=mount
                )
            )
        return int(response["data"]["version"])

    def read(self, integration: str, mount: str, path: str, version: int) -> dict[str, Any]:
        """The values of ``version`` at ``mount/path``."""
        where = f"{mount}/{path} (version {version})"
        with self._errors(integration, where, "read"):
            response = self._call(
                lambda c: c.secrets.kv.v2.read_secret_version(
                    path=path, version=version, mount_point=mount, raise_on_deleted_version=True
                )
            )
        data = (response.get("data") or {}).get("data")
        if not isinstance(data, dict):
            raise SecretsBackendError(
                f"The secrets of integration '{integration}' at {where} in the vault "
                f"{self.settings.addr} are not a KV version 2 secret",
                _restore_instruction(integration, where),
            )
        return data

    def delete(self, integration: str, mount: str, path: str) -> None:
        """Delete every version and the metadata at ``mount/path`` (done if none)."""
        with self._errors(integration, f"{mount}/{path}", "delete"):
            self._call(
                lambda c: c.secrets.kv.v2.delete_metadata_and_all_versions(
                    path=path, mount_point=mount
                )
            )

    def destroy_version(self, integration: str, mount: str, path: str, version: int) -> None:
        """Destroy one version's data (a write whose record was never switched to it)."""
        with self._errors(integration, f"{mount}/{path} (version {version})", "destroy"):
            self._call(
                lambda c: c.secrets.kv.v2.destroy_secret_versions(
                    path=path, versions=[version], mount_point=mount
                )
            )

    def check(self) -> str:
        """Log in and look the token up (what any token may do); what was found."""
        where = f"{self.settings.mount}/{self.settings.path_for('<integration id>')}"
        with self._errors("", where, "reach"):
            self._call(lambda c: c.auth.token.lookup_self())
        return f"{self.settings.addr}: logged in with {self.settings.credentials}; {where}"

    # -- plumbing ----------------------------------------------------------------------

    def _client(self) -> "hvac.Client":
        if self._hvac is None:
            import hvac

            client = hvac.Client(
                url=self.settings.addr,
                token=self.settings.token,
                verify=self.settings.cacert or True,
                timeout=self.timeout_s,
            )
            if self.settings.role_id:
                try:
                    client.auth.approle.login(
                        role_id=self.settings.role_id,
                        secret_id=self.settings.secret_id,
                        mount_point=APPROLE_MOUNT,
                    )
                except (
                    hvac.exceptions.InvalidRequest,
                    hvac.exceptions.Forbidden,
                    hvac.exceptions.Unauthorized,
                    hvac.exceptions.InvalidPath,
                ) as exc:
                    raise _LoginRefused(_reason(exc) or type(exc).__name__) from None
            self._hvac = client
        return self._hvac

    def _call(self, operation: Callable[["hvac.Client"], Any]) -> Any:
        from hvac import exceptions

        try:
            return operation(self._client())
        except (exceptions.Forbidden, exceptions.Unauthorized):
            if not self.settings.role_id or self._hvac is None:
                raise
            self._hvac = None  # the AppRole's token expired: log in again, once
            return operation(self._client())

    @contextmanager
    def _errors(self, integration: str, where: str, action: str) -> Iterator[None]:
        """Turn the client's failures into errors that say what to do."""
        import requests
        from hvac import exceptions

        addr = self.settings.addr
        subject = f"the secrets of integration '{integration}' at {where}" if integration else where
        unchanged = " Nothing was changed." if action != "read" else ""
        try:
            yield
        except requests.exceptions.RequestException as exc:
            raise SecretsBackendError(
                f"The vault at {addr} cannot be reached to {action} {subject} "
                f"({type(exc).__name__})",
                f"Check {ENV_VAULT_ADDR} and that the vault is running and unsealed, then "
                f"try again.{unchanged}",
            ) from None
        except _LoginRefused as exc:
            raise SecretsBackendError(
                f"The vault at {addr} refused the AppRole login needed to {action} {subject}: "
                f"{exc}",
                f"Check {ENV_VAULT_ROLE_ID} and {ENV_VAULT_SECRET_ID} (a secret ID expires or "
                f"runs out of uses: issue a new one), and that the AppRole auth method is "
                f"enabled at {APPROLE_MOUNT}/.{unchanged}",
            ) from None
        except (exceptions.Forbidden, exceptions.Unauthorized) as exc:
            raise SecretsBackendError(
                f"The vault at {addr} refused to {action} {subject}: "
                f"{_reason(exc) or 'permission denied'}",
                f"Check {self.settings.credentials} and that its policy grants "
                f"{_CAPABILITIES[action]} on it (docs/vault.md has a policy).{unchanged}",
            ) from None
        except exceptions.InvalidPath:
            if action == "read":
                raise SecretsBackendError(
                    f"The vault at {addr} has nothing at {where} for the secrets of "
                    f"integration '{integration}' (deleted, or never written)",
                    _restore_instruction(integration, where),
                ) from None
            raise SecretsBackendError(
                f"The vault at {addr} cannot {action} {subject}: no KV version 2 engine is "
                "mounted there",
                f"Check {ENV_VAULT_MOUNT}, or enable the engine: "
                f"`bao secrets enable -path={self.settings.mount} kv-v2`.{unchanged}",
            ) from None
        except (exceptions.VaultDown, exceptions.VaultNotInitialized):
            raise SecretsBackendError(
                f"The vault at {addr} is sealed or not initialised, so {subject} cannot be "
                f"{_PAST[action]}",
                f"Unseal the vault, then try again.{unchanged}",
            ) from None
        except exceptions.VaultError as exc:
            raise _unexpected(addr, action, subject, exc) from None


_CAPABILITIES = {
    "read": "`read`",
    "write": "`create` and `update`",
    "delete": "`delete` on its metadata path",
    "destroy": "`update` on its destroy path",
    "reach": "`read` on auth/token/lookup-self (the default policy does)",
}
_PAST = {
    "read": "read",
    "write": "written",
    "delete": "deleted",
    "destroy": "destroyed",
    "reach": "reached",
}


def _reason(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list | tuple):
        return "; ".join(str(e) for e in errors if e)
    return str(errors or "")


def _unexpected(addr: str, action: str, subject: str, exc: Exception) -> SecretsBackendError:
    unchanged = " Nothing was changed." if action != "read" else ""
    return SecretsBackendError(
        f"The vault at {addr} failed to {action} {subject}: {type(exc).__name__}: "
        f"{_reason(exc) or 'no details'}",
        f"Look at the vault's log, then try again.{unchanged}",
    )


class _LoginRefused(Exception):
    """The AppRole login failed (its message is the vault's reason)."""


def _restore_instruction(integration: str, where: str) -> str:
    return (
        f"Restore {where} in the vault (a deleted version: `bao kv undelete`), or enter "
        f"the integration's secrets again: `integrations update {integration} --config "
        "FILE` with every secret, or the page's edit form"
    )


__all__ = [
    "BACKEND_DATABASE",
    "BACKEND_VAULT",
    "ENV_SECRETS_BACKEND",
    "SecretsBackendError",
    "VaultClient",
    "VaultSettings",
    "secrets_backend",
    "vault_credentials",
]
