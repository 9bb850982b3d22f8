"""The SOQL the sandbox answers: ``SELECT fields FROM object [WHERE a op b AND …]
[ORDER BY f [ASC|DESC]] [LIMIT n]``, checked against the object's fields as Salesforce
checks it, with Salesforce's error codes; and the errors the sandbox answers with."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .data import FieldSpec, ObjectSpec, find_object, parse_datetime

ERRORS: dict[str, tuple[int, str]] = {
    "REQUEST_LIMIT_EXCEEDED": (403, "TotalRequests Limit exceeded."),
    "INVALID_SESSION_ID": (401, "Session expired or invalid"),
    "INVALID_TYPE": (400, "sObject type '{sobject}' is not supported."),
    "QUERY_TIMEOUT": (400, "Your query request was running for too long."),
    "INSUFFICIENT_ACCESS": (403, "insufficient access rights on object id"),
    "API_DISABLED_FOR_ORG": (403, "The REST API is not enabled for this Organization."),
    "SERVER_UNAVAILABLE": (503, "Server temporarily unavailable."),
    "UNKNOWN_EXCEPTION": (500, "An unexpected error occurred."),
}

_SOQL = re.compile(
    r"\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<dir>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*",
    re.I | re.S,
)
_COND = r"(\w+)\s*(>=|<=|!=|=|>|<)\s*('(?:[^'\\]|\\.)*'|[^\s']+)"
_WHERE = re.compile(rf"\s*{_COND}(?:\s+AND\s+{_COND})*\s*", re.I | re.S)
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ApiError(Exception):
    """A Salesforce-style error: ``[{"message": ..., "errorCode": ...}]``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    @classmethod
    def injected(cls, code: str, sobject: str = "") -> ApiError:
        """The error Salesforce answers with for ``code`` (see :data:`ERRORS`)."""
        status, message = ERRORS[code]
        return cls(code, message.format(sobject=sobject), status)


Condition = tuple[FieldSpec, Callable[[Any, Any], bool], Any]


@dataclass(frozen=True)
class Query:
    """A parsed, checked SOQL query."""

    spec: ObjectSpec
    fields: list[FieldSpec]
    conditions: list[Condition]
    order: FieldSpec | None
    descending: bool
    limit: int | None

    def matches(self, row: dict[str, Any], include_deleted: bool) -> bool:
        """Whether ``row`` is selected (``queryAll`` includes deleted rows)."""
        if not include_deleted and row.get("IsDeleted"):
            return False
        return all(_compare(f, row[f.name], op, v) for f, op, v in self.conditions)

    def arrange(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``rows`` in the query's order, cut at its limit."""
        if self.order is not None:
            key = self.order.name
            rows = sorted(
                rows,
                key=lambda r: (r[key] is not None, r[key] if r[key] is not None else ""),
                reverse=self.descending,
            )
        return rows[: self.limit] if self.limit is not None else rows


def parse_query(soql: str, objects: Mapping[str, ObjectSpec]) -> Query:
    """Parse and check ``soql``; raises :class:`ApiError` as Salesforce would."""
    query = _SOQL.fullmatch(soql)
    if query is None or (query["where"] and not _WHERE.fullmatch(query["where"])):
        raise ApiError("MALFORMED_QUERY", f"unexpected token in query: {soql.strip()}")
    spec = find_object(objects, query["object"])
    if spec is None or not spec.queryable:
        raise ApiError.injected("INVALID_TYPE", query["object"])
    names = [n.strip() for n in query["fields"].split(",")]
    if not all(re.fullmatch(r"\w+", n) for n in names):
        raise ApiError("MALFORMED_QUERY", f"unexpected token in field list: {soql.strip()}")
    fields = [_field(spec, n) for n in names]
    if len({f.name for f in fields}) != len(fields):
        raise ApiError("MALFORMED_QUERY", "duplicate field selected")
    conditions = [
        (_field(spec, f), _OPS[op], _literal(_field(spec, f), raw))
        for f, op, raw in re.findall(_COND, query["where"] or "")
    ]
    return Query(
        spec=spec,
        fields=fields,
        conditions=conditions,
        order=_field(spec, query["order"]) if query["order"] else None,
        descending=(query["dir"] or "").upper() == "DESC",
        limit=int(query["limit"]) if query["limit"] else None,
    )


def _field(spec: ObjectSpec, name: str) -> FieldSpec:
    field = spec.field(name)
    if field is None:
        raise ApiError(
            "INVALID_FIELD",
            f"No such column '{name}' on entity '{spec.name}'. "
            "If you are attempting to use a custom field, be sure to append the "
            "'__c' after the custom field name.",
        )
    return field


def _literal(field: FieldSpec, raw: str) -> Any:
    if raw.lower() == "null":
        return None
    if field.type == "datetime" and _DATETIME.fullmatch(raw):
        return parse_datetime(raw)
    if field.type == "date" and _DATE.fullmatch(raw):
        return raw
    if field.type == "boolean" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if field.type == "currency" and _NUMBER.fullmatch(raw):
        return float(raw)
    quoted = len(raw) >= 2 and raw[0] == raw[-1] == "'"
    if quoted and field.type not in ("datetime", "date", "boolean", "currency"):
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    raise ApiError(
        "INVALID_FIELD",
        f"value of filter criterion for field '{field.name}' "
        f"must be of type {field.type} and should not be enclosed in quotes",
    )


def _compare(field: FieldSpec, value: Any, op: Callable[[Any, Any], bool], literal: Any) -> bool:
    if value is not None and field.type == "datetime":
        value = parse_datetime(value)
    if value is None or literal is None:
        return op in (operator.eq, operator.ne) and op(value, literal)
    return op(value, literal)
