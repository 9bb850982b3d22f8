"""Full loads table to table: PostgreSQL into the PostgreSQL destination with COPY.

The Singer pipeline turns every row into JSON and back (tap-postgres → target-postgres:
≈3,500 rows/s record by record, ≈20,000 in batch files); PostgreSQL's own
``COPY … TO STDOUT`` into ``COPY … FROM STDIN`` moves hundreds of thousands per second.
Like PipelineWise's fastsync, a full load (a full refresh, the first sync of an
incremental stream, or any sync of a full-table stream) goes that way:

1. the destination's own target creates (or evolves) the table from the stream's SCHEMA
   message, so that the table is exactly what record-by-record syncs write into;
2. in one repeatable-read snapshot of the source: the replication key's maximum, then
   ``COPY (SELECT <selected columns, cast to the destination's types>) TO STDOUT``,
   piped into ``COPY … FROM STDIN`` in one destination transaction (straight into an
   empty table; otherwise into a temporary one, then upserted on the primary key, as the
   target does) — a failed or killed load leaves nothing behind;
3. Meltano keeps the state: the bookmark (that maximum) is merged into the
   integration's state with ``meltano state merge``, so the next incremental sync goes
   on from there with the tap.

Only with ``message_format=auto`` (the default). Hashed columns and partition runs keep
the Singer path, as does anything this module does not recognise (it then says why, and
nothing is changed); so does a load that fails before its rows are committed.
"""

import json
import os
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from integrations_platform.catalog.validation import effective_config
from integrations_platform.destinations import Target
from integrations_platform.errors import SyncError
from integrations_platform.integration import StreamSelection
from integrations_platform.runner.batch import BATCH, RECORDS
from integrations_platform.runner.logs import LogLine
from integrations_platform.runner.meltano import SyncRequest, SyncResult
from integrations_platform.runner.processes import make_sys_dir
from integrations_platform.runner.progress import ProgressSnapshot
from integrations_platform.runner.redaction import Redactor
from integrations_platform.runner.state import merge_state, stored_bookmarks
from integrations_platform.settings import Settings

POSTGRES_COPY = "postgres_copy"
# Columns target-postgres adds to every table (add_record_metadata).
_SDC_TIMES = ("_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at")
_SDC_MILLIS = ("_sdc_sequence", "_sdc_sync_started_at")
_JSON_TYPES = ("json", "jsonb")
_FLOAT_TYPES = ("double precision", "real")


class NotApplicable(Exception):
    """The full load cannot go by COPY; the message says why (the Singer path runs)."""


@dataclass(frozen=True)
class StreamLoad:
    """One stream's table to table copy."""

    selection: StreamSelection
    source_schema: str
    source_table: str
    columns: tuple[str, ...]
    schema: Mapping[str, Any]  # the stream's JSON schema, selected columns only
    key: tuple[str, ...]
    target_schema: str
    target_table: str


def plan(request: SyncRequest, bookmarks: Mapping[str, Any] | None) -> list[StreamLoad]:
    """The streams of ``request`` as COPY loads, or :class:`NotApplicable` saying why.

    ``bookmarks`` is the integration's state (None: not read yet, needed only when an
    incremental stream is synced without a full refresh)."""
    check_eligible(request, bookmarks)
    if request.catalog is None:
        raise NotApplicable(NEVER_DISCOVERED)
    destination = _target(request)
    entries = {
        str(e.get("tap_stream_id") or e.get("stream")): e
        for e in request.catalog.get("streams", [])
    }
    loads = []
    for stream in request.streams:
        entry = entries.get(stream.name)
        if entry is None:
            raise NotApplicable(f"{stream.name} is not in the stored discovery")
        loads.append(_stream_load(entry, stream, request.integration, destination))
    return loads


NEVER_DISCOVERED = "the source was never discovered"


