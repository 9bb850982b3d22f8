"""The embedded destination keeps one row per primary key.

target-jsonl only appends: an incremental sync re-reads the record at its bookmark (the
taps query ``>=``), and re-loading a window appends its records again. After each
successful sync into the embedded destination the stream's file is rewritten with the
latest version of each record — by the stream's primary key, or by the whole record for a
stream without one — in the order the records first arrived. The rewrite goes to a
temporary file that replaces the original atomically, so a reader (or a crash) never
sees half a file.

The output stays plain JSON Lines, so any tool reads it, SQL included::

    import duckdb
    duckdb.sql("SELECT Id, Name FROM '.integrations/output/demo_salesforce/Account.jsonl'")
"""

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Compaction:
    """What compacting one file did."""

    path: Path
    rows_before: int
    rows_after: int

    @property
    def replaced(self) -> int:
        """Rows that an later version of the same key replaced."""
        return self.rows_before - self.rows_after


def compact_jsonl(path: Path, primary_key: Sequence[str] = ()) -> Compaction:
    """Keep the latest record per ``primary_key`` (the whole record without one).

    A line that is not a JSON object, or lacks a key field, is kept as it is: nothing a
    target wrote is ever dropped because it cannot be keyed.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "Account.jsonl"
    >>> _ = p.write_text('{"Id": 1, "v": "a"}\\n{"Id": 2, "v": "b"}\\n{"Id": 1, "v": "c"}\\n')
    >>> compact_jsonl(p, ["Id"]).replaced
    1
    >>> p.read_text()
    '{"Id": 1, "v": "c"}\\n{"Id": 2, "v": "b"}\\n'
    """
    if not path.exists():
        return Compaction(path, 0, 0)
    latest: dict[object, str] = {}
    before = 0
    unkeyed = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            text = line.rstrip("\n")
            if not text.strip():
                continue
            before += 1
            key = _key(text, primary_key)
            if key is None:
                unkeyed += 1
                key = ("unkeyed", unkeyed)
            # dict order is first insertion: a replaced record keeps its place.
            latest[key] = text
    if len(latest) == before:
        return Compaction(path, before, before)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for text in latest.values():
                out.write(text + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Compaction(path, before, len(latest))


def _key(text: str, primary_key: Sequence[str]) -> object | None:
    if not primary_key:
        return ("record", text)
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or any(field not in record for field in primary_key):
        return None
    return ("key", json.dumps([record[field] for field in primary_key], sort_keys=True))
