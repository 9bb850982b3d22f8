"""Connection tests of destinations: can the platform write where the data will land?

The catalog file says how (``destination.connection_test``):

* ``postgres`` — log in and check the user may create a schema in the database;
* ``folder`` — the folder exists (or can be made) and a file can be written in it;
* ``s3`` — write and delete a small object under the prefix, with the loader's own
  AWS client (in its virtualenv: the platform itself does not carry one);
* ``reachability`` — for connectors this project does not sync in its tests: the
  service's host resolves and answers on its port (a login is not tried);
* ``none`` — nothing to check (the embedded destination's folder is the platform's).

Every outcome is a :class:`ConnectionTestResult` with a reason, redacted like a
source's test.
"""

import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from integrations_platform.catalog import validate_config
from integrations_platform.destinations import Target
from integrations_platform.errors import ConfigurationError
from integrations_platform.failures import classify_text
from integrations_platform.runner.connection_test.result import ConnectionTestResult, _Builder
from integrations_platform.settings import Settings

_HOST_SETTINGS = ("host", "hostname", "server", "server_hostname", "address")
_URL_SETTINGS = ("url", "endpoint", "endpoint_url", "uri", "api_url", "sqlalchemy_url")

_HINTS = {
    "authentication": "Check the user name and password (or key) of the destination.",
    "permission": "Grant the user the right to create schemas and tables there.",
    "network": "Check the host and port, and that this machine can reach the service "
    "(firewall, VPN, DNS).",
    "timeout": "The service did not answer in time: check the host and port.",
    "configuration": "Fix the named settings.",
    "destination": "Fix the destination's settings or the service's state, then test again.",
}


def test_target(
    target: Target,
    settings: Settings,
    environ: Mapping[str, str],
    *,
    timeout_s: float = 30.0,
) -> ConnectionTestResult:
    """Check that the platform can write to ``target`` (never raises for a problem of
    the config or the service)."""
    spec = target.spec
    result = _Builder(time.monotonic(), target.secret_values())
    try:
        config = validate_config(spec, target.config)
    except ConfigurationError as exc:
        return result.invalid(exc)
    checked = Target(target.name, spec, config)
    loader_config = checked.loader_config(settings, "connection_test")
    kind = spec.destination.connection_test
    details: dict[str, Any] = {"check": kind, "connector": spec.id}
    try:
        if kind == "postgres":
            message = _postgres(loader_config, timeout_s)
        elif kind == "folder":
            message = _folder(_folder_of(checked, loader_config, settings))
        elif kind == "s3":
            message = _s3(checked, loader_config, settings, timeout_s)
        elif kind == "reachability":
            message = _reachability(spec.destination.hosts, loader_config, timeout_s)
        else:
            message = f"{spec.label} has nothing to check: it writes under the platform's home."
    except _Failed as failed:
        reason = failed.reason or classify_text(failed.text)
        if reason in ("connector", "source"):
            reason = "destination"
        return result.fail(
            reason,  # type: ignore[arg-type]
            f"{spec.label}: {failed.text.strip()[:600]}",
            _HINTS.get(reason, _HINTS["destination"]),
            details,
        )
    return result.done(True, "ok", message, "", details)


test_target.__test__ = False  # type: ignore[attr-defined]


class _Failed(Exception):
    def __init__(self, text: str, reason: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.reason = reason


def _postgres(config: Mapping[str, Any], timeout_s: float) -> str:
    import psycopg2  # type: ignore[import-untyped]  # no stubs; a driver SQLAlchemy uses

    try:
        connection = psycopg2.connect(
            host=config.get("host") or "127.0.0.1",
            port=int(config.get("port") or 5432),
            user=config.get("user"),
            password=str(config.get("password") or ""),
            dbname=config.get("database"),
            connect_timeout=max(1, int(timeout_s)),
            application_name="integrations-connection-test",
        )
    except psycopg2.OperationalError as exc:
        text = str(exc).strip()
        if "does not exist" in text and "database" in text:
            raise _Failed(text, "configuration") from None
        if "could not translate host name" in text or "Connection refused" in text:
            raise _Failed(text, "network") from None
        if "timeout expired" in text:
            raise _Failed(text, "timeout") from None
        raise _Failed(text) from None
    try:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT current_user, current_database(), "
                "has_database_privilege(current_user, current_database(), 'CREATE'), "
                "current_setting('server_version')"
            )
            user, database, may_create, version = cur.fetchone()
    finally:
        connection.close()
    if not may_create:
        raise _Failed(f"user {user} may not create schemas in database {database}", "permission")
    return f"Logged in as {user} to {database} (PostgreSQL {version}); may create schemas."