def check_eligible(request: SyncRequest, bookmarks: Mapping[str, Any] | None) -> None:
    """Raise :class:`NotApplicable` unless every stream of ``request`` is a full load the
    source and destination can copy table to table (the stored discovery aside)."""
    connector = request.connector
    destination = request.destination
    if (
        connector.full_load != POSTGRES_COPY
        or destination is None
        or destination.full_load != POSTGRES_COPY
    ):
        raise NotApplicable("the source and destination do not copy table to table")
    if request.message_format in (RECORDS, BATCH):
        raise NotApplicable(f"the integration's message format is {request.message_format}")
    if request.windows:
        raise NotApplicable("a partition run loads windows, not whole tables")
    if any(s.hashed_columns for s in request.streams):
        raise NotApplicable("hashed columns are hashed record by record")
    for stream in request.streams:
        if stream.replication_key and not request.full_refresh:
            mark = None if bookmarks is None else (bookmarks.get(stream.name) or {})
            if mark is None or mark.get("replication_key_value") is not None:
                raise NotApplicable(f"{stream.name} continues from its bookmark")


def _target(request: SyncRequest) -> Target:
    if request.destination is None:
        raise NotApplicable("the sync has no destination")
    return request.destination


def _stream_load(
    entry: Mapping[str, Any],
    stream: StreamSelection,
    integration: str,
    destination: Target,
) -> StreamLoad:
    root = next(
        (m.get("metadata") or {} for m in entry.get("metadata", []) if not m.get("breadcrumb")),
        {},
    )
    schema_name = root.get("schema-name")
    table = entry.get("table_name")
    if not schema_name or not table:
        raise NotApplicable(f"{stream.name} has no table name in the stored discovery")
    properties = dict((entry.get("schema") or {}).get("properties") or {})
    columns = tuple(c for c in properties if c not in stream.excluded_columns)
    key = tuple(root.get("table-key-properties") or entry.get("key_properties") or ())
    target_schema, target_table = destination.table_name(integration, stream.name).split(".", 1)
    return StreamLoad(
        selection=stream,
        source_schema=str(schema_name),
        source_table=str(table),
        columns=columns,
        schema={**entry["schema"], "properties": {c: properties[c] for c in columns}},
        key=key,
        target_schema=target_schema,
        target_table=target_table,
    )


def run_full_load(
    request: SyncRequest,
    loads: Sequence[StreamLoad],
    settings: Settings,
    environ: Mapping[str, str],
    sys_dir: Path,
    log: Callable[[LogLine], None],
    progress: Callable[[ProgressSnapshot], None] | None = None,
) -> SyncResult:
    """Copy every stream of ``loads``; then merge their bookmarks into the state."""
    source_config = effective_config(request.connector, request.config)
    destination = _target(request)
    target_config = destination.loader_config(settings, request.integration)
    redactor = Redactor(
        [
            *request.connector.secret_values(source_config),
            *destination.secret_values(),
            str(source_config.get("password") or ""),
        ]
    )

    def say(message: str, level: str = "info") -> None:
        log(LogLine("platform", "loader", level, redactor.redact(message)))

    started = time.monotonic()
    counts: dict[str, int] = {}
    bookmarks: dict[str, Any] = {}
    moved: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def tick() -> None:
        while progress is not None and not stop.wait(5.0):
            with lock:
                rows = {load.selection.name: moved.get(load.selection.name, 0) for load in loads}
            progress(ProgressSnapshot(rows, time.monotonic() - started))

    ticker = threading.Thread(target=tick, name="full-load-progress", daemon=True)
    ticker.start()
    try:
        _ensure_tables(request, loads, destination, target_config, settings, sys_dir, say)
        with _connect(source_config) as source, _connect(target_config) as target:
            # One snapshot for every stream: each bookmark matches the rows copied.
            source.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with source.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
            for load in loads:
                name = load.selection.name

                def count(rows: int, stream: str = name) -> None:
                    with lock:
                        moved[stream] = moved.get(stream, 0) + rows

                copied, seconds, bookmark = _copy(source, target, load, count)
                counts[name] = copied
                bookmarks[name] = (
                    {
                        "replication_key": load.selection.replication_key,
                        "replication_key_value": bookmark,
                    }
                    if load.selection.replication_key and bookmark is not None
                    else {}
                )
                rate = copied / seconds if seconds > 0 else 0
                say(
                    f"{name}: {copied:,} rows copied to {load.target_schema}."
                    f"{load.target_table} in {seconds:.1f} s ({rate:,.0f} rows/s)"
                )
            source.rollback()  # the snapshot (read only)
    finally:
        stop.set()
        ticker.join(timeout=10)
    kept = {name: mark for name, mark in bookmarks.items() if mark}
    if kept:
        try:
            merge_state(settings, environ, request.state_id, {"bookmarks": kept})
        except SyncError as exc:  # the rows are in: only the next sync's start is unknown
            text = redactor.redact(f"The bookmarks could not be saved: {exc}")
            say(text, "error")
            return SyncResult(1, time.monotonic() - started, counts, [text], [text])
        say(
            "Bookmarks saved: "
            + ", ".join(f"{n} at {m['replication_key_value']}" for n, m in kept.items())
        )
    return SyncResult(0, time.monotonic() - started, counts, [], [])


