"""Which settings look sensitive, whatever the plugin says.

Plugins do not flag their secrets reliably (tap-rest-api-msdk flags none of its password,
tokens or keys; meltanolabs-target-postgres does not flag ``password``), so the catalog
does not trust them: a setting whose name or description looks like a credential is
secret. ``integrations catalog import`` applies this to every setting it writes, and a
test applies it to every catalog file.
"""

import re

_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "tokens",
        "credential",
        "credentials",
        "private",
        "dsn",
        "apikey",
        "cookie",
        "signature",
    }
)
_KEY_OWNERS = frozenset(
    {
        "api",
        "access",
        "private",
        "secret",
        "signing",
        "encryption",
        "client",
        "account",
        "ssh",
        "master",
        "service",
        "auth",
        "app",
        "license",
        "subscription",
        "developer",
        "consumer",
        "shared",
        "sas",
        "storage",
        "write",
        "read",
        "admin",
    }
)
# A name ending like these names *where*, *whose* or *what kind of* credential, not the
# value: a description that mentions a password does not make a user name secret.
_NOT_A_VALUE = frozenset(
    {
        "url",
        "uri",
        "endpoint",
        "type",
        "types",
        "method",
        "path",
        "file",
        "expires",
        "expiry",
        "expiration",
        "location",
        "name",
        "header",
        "prefix",
        "field",
        "fields",
        "ttl",
        "user",
        "username",
        "login",
        "email",
        "region",
        "account",
        "host",
        "port",
        "enabled",
        "id",
        "mode",
        "format",
        "scope",
        "scopes",
    }
)
# URLs and strings that usually carry a user and password inside them.
_CONNECTION_WORDS = frozenset({"sqlalchemy", "database", "db", "connection", "conn", "dsn"})
_DESCRIPTION = re.compile(
    r"\b(password|passphrase|client secret|secret key|api key|api token|access key|"
    r"access token|refresh token|bearer token|private key|credentials?|"
    r"connection string|with (a )?(user ?name and )?password)\b",
    re.IGNORECASE,
)
_DESCRIBES_OTHER = re.compile(
    r"\b(path|file ?name|url|endpoint|location) (to|of|for) (the|a|an)\b", re.IGNORECASE
)


def _parts(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [p for p in re.split(r"[^a-z0-9]+", spaced.lower()) if p]


def name_looks_secret(name: str) -> bool:
    """Whether a setting's name says it holds a credential."""
    parts = _parts(name)
    if not parts:
        return False
    last = parts[-1]
    if last in ("url", "uri", "string") and _CONNECTION_WORDS & set(parts):
        return True  # sqlalchemy_url, database_url, connection_string
    if last in _NOT_A_VALUE:
        return False
    if _SECRET_WORDS & set(parts):
        return True
    if last in ("key", "keys"):
        return len(parts) == 1 or parts[-2] in _KEY_OWNERS
    return False


def description_looks_secret(description: str) -> bool:
    """Whether a setting's description says it holds a credential (not where one is)."""
    if not description or _DESCRIBES_OTHER.search(description):
        return False
    return bool(_DESCRIPTION.search(description))


def looks_secret(name: str, description: str = "") -> bool:
    """Whether a setting should be secret, by its name, else by its description."""
    parts = _parts(name)
    if parts and parts[-1] in _NOT_A_VALUE and not name_looks_secret(name):
        return False
    return name_looks_secret(name) or description_looks_secret(description)
