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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote

from integrations_platform.errors import PlatformError

if TYPE_CHECKING:
    import ssl

    import httpx
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

_T = TypeVar("_T")


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

    The read, all a sync does, speaks the vault's HTTP API through httpx, which a run
    worker has loaded already: a run never imports hvac (and its requests), whose import
    alone cost each fresh run process 170-340 ms. Writes, deletes and the check use hvac.
    Both log in the same way, on first use (AppRole: once, again when the token is
    refused).

    >>> client = VaultClient(VaultSettings("http://127.0.0.1:8200", token="t"))
    >>> client.settings.mount
    'secret'
    """

    def __init__(self, settings: VaultSettings, *, timeout_s: float = TIMEOUT_S) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._http: httpx.Client | None = None
        self._hvac: hvac.Client | None = None
        self._approle_token: str | None = None

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
        """The values of ``version`` at ``mount/path`` (one GET; no hvac import)."""
        where = f"{mount}/{path} (version {version})"
        url = f"/v1/{quote(mount)}/data/{quote(path)}"
        with self._errors(integration, where, "read"):
            body = self._logged_in(
                lambda token: self._request("GET", url, token, params={"version": version})
            )
        data = (body.get("data") or {}).get("data")
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

    # -- logging in --------------------------------------------------------------------

    def _logged_in(self, request: Callable[[str | None], _T]) -> _T:
        """``request(token)``; when the vault refuses an AppRole's token (it expired),
        log in again and retry, once."""
        try:
            return request(self._token())
        except _VaultFailure as failure:
            if failure.kind != "refused" or not self.settings.role_id:
                raise
        self._approle_token = None
        return request(self._token())

    def _token(self) -> str | None:
        """The configured token, or the AppRole login's (logged in on first use)."""
        if not self.settings.role_id:
            return self.settings.token
        if self._approle_token is None:
            credentials = {"role_id": self.settings.role_id, "secret_id": self.settings.secret_id}
            try:
                body = self._request(
                    "POST", f"/v1/auth/{APPROLE_MOUNT}/login", None, json=credentials
                )
            except _VaultFailure as failure:
                if failure.status in _LOGIN_REFUSALS:
                    raise _LoginRefused(failure.detail or f"HTTP {failure.status}") from None
                raise
            token = (body.get("auth") or {}).get("client_token")
            if not isinstance(token, str) or not token:
                raise _LoginRefused("the vault's answer holds no token")
            self._approle_token = token
        return self._approle_token

    # -- the two clients ---------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        token: str | None,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One call of the vault's HTTP API: the JSON body of its answer (``{}`` if none);
        a :class:`_VaultFailure` when it cannot be made or is not a success."""
        import httpx

        headers = {"X-Vault-Request": "true"}
        if token:
            headers["X-Vault-Token"] = token
        try:
            response = self._http_client().request(
                method, self.settings.addr + url, headers=headers, params=params, json=json
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _VaultFailure("unreachable", type(exc).__name__) from None
        if not response.is_success:
            raise _VaultFailure.of_status(response.status_code, _reason_in(response))
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {}

    def _http_client(self) -> "httpx.Client":
        if self._http is None:
            import httpx

            try:
                verify = _tls_context(self.settings)
            except OSError as exc:  # ssl.SSLError is one
                raise _VaultFailure("tls", type(exc).__name__) from None
            # As hvac's requests: follow a standby node's redirect to the active one.
            self._http = httpx.Client(verify=verify, timeout=self.timeout_s, follow_redirects=True)
        return self._http

    def _call(self, operation: Callable[["hvac.Client"], Any]) -> Any:
        """``operation`` on the hvac client, logged in as :meth:`read` is."""
        return self._logged_in(lambda token: self._hvac_call(operation, token))

    def _hvac_call(self, operation: Callable[["hvac.Client"], Any], token: str | None) -> Any:
        import hvac
        import requests

        if self._hvac is None:
            self._hvac = hvac.Client(
                url=self.settings.addr,
                verify=self.settings.cacert or True,
                timeout=self.timeout_s,
            )
        self._hvac.token = token
        exceptions = hvac.exceptions
        try:
            return operation(self._hvac)
        except requests.exceptions.RequestException as exc:
            raise _VaultFailure("unreachable", type(exc).__name__) from None
        except (exceptions.Forbidden, exceptions.Unauthorized) as exc:
            raise _VaultFailure("refused", _reason(exc)) from None
        except exceptions.InvalidPath:
            raise _VaultFailure("missing") from None
        except (exceptions.VaultDown, exceptions.VaultNotInitialized):
            raise _VaultFailure("sealed") from None
        except exceptions.VaultError as exc:
            detail = f"{type(exc).__name__}: {_reason(exc) or 'no details'}"
            raise _VaultFailure("unexpected", detail) from None

    # -- errors ------------------------------------------------------------------------

    @contextmanager
    def _errors(self, integration: str, where: str, action: str) -> Iterator[None]:
        """Turn the clients' failures into errors that say what to do."""
        addr = self.settings.addr
        subject = f"the secrets of integration '{integration}' at {where}" if integration else where
        unchanged = " Nothing was changed." if action != "read" else ""
        try:
            yield
        except _LoginRefused as exc:
            raise SecretsBackendError(
                f"The vault at {addr} refused the AppRole login needed to {action} {subject}: "
                f"{exc}",
                f"Check {ENV_VAULT_ROLE_ID} and {ENV_VAULT_SECRET_ID} (a secret ID expires or "
                f"runs out of uses: issue a new one), and that the AppRole auth method is "
                f"enabled at {APPROLE_MOUNT}/.{unchanged}",
            ) from None
        except _VaultFailure as failure:
            raise self._error(failure, integration, where, action, subject) from None

    def _error(
        self, failure: "_VaultFailure", integration: str, where: str, action: str, subject: str
    ) -> SecretsBackendError:
        addr = self.settings.addr
        unchanged = " Nothing was changed." if action != "read" else ""
        if failure.kind == "unreachable":
            return SecretsBackendError(
                f"The vault at {addr} cannot be reached to {action} {subject} ({failure.detail})",
                f"Check {ENV_VAULT_ADDR} and that the vault is running and unsealed, then "
                f"try again.{unchanged}",
            )
        if failure.kind == "tls":
            return SecretsBackendError(
                f"The CA bundle {self.settings.cacert} cannot be loaded to {action} {subject} "
                f"in the vault at {addr} ({failure.detail})",
                f"Check {ENV_VAULT_CACERT} (or {FALLBACK_CACERT}): a PEM file or a folder of "
                f"them.{unchanged}",
            )
        if failure.kind == "refused":
            return SecretsBackendError(
                f"The vault at {addr} refused to {action} {subject}: "
                f"{failure.detail or 'permission denied'}",
                f"Check {self.settings.credentials} and that its policy grants "
                f"{_CAPABILITIES[action]} on it (docs/vault.md has a policy).{unchanged}",
            )
        if failure.kind == "missing" and action == "read":
            return SecretsBackendError(
                f"The vault at {addr} has nothing at {where} for the secrets of "
                f"integration '{integration}' (deleted, or never written)",
                _restore_instruction(integration, where),
            )
        if failure.kind == "missing":
            return SecretsBackendError(
                f"The vault at {addr} cannot {action} {subject}: no KV version 2 engine is "
                "mounted there",
                f"Check {ENV_VAULT_MOUNT}, or enable the engine: "
                f"`bao secrets enable -path={self.settings.mount} kv-v2`.{unchanged}",
            )
        if failure.kind == "sealed":
            return SecretsBackendError(
                f"The vault at {addr} is sealed or not initialised, so {subject} cannot be "
                f"{_PAST[action]}",
                f"Unseal the vault, then try again.{unchanged}",
            )
        return SecretsBackendError(
            f"The vault at {addr} failed to {action} {subject}: {failure.detail}",
            f"Look at the vault's log, then try again.{unchanged}",
        )


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
    """The vault's reason in an hvac error (its ``errors``; never a request's values)."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list | tuple):
        return "; ".join(str(e) for e in errors if e)
    return str(errors or "")


def _reason_in(response: "httpx.Response") -> str:
    """The vault's reason in an error answer (its ``errors``, as :func:`_reason`)."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return ""
    if isinstance(errors, list):
        return "; ".join(str(e) for e in errors if e)
    return ""


