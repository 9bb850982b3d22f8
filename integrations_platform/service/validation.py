"""Checks of an integration's orchestration fields (streams, schedule, start date,
description), shared by every write of the service."""

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from integrations_platform.catalog import ConnectorSpec, validate_config
from integrations_platform.catalog.models import is_valid_cron
from integrations_platform.catalog.validation import format_datetime, parse_datetime
from integrations_platform.discovery import Discovery
from integrations_platform.errors import (
    ConfigurationError,
    DecryptionError,
    IncompleteRepairError,
)
from integrations_platform.integration import StreamSelection
from integrations_platform.keys import stream_key_part
from integrations_platform.service.selection import check_against_discovery

# Partitions start at the start date: an absurd year would mean millions of them.
MIN_START_YEAR, MAX_START_YEAR = 1970, 2200
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")


def check_name(errors: dict[str, str], name: str) -> None:
    """An integration name: it names Dagster assets, jobs and schedules too."""
    if not NAME_PATTERN.fullmatch(name or ""):
        errors["name"] = (
            "use 1-63 lower-case letters, digits and underscores, starting with a letter"
        )


def check_orchestration(
    connector: ConnectorSpec,
    errors: dict[str, str],
    *,
    streams: Sequence[StreamSelection | str] | None,
    schedule: str,
    start_date: str | None,
    default_streams: Sequence[StreamSelection] | None = None,
    discovery: Discovery | None = None,
) -> list[StreamSelection]:
    """Check the orchestration fields into ``errors``; returns the streams to store
    (with the catalog's replication and primary keys where none is given). With the
    source's ``discovery``, streams, keys and columns are checked against it instead of
    the catalog file's list."""
    if not is_valid_cron(schedule):
        errors["schedule"] = "not a valid cron expression (e.g. '0 * * * *')"
    if start_date is not None:
        try:
            if not MIN_START_YEAR <= parse_datetime(start_date).year <= MAX_START_YEAR:
                errors["start_date"] = f"must be between {MIN_START_YEAR} and {MAX_START_YEAR}"
        except ValueError:
            errors["start_date"] = "expected an ISO 8601 date such as 2024-01-01"
    if streams is None:
        if default_streams is not None:
            return list(default_streams)
        if connector.dynamic_streams and not connector.streams:
            errors["streams"] = (
                f"{connector.label} needs the streams to sync ({connector.stream_name_help})"
            )
            return []
        streams = connector.default_streams
    selected = [StreamSelection.parse(s) if isinstance(s, str) else s for s in streams]
    if not selected:
        errors["streams"] = "select at least one stream"
    if discovery is not None:
        checked = check_against_discovery(connector, errors, selected, discovery)
        _check_distinct(errors, checked)
        return checked
    problems = [s.name for s in selected if not _known_stream(connector, s.name)]
    if any(s.excluded_columns for s in selected):
        errors["streams"] = "leaving columns out needs the source's discovery; discover it first"
    if problems:
        hint = (
            f"names look like {connector.stream_name_help}"
            if connector.dynamic_streams
            else f"available: {', '.join(s.name for s in connector.streams)}"
        )
        errors["streams"] = f"unknown stream(s) {', '.join(problems)}; {hint}"
    _check_distinct(errors, selected)
    return [_with_catalog_defaults(connector, s) for s in selected]


def _check_distinct(errors: dict[str, str], selected: Sequence[StreamSelection]) -> None:
    names = [s.name for s in selected]
    if len(set(names)) != len(names):
        errors["streams"] = "a stream is listed twice"
    elif len({stream_key_part(n) for n in names}) != len(names):
        errors["streams"] = (
            "two streams differ only in punctuation and would share one Dagster asset"
        )


def _known_stream(connector: ConnectorSpec, name: str) -> bool:
    if connector.stream(name) is not None:
        return True
    return bool(
        connector.dynamic_streams
        and connector.stream_name_pattern
        and re.fullmatch(connector.stream_name_pattern, name)
    )


def _with_catalog_defaults(connector: ConnectorSpec, sel: StreamSelection) -> StreamSelection:
    spec = connector.stream(sel.name)
    if spec is None:
        return sel
    return StreamSelection(
        name=sel.name,
        replication_key=sel.replication_key or spec.replication_key,
        primary_key=sel.primary_key or spec.primary_key,
    )


def repair_config(
    connector: ConnectorSpec, config: Mapping[str, Any], unreadable: DecryptionError
) -> dict[str, Any]:
    """``config`` as the replacement of an unreadable one: it must be complete."""
    try:
        return validate_config(connector, config)
    except ConfigurationError as exc:
        raise IncompleteRepairError(
            f"{unreadable.reason}; a new config replaces it only when it is complete "
            f"(missing or invalid: {', '.join(sorted(exc.field_errors))})",
            unreadable.instruction,
            field_errors=exc.field_errors,
        ) from None


def normalise_start(start_date: str | None) -> str:
    """The stored form of a start date (default: the first of this month)."""
    if start_date is None:
        now = datetime.now(UTC)
        return format_datetime(datetime(now.year, now.month, 1, tzinfo=UTC))
    return format_datetime(parse_datetime(start_date))


def check_text(errors: dict[str, str], field: str, value: str | None) -> None:
    """A free text (description): no control characters."""
    if value and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        errors[field] = "must not contain control characters"


def raise_if(errors: dict[str, str], connector: ConnectorSpec) -> None:
    """One error that lists every field in ``errors``."""
    if errors:
        raise ConfigurationError(
            f"Invalid {connector.label} integration ({', '.join(sorted(errors))})",
            "Fix the listed fields: " + "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())),
            field_errors=errors,
        )