def _ensure_tables(
    request: SyncRequest,
    loads: Sequence[StreamLoad],
    destination: Target,
    target_config: Mapping[str, Any],
    settings: Settings,
    sys_dir: Path,
    say: Callable[[str], None],
) -> None:
    """Have the destination's target create or evolve each table from its SCHEMA
    message (skipped when every table already has every column)."""
    with _connect(target_config) as target, target.cursor() as cur:
        missing: list[StreamLoad] = []
        for load in loads:
            have = _column_types(cur, _qualified(load.target_schema, load.target_table))
            if not set(load.columns) <= have.keys():
                missing.append(load)
        target.rollback()
    if not missing:
        return
    loader = destination.loader
    executable = (
        settings.meltano_project_dir
        / ".meltano"
        / "loaders"
        / loader.name
        / "venv"
        / "bin"
        / loader.executable
    )
    if not executable.exists():
        raise NotApplicable(f"{loader.name} is not installed (run `meltano install`)")
    config = sys_dir / "full-load-target.json"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dict(target_config), handle)
    messages = "".join(
        json.dumps(
            {
                "type": "SCHEMA",
                "stream": load.selection.name,
                "schema": load.schema,
                "key_properties": list(load.key),
            }
        )
        + "\n"
        for load in missing
    )
    try:
        done = subprocess.run(
            [str(executable), "--config", str(config)],
            input=messages,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=sys_dir,
        )
    finally:
        config.unlink(missing_ok=True)
    if done.returncode != 0:
        raise SyncError(
            f"{loader.name} could not prepare the tables: {done.stderr.strip()[-800:]}",
            f"Check the connection of destination '{destination.name}' (`integrations "
            "destinations test NAME`; for the built-in postgres: INTEGRATIONS_WAREHOUSE_URL).",
        )
    say(f"{loader.name} prepared {', '.join(load.target_table for load in missing)}")


