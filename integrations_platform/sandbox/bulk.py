"""The sandbox's Bulk API 1.0 (``/services/async/<version>/…``), as tap-salesforce's BULK
mode uses it: a query job (JSON), a batch holding the SOQL (answered in XML), its status,
its result list and the CSV results, closing the job; and PK chunking when the tap asks
for it (``Sforce-Enable-PKChunking``), after a batch failed with a query timeout.

Batches run when they are added, so the tap never waits out its polling interval. The
query itself is the REST API's (``soql.py``), so both modes return the same rows.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol
from xml.sax.saxutils import escape

from .data import make_id
from .soql import ApiError
from .transport import RawBody, Response

_XMLNS = "http://www.force.com/2009/06/asyncapi/dataload"
_CHUNK = re.compile(r"chunkSize=(\d+)")
# tap-salesforce retries a batch with PK chunking when its message says this.
_TIMEOUT_MESSAGE = "InvalidBatch : Failed to process query: QUERY_TIMEOUT: Your query request "
_TIMEOUT_MESSAGE += "was running for too long."


class _Queries(Protocol):
    """What the Bulk API needs of the sandbox: its tokens and its query engine."""

    def valid_token(self, token: str) -> bool: ...

    def run_query(
        self, soql: str, version: str, include_deleted: bool
    ) -> tuple[str, list[dict[str, Any]]]: ...


@dataclass
class _Batch:
    id: str
    job_id: str
    state: str
    message: str = ""
    # Result id → rows (each a dict of the selected fields, in order).
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def processed(self) -> int:
        return sum(len(rows) for rows in self.results.values())

    def xml(self) -> str:
        message = f"<stateMessage>{escape(self.message)}</stateMessage>" if self.message else ""
        return (
            f'<batchInfo xmlns="{_XMLNS}"><id>{self.id}</id><jobId>{self.job_id}</jobId>'
            f"<state>{self.state}</state>{message}"
            f"<numberRecordsProcessed>{self.processed}</numberRecordsProcessed></batchInfo>"
        )


@dataclass
class _Job:
    id: str
    operation: str
    sobject: str
    chunk_size: int | None
    state: str = "Open"
    batches: list[_Batch] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "state": self.state,
            "contentType": "CSV",
            "concurrencyMode": "Parallel",
            "numberBatchesTotal": len(self.batches),
            "numberBatchesCompleted": sum(b.state == "Completed" for b in self.batches),
            "apiVersion": 0,
        }


class BulkApi:
    """Jobs, batches and results of one sandbox."""

    def __init__(self, sandbox: _Queries) -> None:
        self.sandbox = sandbox
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._count = 0
        # Objects whose unchunked query batches fail with a query timeout (the tap then
        # asks for PK chunking), and the largest chunk the sandbox cuts.
        self.timeouts: set[str] = set()
        self.max_chunk = 250_000
        self.results_per_batch = 1
        # Refuse every Bulk API session (the REST API keeps working): a test's fault.
        self.sessions_refused = False

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._count += 1
            return make_id(prefix, 7, self._count)

    @property
    def jobs(self) -> list[dict[str, Any]]:
        """Every job so far (its info and its batches' states), oldest first."""
        with self._lock:
            return [
                {**job.info(), "batches": [b.state for b in job.batches]}
                for job in self._jobs.values()
            ]

    def handle(
        self, method: str, version: str, rest: str, headers: dict[str, str], body: bytes
    ) -> Response:
        """One Bulk API request (``rest``: the path after ``/services/async/<v>.0/``)."""
        token = headers.get("x-sfdc-session", "").strip()
        if self.sessions_refused or not self.sandbox.valid_token(token):
            return _error(400, "InvalidSessionId", "Invalid session id")
        try:
            return self._route(method, version, rest.strip("/"), headers, body)
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message)

    def _route(
        self, method: str, version: str, rest: str, headers: dict[str, str], body: bytes
    ) -> Response:
        if rest == "job" and method == "POST":
            return self._create_job(headers, body)
        parts = rest.split("/")
        if parts[0] != "job" or len(parts) < 2:
            return _error(404, "InvalidUrl", "Destination URL not reset.")
        job = self._job(parts[1])
        if len(parts) == 2:
            if method == "POST":
                state = _json_body(body).get("state")
                if state in ("Closed", "Aborted"):
                    job.state = state
                return 200, job.info(), {}
            return 200, job.info(), {}
        if parts[2] != "batch":
            return _error(404, "InvalidUrl", "Destination URL not reset.")
        if len(parts) == 3:
            if method == "POST":
                return self._add_batch(job, version, body)
            listing = "".join(b.xml() for b in job.batches)
            return 200, _xml(f'<batchInfoList xmlns="{_XMLNS}">{listing}</batchInfoList>'), {}
        batch = next((b for b in job.batches if b.id == parts[3]), None)
        if batch is None:
            raise ApiError("InvalidBatch", f"Unable to find batch for id: {parts[3]}")
        if len(parts) == 4:
            return (
                200,
                _xml(batch.xml().replace("<batchInfo>", f'<batchInfo xmlns="{_XMLNS}">')),
                {},
            )
        if parts[4] != "result":
            return _error(404, "InvalidUrl", "Destination URL not reset.")
        if batch.state != "Completed":
            raise ApiError("InvalidBatch", f"Batch not completed: {batch.id}")
        if len(parts) == 5:
            items = "".join(f"<result>{r}</result>" for r in batch.results)
            return 200, _xml(f'<result-list xmlns="{_XMLNS}">{items}</result-list>'), {}
        rows = batch.results.get(parts[5])
        if rows is None:
            raise ApiError("InvalidBatch", f"Unable to find result for id: {parts[5]}")
        return 200, RawBody(_csv(rows), "text/csv;charset=UTF-8"), {}

    def _create_job(self, headers: dict[str, str], body: bytes) -> Response:
        spec = _json_body(body)
        operation = spec.get("operation")
        if operation not in ("query", "queryAll") or not spec.get("object"):
            raise ApiError("InvalidJob", f"Invalid job: operation {operation!r}")
        if str(spec.get("contentType", "CSV")).upper() != "CSV":
            raise ApiError("InvalidJob", "Only CSV results are supported")
        chunking = headers.get("sforce-enable-pkchunking", "")
        chunk = None
        if chunking and chunking.split(";")[0].strip().lower() in ("true", ""):
            found = _CHUNK.search(chunking)
            chunk = int(found[1]) if found else 100_000
        job = _Job(self._next_id("750"), operation, str(spec["object"]), chunk)
        with self._lock:
            self._jobs[job.id] = job
        return 201, job.info(), {}

    def _add_batch(self, job: _Job, version: str, body: bytes) -> Response:
        if job.state != "Open":
            raise ApiError("InvalidJobState", f"Job {job.id} is {job.state}")
        soql = body.decode("utf-8", "replace")
        batch = _Batch(self._next_id("751"), job.id, "Queued")
        job.batches.append(batch)
        try:
            sobject, rows = self.sandbox.run_query(soql, version, job.operation == "queryAll")
        except ApiError as exc:
            batch.state, batch.message = "Failed", f"InvalidBatch : {exc.code}: {exc.message}"
            return 201, _xml(batch.xml()), {}
        if job.chunk_size is None and sobject in self.timeouts:
            batch.state, batch.message = "Failed", _TIMEOUT_MESSAGE
            return 201, _xml(batch.xml()), {}
        if job.chunk_size is None:
            self._complete(batch, rows)
            return 201, _xml(batch.xml()), {}
        # PK chunking: the original batch is not processed; one batch per range of ids.
        batch.state = "NotProcessed"
        size = max(1, min(job.chunk_size, self.max_chunk))
        ordered = sorted(rows, key=lambda r: r["Id"])
        for start in range(0, max(len(ordered), 1), size):
            chunk = _Batch(self._next_id("751"), job.id, "Queued")
            job.batches.append(chunk)
            self._complete(chunk, ordered[start : start + size])
        return 201, _xml(batch.xml()), {}

    def _complete(self, batch: _Batch, rows: list[dict[str, Any]]) -> None:
        per = max(1, -(-len(rows) // self.results_per_batch)) if rows else 1
        for start in range(0, max(len(rows), 1), per):
            batch.results[self._next_id("752")] = rows[start : start + per]
        batch.state = "Completed"

    def _job(self, job_id: str) -> _Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ApiError("InvalidJob", f"Unable to find job for id: {job_id}")
        return job


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise ApiError("InvalidJob", "The request body is not JSON") from None
    if not isinstance(value, dict):
        raise ApiError("InvalidJob", "The request body is not a JSON object")
    return value


def _xml(text: str) -> RawBody:
    return RawBody('<?xml version="1.0" encoding="UTF-8"?>' + text, "application/xml")


def _error(status: int, code: str, message: str) -> Response:
    return status, {"exceptionCode": code, "exceptionMessage": message}, {}


def _csv(rows: list[dict[str, Any]]) -> str:
    """Rows as the Bulk API writes them: every value quoted, nulls empty, times in UTC."""
    if not rows:
        return "Records not found for this query"
    names = [name for name in rows[0] if name != "attributes"]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_text(row[name]) for name in names])
    return out.getvalue()


_OFFSET = re.compile(r"(\d{2}:\d{2}:\d{2}(?:\.\d+)?)\+0000$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _OFFSET.sub(r"\1Z", value)
    return str(value)