def _folder_of(target: Target, config: Mapping[str, Any], settings: Settings) -> Path:
    """The folder to check: the one the form holds (each integration writes into a folder
    of its own under it, made by its first sync), else the loader's setting."""
    setting = target.spec.destination.folder_setting
    if target.embedded or not setting:
        return settings.output_dir
    return Path(str(target.config.get(setting) or config.get(setting) or "")).expanduser()


def _folder(folder: Path) -> str:
    if not str(folder):
        raise _Failed("no folder is set", "configuration")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        reason = "permission" if isinstance(exc, PermissionError) else "configuration"
        raise _Failed(f"cannot write in {folder}: {exc.strerror or exc}", reason) from None
    return f"{folder} is writable."


def _reachability(hosts: tuple[str, ...], config: Mapping[str, Any], timeout_s: float) -> str:
    endpoints = [_endpoint(h.format(config=config)) for h in hosts] or _endpoints(config)
    if not endpoints:
        raise _Failed("the settings name no host to reach", "configuration")
    for host, port in endpoints:
        try:
            with socket.create_connection((host, port), timeout=min(timeout_s, 10.0)):
                pass
        except socket.gaierror as exc:
            raise _Failed(f"{host}: the name does not resolve ({exc.strerror})", "network") from exc
        except TimeoutError:
            raise _Failed(f"{host}:{port} did not answer in time", "timeout") from None
        except OSError as exc:
            raise _Failed(f"{host}:{port}: {exc.strerror or exc}", "network") from None
    shown = ", ".join(f"{h}:{p}" for h, p in endpoints)
    return f"{shown} answered (the login itself is checked by the first sync)."


def _endpoint(text: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    if "://" in text:
        parts = urlsplit(text)
        default = 443 if parts.scheme in ("https", "snowflake") else 80
        return parts.hostname or "", parts.port or default
    host, _, port = text.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else (text, 443)


def _endpoints(config: Mapping[str, Any]) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for name in _HOST_SETTINGS:
        if config.get(name):
            found.append((str(config[name]), int(config.get("port") or 443)))
    for name in _URL_SETTINGS:
        if config.get(name) and "://" in str(config[name]):
            found.append(_endpoint(str(config[name])))
    return found


_S3_CHECK = """
import json, sys, boto3
from botocore.config import Config
c = json.load(sys.stdin)
s3 = boto3.client("s3", endpoint_url=c.get("endpoint_url") or None,
    aws_access_key_id=c.get("access_key") or None,
    aws_secret_access_key=c.get("secret_key") or None,
    region_name=c.get("region") or "us-east-1",
    config=Config(connect_timeout=c["timeout"], read_timeout=c["timeout"],
                  retries={"max_attempts": 1}))
key = (c.get("prefix") or "").lstrip("/") + ".integrations-write-test"
s3.put_object(Bucket=c["bucket"], Key=key, Body=b"ok")
s3.delete_object(Bucket=c["bucket"], Key=key)
print(key)
"""


def _s3(target: Target, config: Mapping[str, Any], settings: Settings, timeout_s: float) -> str:
    names = target.spec.destination.s3_settings
    values: dict[str, Any] = {role: config.get(setting) for role, setting in names.items()}
    if not values.get("bucket"):
        raise _Failed("no bucket is set", "configuration")
    python = (
        settings.meltano_project_dir
        / ".meltano"
        / "loaders"
        / target.loader.name
        / "venv"
        / "bin"
        / "python"
    )
    if not python.exists():
        raise _Failed(
            f"{target.loader.name} is not installed (`integrations catalog sync`)", "configuration"
        )
    values["timeout"] = max(1, int(timeout_s))
    try:
        done = subprocess.run(
            [str(python), "-c", _S3_CHECK],
            input=json.dumps(values),
            capture_output=True,
            text=True,
            timeout=timeout_s + 10,
            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        )
    except subprocess.TimeoutExpired:
        raise _Failed(f"bucket {values['bucket']} did not answer in time", "timeout") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        lowered = last.lower()
        if "accessdenied" in lowered or "forbidden" in lowered or "403" in lowered:
            reason = "permission"
        elif "invalidaccesskeyid" in lowered or "signaturedoesnotmatch" in lowered:
            reason = "authentication"
        elif "nosuchbucket" in lowered:
            reason = "configuration"
        elif "endpointconnectionerror" in lowered or "could not connect" in lowered:
            reason = "network"
        else:
            reason = None
        raise _Failed(last, reason)
    return f"Wrote and deleted {done.stdout.strip()} in bucket {values['bucket']}."
