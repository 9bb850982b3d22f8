"""Run one sync: ``meltano el <tap> <target> --state-id <id>``.

The decrypted config reaches the plugins only as environment variables of the Meltano
process. Each run gets its own Meltano system directory (``MELTANO_SYS_DIR_ROOT``)
whose ``run/`` and ``logs/`` hold the files Meltano writes while plugins run (the
resolved config among them) and which is deleted when the run ends, however it ends.
Plugin virtualenvs are shared through links, and incremental state lives in the system
database (``MELTANO_DATABASE_URI``), keyed by the integration's state id.
"""

import json
import re
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from integrations_platform.catalog import ConnectorSpec, ExtractorSpec
from integrations_platform.catalog.validation import effective_config
from integrations_platform.databases import ensure_schema
from integrations_platform.destinations import Target
from integrations_platform.discovery import select_catalog
from integrations_platform.errors import ConfigurationError
from integrations_platform.integration import StreamSelection
from integrations_platform.runner.batch import AUTO, MessageFormat, choose_format, tap_batch_config
from integrations_platform.runner.compaction import compact_jsonl
from integrations_platform.runner.logs import LogLine, parse_line, parse_metric, record_count
from integrations_platform.runner.meltano_project import WINDOW_MAPPER, WINDOW_MAPPING
from integrations_platform.runner.processes import (
    make_sys_dir,
    meltano_executable,
    start_meltano,
    stop_process_group,
)
from integrations_platform.runner.progress import Progress, ProgressSnapshot
from integrations_platform.runner.redaction import Redactor
from integrations_platform.settings import (
    ENV_API_TOKEN,
    ENV_ENCRYPTION_KEYS,
    ENV_MELTANO_DATABASE_URI,
    Settings,
)

# Variables a plugin never needs: keep the platform's keys out of every subprocess.
_WITHHELD_ENV = (ENV_ENCRYPTION_KEYS, ENV_API_TOKEN)
TAIL_LINES = 60
# Meltano's warning when a selected stream is not in the tap's discovered catalog.
_MISSING_STREAM = re.compile(r"Stream `([^`]+)` was not found in the catalog")
MAX_ERRORS = 20


def env_var(plugin_name: str, setting: str) -> str:
    """Meltano's variable for a plugin setting: ``TAP_SALESFORCE_CLIENT_ID``."""
    return f"{plugin_name}_{setting}".upper().replace("-", "_").replace(".", "_")


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


@dataclass(frozen=True)
class SyncRequest:
    """Everything one sync needs. ``config`` is decrypted: never log or store it."""

    integration: str
    state_id: str
    connector: ConnectorSpec
    config: Mapping[str, Any] = field(repr=False)
    start_date: str
    # Where the records land (None: the extractor runs alone: discovery, a test).
    destination: Target | None
    streams: Sequence[StreamSelection]
    full_refresh: bool = False
    # Partition windows ``(label, start, end)``, ISO 8601, end exclusive. A windowed
    # sync loads only records whose replication key falls in a window, and neither
    # reads nor moves the integration's incremental bookmark.
    windows: Sequence[tuple[str, str, str]] = ()
    # The source's stored discovery (a Singer catalog): handed to the tap, so that a
    # sync does not discover the source again. None: Meltano runs the tap's discovery.
    catalog: Mapping[str, Any] | None = field(default=None, repr=False)
    # The integration's salt for its hashed columns (a secret; None: nothing hashed).
    hash_salt: str | None = field(default=None, repr=False)
    # How records travel (runner/batch.py): auto, records or batch.
    message_format: str = AUTO


@dataclass
class SyncResult:
    """What a finished sync reports."""

    returncode: int
    duration_s: float
    row_counts: dict[str, int]
    tail: list[str]
    errors: list[str] = field(default_factory=list)
    # For a windowed sync: rows loaded per stream and window label.
    window_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether Meltano finished successfully."""
        return self.returncode == 0


def select_extractor(connector: ConnectorSpec, environ: Mapping[str, str]) -> ExtractorSpec:
    """The connector's extractor, or its local-login launcher when that is switched on."""
    local = connector.local_login
    if local is not None and environ.get(local.env):
        return local.extractor
    return connector.extractor


