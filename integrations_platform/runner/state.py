"""An integration's incremental state in Meltano's system database: read and reset."""

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from integrations_platform.databases import ensure_schema
from integrations_platform.errors import SyncError
from integrations_platform.runner.processes import meltano_executable
from integrations_platform.settings import (
    ENV_API_TOKEN,
    ENV_ENCRYPTION_KEYS,
    ENV_MELTANO_DATABASE_URI,
    Settings,
)


def _meltano(settings: Settings, environ: Mapping[str, str], *args: str) -> str:
    ensure_schema(settings.meltano_database_uri, variable=ENV_MELTANO_DATABASE_URI)
    env = {k: v for k, v in environ.items() if k not in (ENV_ENCRYPTION_KEYS, ENV_API_TOKEN)}
    env.update(
        {
            "MELTANO_PROJECT_ROOT": str(settings.meltano_project_dir),
            "MELTANO_DATABASE_URI": settings.meltano_database_uri,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            # No request to PyPI for a newer Meltano (offline deployments).
            "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
            "MELTANO_ENVIRONMENT": "prod",
        }
    )
    result = subprocess.run(
        [meltano_executable(), *args],
        cwd=settings.meltano_project_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise SyncError(
            f"`meltano {' '.join(args[:2])}` failed: {result.stderr.strip()[-500:]}",
            f"Check MELTANO_DATABASE_URI ({settings.meltano_database_uri}).",
        )
    return result.stdout


def get_state(settings: Settings, environ: Mapping[str, str], state_id: str) -> dict[str, Any]:
    """The Singer state stored under ``state_id`` (``{}`` when there is none)."""
    out = _meltano(settings, environ, "state", "get", state_id).strip()
    if not out:
        return {}
    # `meltano state get` prints one JSON document, possibly after log lines.
    document = out[out.index("{") :] if "{" in out else "{}"
    state: dict[str, Any] = json.loads(document).get("singer_state") or {}
    return state


def clear_resume_marker(settings: Settings, environ: Mapping[str, str], state_id: str) -> None:
    """Drop the "resume from this stream" marker a failed sync leaves in the state.

    Streams are synced one at a time; a singer-io tap that finds ``current_stream`` set
    would otherwise skip the next stream as "already synced".
    """
    state = get_state(settings, environ, state_id)
    if not any(state.get(k) for k in ("current_stream", "currently_syncing")):
        return
    for key in ("current_stream", "currently_syncing"):
        if key in state:
            state[key] = None
    _set_state(settings, environ, state_id, state)


def _set_state(
    settings: Settings, environ: Mapping[str, str], state_id: str, state: dict[str, Any]
) -> None:
    _state_command(settings, environ, state, "set", "--force", state_id)


def _state_command(
    settings: Settings, environ: Mapping[str, str], state: Mapping[str, Any], *args: str
) -> None:
    """``meltano state <args> --input-file F``, F holding ``state`` (removed after)."""
    path = settings.home / "runs" / f"state-{os.getpid()}-{id(state)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.write_text(json.dumps({"singer_state": dict(state)}), encoding="utf-8")
        _meltano(settings, environ, "state", *args, "--input-file", str(path))
    finally:
        Path(path).unlink(missing_ok=True)


def merge_state(
    settings: Settings, environ: Mapping[str, str], state_id: str, state: Mapping[str, Any]
) -> None:
    """Merge ``state`` (e.g. ``{"bookmarks": {...}}``) into the state under ``state_id``."""
    _state_command(settings, environ, state, "merge", state_id)


def stored_bookmarks(settings: Settings, state_id: str) -> dict[str, Any]:
    """The bookmarks under ``state_id``, read straight from Meltano's ``state`` table
    (completed state, then any partial state over it): no Meltano process to start."""
    engine = sa.create_engine(settings.meltano_database_uri, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("state"):
                return {}
            row = conn.execute(
                sa.text("SELECT completed_state, partial_state FROM state WHERE state_id = :i"),
                {"i": state_id},
            ).first()
    finally:
        engine.dispose()
    bookmarks: dict[str, Any] = {}
    for document in row or ():
        if not document:
            continue
        data = json.loads(document) if isinstance(document, str) else document
        bookmarks.update(((data or {}).get("singer_state") or {}).get("bookmarks") or {})
    return bookmarks


def reset_state(
    settings: Settings, environ: Mapping[str, str], state_id: str, stream: str | None = None
) -> dict[str, Any]:
    """Forget the bookmark of one stream, or of every stream; returns what was removed."""
    state = get_state(settings, environ, state_id)
    if stream is None:
        _meltano(settings, environ, "state", "clear", "--force", state_id)
        bookmarks: dict[str, Any] = state.get("bookmarks", {})
        return bookmarks
    removed = {stream: state.get("bookmarks", {}).pop(stream, None)}
    for section in ("versions",):
        state.get(section, {}).pop(stream, None)
    for key in ("current_stream", "currently_syncing"):
        if state.get(key) == stream:
            state[key] = None
    _set_state(settings, environ, state_id, state)
    return removed
