"""What a test (or the demo) does to the sandbox's org while it serves: add objects,
fields and records, read what was asked, inject failures."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from .bulk import BulkApi
from .data import Dataset, FieldSpec, ObjectSpec, find_object, parse_datetime
from .soql import ERRORS

_STAMP_FIELDS = ("Id", "IsDeleted", "Name", "CreatedDate", "LastModifiedDate", "SystemModstamp")


class OrgControls:
    """The org's controls; :class:`~.server.SalesforceSandbox` holds the state."""

    _lock: threading.RLock
    _data: Dataset
    _log: list[tuple[str, str]]
    _queries: list[str]
    _failure: str | None
    _object_failures: dict[str, str]
    _tokens: set[str]
    _used: int
    _max: int
    bulk: BulkApi

    @property
    def object_names(self) -> list[str]:
        """Every sObject of the org, queryable or not."""
        with self._lock:
            return list(self._data.objects)

    def add_object(self, name: str, fields: Sequence[FieldSpec] = (), custom: bool = True) -> None:
        """Add an sObject while serving (Id, timestamps and ``fields``); a custom
        object's name ends with ``__c``."""
        with self._lock:
            if find_object(self._data.objects, name) is not None:
                raise ValueError(f"sObject {name!r} exists already")
            base = self._data.objects["Account"].fields
            stamps = tuple(f for f in base if f.name in _STAMP_FIELDS)
            prefix = f"x{len(self._data.objects) % 1296:02x}"[:3]
            self._data.add_object(
                ObjectSpec(name, f"{name}s", prefix, stamps + tuple(fields), custom)
            )

    def add_field(self, sobject: str, field: FieldSpec) -> None:
        """Add a field to an sObject while serving (existing records hold null)."""
        with self._lock:
            spec = self._object(sobject)
            self._data.add_object(spec.with_fields(field))

    def remove_field(self, sobject: str, name: str) -> None:
        """Remove a field from an sObject while serving (as an admin deleting it)."""
        with self._lock:
            spec = self._object(sobject)
            if spec.field(name) is None:
                raise ValueError(f"{spec.name} has no field {name!r}")
            kept = tuple(f for f in spec.fields if f.name.lower() != name.lower())
            self._data.add_object(replace(spec, fields=kept))

    # -- data and test controls -------------------------------------------------------
    def records(self, sobject: str) -> list[dict[str, Any]]:
        """Copies of every record of `sobject`, in insertion order."""
        name = self._object(sobject).name
        with self._lock:
            return [dict(r) for r in self._data.records[name]]

    def records_between(self, sobject: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Records with ``start <= SystemModstamp < end`` (naive datetimes are UTC)."""
        start, end = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (start, end))
        return [
            r for r in self.records(sobject) if start <= parse_datetime(r["SystemModstamp"]) < end
        ]

    def add_records(
        self, sobject: str, count: int, modstamp: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Create `count` records last modified at `modstamp` (default: now, UTC)."""
        name = self._object(sobject).name
        if count < 0:
            raise ValueError("count must be >= 0")
        stamp = modstamp or datetime.now(UTC)
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        with self._lock:
            return [dict(self._data.add(name, stamp)) for _ in range(count)]

    def fail_requests_with(self, error_code: str | None) -> None:
        """Make every data API call fail with `error_code` (see `ERRORS`); None restores."""
        self._check_code(error_code)
        with self._lock:
            self._failure = error_code

    def fail_object(self, sobject: str, error_code: str | None) -> None:
        """Make queries of one object fail with `error_code`; None restores."""
        self._check_code(error_code)
        name = self._object(sobject).name
        with self._lock:
            if error_code:
                self._object_failures[name] = error_code
            else:
                self._object_failures.pop(name, None)

    def time_out_bulk_queries(self, sobject: str, on: bool = True) -> None:
        """Make Bulk API query batches of one object fail with a query timeout unless
        PK-chunked (tap-salesforce then retries with PK chunking)."""
        name = self._object(sobject).name
        timeouts = self.bulk.timeouts
        if on:
            timeouts.add(name)
        else:
            timeouts.discard(name)

    def set_api_usage(self, used: int, maximum: int = 15000) -> None:
        """Set the daily API counter reported in ``Sforce-Limit-Info`` and ``limits``."""
        with self._lock:
            self._used, self._max = used, maximum

    def expire_sessions(self) -> None:
        """Invalidate every access token issued so far."""
        with self._lock:
            self._tokens.clear()

    @property
    def request_log(self) -> list[tuple[str, str]]:
        """(method, path) of every request received, query strings excluded."""
        with self._lock:
            return list(self._log)

    @property
    def queries(self) -> list[str]:
        """Every SOQL string received by ``query``/``queryAll``."""
        with self._lock:
            return list(self._queries)

    @staticmethod
    def _check_code(code: str | None) -> None:
        if code is not None and code not in ERRORS:
            raise ValueError(f"unknown error code {code!r}; known: {sorted(ERRORS)}")

    def _object(self, sobject: str) -> ObjectSpec:
        with self._lock:
            spec = find_object(self._data.objects, sobject)
        if spec is None:
            raise ValueError(f"unknown sObject {sobject!r}; see `object_names`")
        return spec