@dataclass(frozen=True)
class PreparedSync:
    """The command, environment and redactor of one sync, before it starts."""

    args: list[str]
    env: dict[str, str] = field(repr=False)
    redactor: Redactor = field(repr=False)
    extractor: str
    loader: str
    message_format: MessageFormat


def prepare_sync(
    request: SyncRequest, settings: Settings, environ: Mapping[str, str], sys_dir: Path
) -> PreparedSync:
    """Build the ``meltano el`` command and its environment (pure; starts nothing)."""
    connector = request.connector
    extractor = select_extractor(connector, environ)
    destination = request.destination
    loader = destination.loader if destination is not None else None
    tap_config = effective_config(connector, request.config)
    if extractor.start_date_setting:
        tap_config[extractor.start_date_setting] = (
            min(w[1] for w in request.windows) if request.windows else request.start_date
        )
    target_config = destination.loader_config(settings, request.integration) if destination else {}
    hashed = {s.name: s.hashed_columns for s in request.streams if s.hashed_columns}
    if hashed:
        if not request.hash_salt:
            raise ConfigurationError(
                f"Integration '{request.integration}' hashes columns but has no salt",
                "Save the integration again (`integrations update NAME`) to create one.",
            )
        tap_config["stream_maps"] = hash_maps(hashed)
        tap_config["stream_map_config"] = {"hash_salt": request.hash_salt}
    message_format = choose_format(
        request.message_format, extractor, loader, request.streams, windowed=bool(request.windows)
    )
    if message_format.batch and destination is not None:
        tap_config["batch_config"] = tap_batch_config(sys_dir)
        target_config.update(destination.batch_settings)

    env = {k: v for k, v in environ.items() if k not in _WITHHELD_ENV}
    # Settings inherited from an outer environment must not leak into this sync.
    # Meltano reads a plugin's settings under its name and under its namespace.
    plugins = [extractor] if loader is None else [extractor, loader]
    prefixes = {env_var(name, "") for p in plugins for name in (p.name, p.namespace)}
    for prefix in prefixes:
        for key in [k for k in env if k.startswith(prefix)]:
            del env[key]
    env.update(
        {
            "MELTANO_PROJECT_ROOT": str(settings.meltano_project_dir),
            "MELTANO_SYS_DIR_ROOT": str(sys_dir),
            "MELTANO_DATABASE_URI": settings.meltano_database_uri,
            "MELTANO_CLI_LOG_FORMAT": "json",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            # No request to PyPI for a newer Meltano before each sync (offline deployments).
            "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
            "MELTANO_ENVIRONMENT": "prod",
            "UV_PYTHON_DOWNLOADS": "never",
            "PYTHONWARNINGS": "ignore",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name, value in tap_config.items():
        env[env_var(extractor.name, name)] = _env_value(value)
    for name, value in target_config.items():
        assert loader is not None  # a target config only comes with a destination
        env[env_var(loader.name, name)] = _env_value(value)

    select = [f"{s.name}.*" for s in request.streams]
    select += [f"!{s.name}.{column}" for s in request.streams for column in s.excluded_columns]
    if request.catalog is not None:
        # Meltano applies no select or metadata rule to a given catalog: it carries them.
        catalog_file = sys_dir / "catalog.json"
        catalog_file.write_text(
            json.dumps(select_catalog(request.catalog, request.streams)), encoding="utf-8"
        )
        env[env_var(extractor.name, "_catalog")] = str(catalog_file)
    metadata = {
        s.name: (
            {"replication-method": "INCREMENTAL", "replication-key": s.replication_key}
            if s.replication_key
            else {"replication-method": "FULL_TABLE"}
        )
        for s in request.streams
    }
    env[env_var(extractor.name, "_select")] = json.dumps(select)
    env[env_var(extractor.name, "_metadata")] = json.dumps(metadata)

    secrets = connector.secret_values(tap_config)
    if request.hash_salt:
        secrets.append(request.hash_salt)
    if destination is not None:
        secrets += destination.secret_values()
    if loader is None:
        args = [meltano_executable(), "invoke", extractor.name]
    elif request.windows:
        # Bounded by the window mapper; the bookmark is neither read nor written.
        env[env_var(WINDOW_MAPPER, "windows")] = json.dumps([list(w) for w in request.windows])
        env[env_var(WINDOW_MAPPER, "streams")] = json.dumps(
            {s.name: s.replication_key for s in request.streams if s.replication_key}
        )
        args = [
            meltano_executable(),
            "run",
            extractor.name,
            WINDOW_MAPPING,
            loader.name,
            "--full-refresh",
            "--no-state-update",
        ]
    else:
        args = [
            meltano_executable(),
            "el",
            extractor.name,
            loader.name,
            "--state-id",
            request.state_id,
            # A sync of some streams must not drop the other streams' bookmarks.
            "--state-strategy",
            "merge",
            "--force",  # Dagster's run queue, not Meltano, keeps one run per integration
        ]
        if request.full_refresh:
            args.append("--full-refresh")
    return PreparedSync(
        args, env, Redactor(secrets), extractor.name, loader.name if loader else "", message_format
    )


def hash_maps(hashed: Mapping[str, Sequence[str]]) -> dict[str, dict[str, str]]:
    """The SDK stream maps that replace each hashed column by the SHA-256 of the salt and
    its value (None stays None), typed string; the raw value never leaves the tap.

    >>> hash_maps({"public-users": ["email"]})["public-users"]["email"]
    "str(sha256(config['hash_salt'] + str(self))) if self is not None else None"
    """
    expression = "str(sha256(config['hash_salt'] + str(self))) if self is not None else None"
    return {
        stream: {column: expression for column in columns} for stream, columns in hashed.items()
    }


def run_sync(
    request: SyncRequest,
    settings: Settings,
    environ: Mapping[str, str],
    log: Callable[[LogLine], None],
    progress: Callable[[ProgressSnapshot], None] | None = None,
) -> SyncResult:
    """Run the sync to the end, streaming every (redacted) line to ``log`` and, every
    few seconds, the rows so far to ``progress``.

    If the caller is interrupted (a cancelled Dagster run raises in this thread), the
    whole Meltano process group is terminated before the interruption propagates.
    """
    if not request.streams:
        raise ConfigurationError(
            f"Integration '{request.integration}' has no stream to sync",
            "Select at least one stream.",
        )
    ensure_schema(settings.meltano_database_uri, variable=ENV_MELTANO_DATABASE_URI)
    sys_dir = make_sys_dir(settings)
    prepared = prepare_sync(request, settings, environ, sys_dir)
    redact = prepared.redactor.redact
    counts: dict[str, int] = {}
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    errors: list[str] = []
    window_counts: dict[str, dict[str, int]] = {}
    # A stream the catalog handed to the tap lacks is not synced, and Meltano says
    # nothing (it warns only about its own discovery's): the source no longer has it.
    lost: list[str] = _absent_from(request.catalog, request.streams)
    started = time.monotonic()
    log(LogLine("platform", "meltano", "info", f"Sending {prepared.message_format.reason}"))
    rows_so_far = Progress(
        [s.name for s in request.streams],
        progress or (lambda _: None),
        files=_embedded_files(request, settings),
    )
    process: subprocess.Popen[str] | None = None
    try:
        process = start_meltano(prepared.args, settings, prepared.env)
        if progress is not None:
            rows_so_far.start()
        assert process.stdout is not None
        for raw in process.stdout:
            # Structured first: metrics are read from the line as the plugin wrote it,
            # so that no mask can corrupt a number; only what is shown is redacted.
            parsed = parse_line(raw)
            metric = parse_metric(parsed)
            if metric is not None:
                counted = record_count(metric)
                if counted and counted.window is not None:
                    per_window = window_counts.setdefault(counted.stream, {})
                    per_window[counted.window] = per_window.get(counted.window, 0) + counted.value
                elif counted and parsed.source == prepared.extractor:
                    counts[counted.stream] = counts.get(counted.stream, 0) + counted.value
                    rows_so_far.extracted(counted.stream, counted.value)
                elif counted and parsed.source == prepared.loader:
                    rows_so_far.loaded(counted.stream, counted.value)
                continue
            if parsed.source == prepared.loader:
                rows_so_far.line(parsed.message)
            line = parsed.redacted(redact)
            for missing in _MISSING_STREAM.findall(line.message):
                if missing in {s.name for s in request.streams} and missing not in lost:
                    lost.append(missing)
            if line.message.strip():
                tail.append(line.format())
                if line.level == "error" and len(errors) < MAX_ERRORS:
                    text = line.format()
                    if text not in errors:
                        errors.append(text)
                log(line)
        returncode = process.wait()
    except BaseException:
        rows_so_far.stop()
        raise
    finally:
        # The rows are counted; the files are left to the compaction below (a report
        # every few seconds goes on until it is done).
        rows_so_far.files_done()
        if process is not None and process.poll() is None:
            stop_process_group(process)
        shutil.rmtree(sys_dir, ignore_errors=True)
        if process is not None:
            scrub_run_records(settings.meltano_database_uri, request.state_id, prepared.redactor)
    if returncode == 0 and lost:
        # Meltano only warns and syncs nothing; a selected stream that vanished from the
        # source is a failure the data engineer must hear about.
        returncode = 1
        errors.extend(
            f"[meltano] Stream `{name}` was not found in the catalog: the source no longer "
            "has it (dropped or renamed?)"
            for name in lost
        )
    try:
        if returncode == 0 and request.destination is not None and request.destination.embedded:
            for stream in request.streams:
                path = settings.output_dir / request.integration / f"{stream.name}.jsonl"
                done = compact_jsonl(path, stream.primary_key)
                if done.replaced:
                    message = (
                        f"{stream.name}: {done.replaced} row(s) replaced by a later version "
                        f"of the same key; {done.rows_after} row(s) in {path.name}"
                    )
                    log(LogLine("platform", "loader", "info", message))
    finally:
        rows_so_far.stop()
    return SyncResult(
        returncode, time.monotonic() - started, counts, list(tail), errors, window_counts
    )


def _absent_from(
    catalog: Mapping[str, Any] | None, streams: Sequence[StreamSelection]
) -> list[str]:
    """The selected streams ``catalog`` (when given) does not have."""
    if catalog is None:
        return []
    known = {str(e.get("tap_stream_id") or e.get("stream")) for e in catalog.get("streams", [])}
    return [s.name for s in streams if s.name not in known]


def _embedded_files(request: SyncRequest, settings: Settings) -> dict[str, Path]:
    """Each stream's file in the embedded destination (progress counts its lines)."""
    if request.destination is None or not request.destination.embedded:
        return {}
    folder = settings.output_dir / request.integration
    return {s.name: folder / f"{s.name}.jsonl" for s in request.streams}


def scrub_run_records(database_uri: str, state_id: str, redactor: Redactor) -> None:
    """Redact secrets from the run records Meltano keeps in its system database.

    A failed run's record holds the error Meltano saw, and for a failed discovery that
    includes the tap's whole stderr: with tap-salesforce, its token request body.
    """
    if not redactor:
        return
    engine = sa.create_engine(database_uri, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            if not sa.inspect(conn).has_table("runs"):
                return
            # This sync's record is among the newest (`meltano run` names it itself).
            rows = conn.execute(
                sa.text(
                    "SELECT id, payload FROM runs WHERE job_name = :job OR id > "
                    "(SELECT COALESCE(MAX(id), 0) - 10 FROM runs) ORDER BY id DESC"
                ),
                {"job": state_id},
            ).fetchmany(20)
            for row_id, payload in rows:
                if payload and (clean := redactor.redact(payload)) != payload:
                    conn.execute(
                        sa.text("UPDATE runs SET payload = :payload WHERE id = :id"),
                        {"payload": clean, "id": row_id},
                    )
    finally:
        engine.dispose()
