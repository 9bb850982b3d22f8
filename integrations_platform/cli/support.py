"""What the commands share: the service, errors, config files, Dagster reloads."""

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import click
import yaml

from integrations_platform.catalog.validation import MAX_CONFIG_BYTES
from integrations_platform.errors import PlatformError
from integrations_platform.service import IntegrationService, StreamSelection
from integrations_platform.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def build_service(settings: Settings) -> IntegrationService:
    """The service over the configured catalog, store and keys."""
    return IntegrationService.from_settings(settings, os.environ)


def reload_dagster(settings: Settings) -> None:
    """After a change: reload Dagster's code location, as the API does, so that the
    change shows in Dagster at once; say so when Dagster cannot be reached."""
    from integrations_platform.orchestration.client import DagsterClient, DagsterUnavailableError

    try:
        DagsterClient(settings.dagster_url, timeout_s=RELOAD_TIMEOUT_S).reload()
    except DagsterUnavailableError as exc:
        click.echo(
            f"Dagster was not reloaded ({exc.reason}); the change is saved and shows in "
            "Dagster when it loads the code location again (at its start, or Deployment → "
            "Reload in its UI).",
            err=True,
        )
        return
    click.echo(f"Reloaded Dagster's code location ({settings.dagster_url}).")


# A reload of a large code location takes seconds; a webserver that does not answer in
# this time is reported, and the change is kept either way.
RELOAD_TIMEOUT_S = 60.0


def _fail(message: str) -> None:
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(1)


def handle_errors(fn: F) -> F:
    """Turn platform errors into a one-line message and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PlatformError as exc:
            _fail(str(exc))

    return wrapper  # type: ignore[return-value]


def read_config_file(path: str) -> dict[str, Any]:
    """A config from a JSON or YAML file, or from standard input with ``-``."""
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_CONFIG_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise PlatformError(
                f"{path} is larger than {MAX_CONFIG_BYTES // 1024} KiB",
                "A config holds a few settings: check that this is the right file.",
            )
        text = raw.decode("utf-8")
    except OSError as exc:
        raise PlatformError(f"Cannot read {path}: {exc.strerror}", "Check the path.") from None
    except UnicodeDecodeError:
        raise PlatformError(f"{path} is not UTF-8 text", "Save it as UTF-8.") from None
    try:
        data = yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise PlatformError(
            f"{path} is neither valid JSON nor YAML{where}", "Fix its syntax."
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PlatformError(
            f"{path} must hold a mapping of setting names to values",
            'Write it like {"client_id": "...", "client_secret": "..."}.',
        )
    return data


def _streams(
    value: str | None,
    exclude: str | None = None,
    current: Sequence[StreamSelection] = (),
    hashed: str | None = None,
) -> list[StreamSelection] | None:
    """The selection ``--streams`` names (else ``current``, when only ``--exclude`` or
    ``--hash`` is given), each stream with the columns ``--exclude`` leaves out and the
    columns ``--hash`` hashes (both ``STREAM.COLUMN,...``; each replaces what was set)."""
    if value is None and exclude is None and hashed is None:
        return None
    if value is None:
        selected = [
            replace(
                s,
                excluded_columns=() if exclude is not None else s.excluded_columns,
                hashed_columns=() if hashed is not None else s.hashed_columns,
            )
            for s in current
        ]
    else:
        selected = [StreamSelection.parse(p) for p in value.split(",") if p.strip()]
    left_out = _columns_by_stream("--exclude", exclude, selected)
    hashing = _columns_by_stream("--hash", hashed, selected)
    return [
        replace(
            s,
            excluded_columns=tuple(left_out.get(s.name, ()))
            if exclude is not None
            else s.excluded_columns,
            hashed_columns=tuple(hashing.get(s.name, ()))
            if hashed is not None
            else s.hashed_columns,
        )
        for s in selected
    ]


def _columns_by_stream(
    option: str, value: str | None, selected: Sequence[StreamSelection]
) -> dict[str, list[str]]:
    """``STREAM.COLUMN,...`` grouped by stream (a stream name may contain dots)."""
    found: dict[str, list[str]] = {}
    for entry in (e.strip() for e in (value or "").split(",")):
        if not entry:
            continue
        stream = next((s.name for s in selected if entry.startswith(f"{s.name}.")), None)
        if stream is None:
            raise PlatformError(
                f"{option} {entry} names no selected stream",
                "Write STREAM.COLUMN, with STREAM one of the streams selected "
                f"({', '.join(s.name for s in selected) or 'none'}).",
            )
        found.setdefault(stream, []).append(entry[len(stream) + 1 :])
    return found


EXCLUDE_HELP = (
    "Comma-separated STREAM.COLUMN to leave out (checked against the source's discovery, "
    "run when needed); replaces the columns left out before."
)
HASH_HELP = (
    "Comma-separated STREAM.COLUMN to sync as the SHA-256 of the integration's salt and "
    "the value (joins still work, the raw value never reaches the destination); replaces "
    "the columns hashed before."
)
POLICY_HELP = (
    "What syncs do when the source's schema changes: allow_all (new columns and streams "
    "synced), allow_columns (new columns synced; new streams wait) or block_all (both wait "
    "for an approval). Default: allow_columns."
)
FORMAT_HELP = (
    "How records travel from source to destination: auto (batch files where both support "
    "them: PostgreSQL into PostgreSQL), records, or batch. Default: auto."
)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))