def _tls_context(settings: VaultSettings) -> "ssl.SSLContext | bool":
    """How the read's HTTP client verifies the vault: its CA bundle, else the default."""
    import ssl

    if settings.cacert:
        if Path(settings.cacert).is_dir():
            return ssl.create_default_context(capath=settings.cacert)
        return ssl.create_default_context(cafile=settings.cacert)
    if settings.addr.lower().startswith("https:"):
        return True  # httpx's CA bundle (certifi's), as hvac's requests uses
    # A plain-HTTP vault needs no CA store, and loading one costs a run ~20 ms. This
    # context still verifies certificates and host names, against no CA at all: a
    # redirect to HTTPS fails instead of being trusted.
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


FailureKind = Literal["unreachable", "tls", "refused", "missing", "sealed", "unexpected"]
# What hvac calls a refusal (its InvalidRequest, Unauthorized, Forbidden, InvalidPath)
# when the AppRole login gets it.
_LOGIN_REFUSALS = frozenset({400, 401, 403, 404})


class _VaultFailure(Exception):
    """A call to the vault failed: ``kind`` says how, ``detail`` is the vault's reason or
    the error's class (never a value, never a token)."""

    def __init__(self, kind: FailureKind, detail: str = "", status: int | None = None) -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail
        self.status = status

    @classmethod
    def of_status(cls, status: int, reason: str) -> "_VaultFailure":
        """The failure an HTTP error status means (as hvac maps them)."""
        if status in (401, 403):
            return cls("refused", reason, status)
        if status == 404:
            return cls("missing", reason, status)
        if status in (501, 503):
            return cls("sealed", reason, status)
        return cls("unexpected", f"HTTP {status}: {reason or 'no details'}", status)


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