def _copy(
    source: Any, target: Any, load: StreamLoad, count: Callable[[int], None]
) -> tuple[int, float, Any]:
    """Copy one table in one destination transaction; (rows, seconds, bookmark)."""
    started = time.monotonic()
    table = _qualified(load.target_schema, load.target_table)
    with source.cursor() as cur:
        source_types = _column_types(cur, _qualified(load.source_schema, load.source_table))
        bookmark = None
        key = load.selection.replication_key
        if key:
            cur.execute(
                f"SELECT max({_ident(key)}) FROM "
                f"{_qualified(load.source_schema, load.source_table)}"
            )
            bookmark = _bookmark_value(cur.fetchone()[0])
    with target.cursor() as cur:
        target_types = _column_types(cur, table)
        unknown = [c for c in load.columns if c not in target_types or c not in source_types]
        if unknown:
            raise NotApplicable(f"{load.selection.name}: columns not matched: {unknown}")
        metadata = [c for c in (*_SDC_TIMES, *_SDC_MILLIS) if c in target_types]
        names = [*load.columns, *metadata]
        select = ", ".join(_cast(c, source_types[c], target_types[c]) for c in load.columns)
        query = (
            f"COPY (SELECT {select} FROM "
            f"{_qualified(load.source_schema, load.source_table)}) TO STDOUT"
        )
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
        empty = not cur.fetchone()[0]
        into = table
        if not empty:
            cur.execute(
                f"CREATE TEMP TABLE full_load_rows (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            into = "full_load_rows"
        # The metadata columns (one value for every row) as the columns' defaults for the
        # length of this transaction: a third less to send, parse and convert per row. An
        # empty table is locked until the load commits; a filled one is not touched.
        now = datetime.now(UTC)
        for column in metadata:
            cur.execute(
                f"ALTER TABLE {into} ALTER COLUMN {_ident(column)} "
                f"SET DEFAULT {_metadata_value(column, now)}"
            )
        column_list = ", ".join(_ident(n) for n in load.columns)
        rows = _pipe(source, cur, query, f"COPY {into} ({column_list}) FROM STDIN", count)
        for column in metadata:
            if into == table:
                cur.execute(f"ALTER TABLE {table} ALTER COLUMN {_ident(column)} DROP DEFAULT")
        if not empty:
            every = ", ".join(_ident(n) for n in names)
            conflict = ""
            if load.key:
                updates = ", ".join(
                    f"{_ident(n)} = EXCLUDED.{_ident(n)}" for n in names if n not in load.key
                )
                keys = ", ".join(_ident(k) for k in load.key)
                conflict = f" ON CONFLICT ({keys}) DO " + (
                    f"UPDATE SET {updates}" if updates else "NOTHING"
                )
            cur.execute(
                f"INSERT INTO {table} ({every}) SELECT {every} FROM full_load_rows{conflict}"
            )
    target.commit()
    return rows, time.monotonic() - started, bookmark


class _CountingPipe:
    """The write end of an OS pipe that counts the rows (lines) written through it.

    The driver writes one row per call: rows are gathered and passed on (and counted) a
    megabyte at a time."""

    CHUNK = 1 << 20

    def __init__(self, fd: int, count: Callable[[int], None]) -> None:
        self.file = os.fdopen(fd, "wb", buffering=0)
        self.count = count
        self.rows = 0
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= self.CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buffer:
            lines = self.buffer.count(b"\n")
            self.rows += lines
            self.count(lines)
            self.file.write(self.buffer)
            self.buffer.clear()


def _pipe(source: Any, target_cursor: Any, out_sql: str, in_sql: str, count: Any) -> int:
    """``out_sql`` on the source into ``in_sql`` on the target, streamed."""
    read_end, write_end = os.pipe()
    sink = _CountingPipe(write_end, count)
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with source.cursor() as cur:
                cur.copy_expert(out_sql, sink)
            sink.flush()
        except BaseException as exc:  # noqa: BLE001 - raised again below
            failure.append(exc)
        finally:
            sink.file.close()

    producer = threading.Thread(target=produce, name="full-load-source")
    producer.start()
    try:
        with os.fdopen(read_end, "rb") as pipe:
            target_cursor.copy_expert(in_sql, pipe, size=_CountingPipe.CHUNK)
    finally:
        producer.join()
    if failure:
        raise failure[0]
    return sink.rows


def _cast(column: str, source_type: str, target_type: str) -> str:
    """The source column as the destination's type (timestamps at UTC: the session's)."""
    name = _ident(column)
    if source_type == target_type:
        return name
    if target_type in _JSON_TYPES and source_type not in _JSON_TYPES:
        return f"to_jsonb({name})::{target_type}"
    if source_type in _FLOAT_TYPES:
        # Through the shortest exact text, as the tap's JSON writes a float (a direct
        # cast to numeric keeps only 15 digits).
        return f"{name}::double precision::text::{target_type}"
    return f"{name}::{target_type}"


def _metadata_value(column: str, now: datetime) -> str:
    """A metadata column's value, a constant (as the target sets them: UTC times and
    milliseconds since the epoch)."""
    if column in _SDC_TIMES:
        return f"timestamp '{now.replace(tzinfo=None).isoformat()}'"
    return str(int(now.timestamp() * 1000))


def _bookmark_value(value: Any) -> Any:
    """A replication key's value as tap-postgres writes it into the state."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")  # as the SDK writes it
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, int | str):
        return value
    return str(value)


def _column_types(cursor: Any, table: str) -> dict[str, str]:
    """Each column of ``table`` (a qualified name) and its type; empty if it does not
    exist."""
    cursor.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
        (table,),
    )
    return dict(cursor.fetchall())


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(schema: str, table: str) -> str:
    return f"{_ident(schema)}.{_ident(table)}"


@contextmanager
def _connect(config: Mapping[str, Any]) -> Iterator[Any]:
    """A psycopg2 connection, rolled back (unless committed) and closed at the end."""
    import psycopg2  # type: ignore[import-untyped]  # no stubs; a driver SQLAlchemy uses

    connection = psycopg2.connect(
        host=config.get("host") or "127.0.0.1",
        port=int(config.get("port") or 5432),
        user=config.get("user") or "postgres",
        password=str(config.get("password") or ""),
        dbname=config.get("database"),
        connect_timeout=30,
        application_name="integrations-full-load",
    )
    try:
        yield connection
    finally:
        connection.close()  # an uncommitted transaction is rolled back


def try_full_load(
    request: SyncRequest,
    settings: Settings,
    environ: Mapping[str, str],
    log: Callable[[LogLine], None],
    progress: Callable[[ProgressSnapshot], None] | None = None,
) -> SyncResult | None:
    """The sync done table to table, or None when the Singer path must do it (a failure
    before the rows are committed changes nothing, and is logged: the Singer path runs)."""
    if request.connector.full_load == "none":
        return None
    loads, why = full_load_or_none(request, settings, environ)
    if loads is None:
        log(LogLine("platform", "loader", "info", f"Full load by COPY not used: {why}"))
        return None
    names = ", ".join(load.selection.name for load in loads)
    log(LogLine("platform", "loader", "info", f"Full load by COPY, table to table: {names}"))
    sys_dir = make_sys_dir(settings)
    try:
        return run_full_load(request, loads, settings, environ, sys_dir, log, progress)
    except Exception as exc:  # noqa: BLE001 - the Singer path is the fallback
        secrets = [str(v) for v in request.config.values() if v]
        if request.destination is not None:
            secrets += request.destination.secret_values()
        warehouse = make_url(settings.warehouse_url) if settings.warehouse_url else None
        if warehouse is not None and warehouse.password:
            secrets.append(str(warehouse.password))
        text = Redactor([*secrets, settings.warehouse_url or ""]).redact(str(exc).strip())
        log(
            LogLine(
                "platform",
                "loader",
                "warning",
                f"Full load by COPY failed ({type(exc).__name__}: {text[:500]}); "
                "loading through the Singer pipeline instead",
            )
        )
        return None
    finally:
        shutil.rmtree(sys_dir, ignore_errors=True)


def full_load_or_none(
    request: SyncRequest, settings: Settings, environ: Mapping[str, str]
) -> tuple[list[StreamLoad] | None, str]:
    """The COPY loads of ``request``, or None and why not (the bookmarks are read only
    when an incremental stream is synced without a full refresh)."""
    try:
        return plan(request, None), ""
    except NotApplicable as first:
        if "continues from its bookmark" not in str(first):  # the state would not help
            return None, str(first)
    try:
        state = stored_bookmarks(settings, request.state_id)
        return plan(request, state), ""
    except NotApplicable as exc:
        return None, str(exc)
