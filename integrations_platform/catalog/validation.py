"""Validate a connector config against the connector's settings schema."""

import json
import math
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlparse

from integrations_platform.catalog.models import SettingsOwner, SettingSpec
from integrations_platform.errors import ConfigurationError

# Larger integers are not settings any tap takes, and floats overflow on them.
MAX_INTEGER = 2**53
# A value reaches its plugin as one environment variable, which Linux caps at 128 KiB;
# no credential or setting of any connector comes near this.
MAX_TEXT_BYTES = 16 * 1024
# Secrets are masked in every form a program may print them; shorter values cannot be
# told apart from ordinary words and numbers (see runner.redaction).
MIN_SECRET_LENGTH = 8
# A whole config (a file given to the CLI, a request body to the API) is far smaller.
MAX_CONFIG_BYTES = 1024 * 1024
# Tab, newline and carriage return are kept: private keys and certificates span lines.
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def check_text(value: str, *, secret: bool = False) -> None:
    """Refuse text no setting can carry: too long, control characters, lone surrogates,
    and (for a secret) fewer than :data:`MIN_SECRET_LENGTH` characters."""
    for position, char in enumerate(value, start=1):
        category = unicodedata.category(char)
        if category == "Cc" and char not in _ALLOWED_CONTROLS:
            raise ValueError(
                f"contains a control character (U+{ord(char):04X}) at position {position}; "
                "enter the value again without it"
            )
        if category == "Cs":
            raise ValueError(
                f"contains an invalid character (a lone surrogate) at position {position}"
            )
    size = len(value.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise ValueError(
            f"is {size:,} bytes long; a setting holds at most {MAX_TEXT_BYTES // 1024} KiB"
        )
    if secret and value and len(value) < MIN_SECRET_LENGTH:
        length = f"{len(value)} character{'s' if len(value) != 1 else ''}"
        raise ValueError(
            f"is {length} long; a secret needs at least {MIN_SECRET_LENGTH}, "
            "because shorter values cannot be kept out of logs reliably"
        )


def parse_datetime(value: str) -> datetime:
    """Parse an ISO 8601 date or date-time; a naive value is taken as UTC."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("date out of range") from None
    return parsed


def format_datetime(value: datetime) -> str:
    """The canonical form stored and passed to taps: ``2024-01-01T00:00:00Z``."""
    # isoformat, not strftime: "%Y" drops the leading zeros of years before 1000.
    utc = value.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return utc.isoformat(timespec="seconds") + "Z"


def coerce_setting(setting: SettingSpec, value: Any) -> Any:
    """Check one value's type; return it in canonical form or raise ValueError."""
    kind = setting.type
    if kind == "string":
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {type(value).__name__}")
        check_text(value, secret=setting.secret)
        if setting.required and not value.strip():
            raise ValueError("must not be empty")
        if setting.choices and value not in setting.choices:
            raise ValueError(f"must be one of {', '.join(setting.choices)}")
        if setting.format == "uri" and value:
            url = urlparse(value)
            if url.scheme not in ("http", "https") or not url.netloc:
                raise ValueError("expected a URL such as https://example.my.salesforce.com")
        if setting.format == "email" and value and "@" not in value:
            raise ValueError("expected an email address")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {type(value).__name__}")
        return value
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {type(value).__name__}")
        if kind == "integer" and isinstance(value, float):
            if not value.is_integer():
                raise ValueError("expected a whole number")
            value = int(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("expected a finite number")
        if isinstance(value, int) and abs(value) > MAX_INTEGER:
            raise ValueError(f"must be between -{MAX_INTEGER} and {MAX_INTEGER}")
        if setting.minimum is not None and value < setting.minimum:
            raise ValueError(f"must be at least {setting.minimum:g}")
        if setting.maximum is not None and value > setting.maximum:
            raise ValueError(f"must be at most {setting.maximum:g}")
        return value
    if kind in ("datetime", "date"):
        if isinstance(value, datetime):
            parsed = value if value.tzinfo else value.replace(tzinfo=UTC)
        elif isinstance(value, date):
            parsed = datetime(value.year, value.month, value.day, tzinfo=UTC)
        elif isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                raise ValueError("expected an ISO 8601 date such as 2024-01-01T00:00:00Z") from None
        else:
            raise ValueError(f"expected a date, got {type(value).__name__}")
        try:
            utc = parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValueError("date out of range") from None
        return format_datetime(utc) if kind == "datetime" else utc.date().isoformat()
    if kind == "array" and setting.value_schema is None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a list of text values")
        for item in value:
            check_text(item)
        if len(json.dumps(value).encode("utf-8")) > MAX_TEXT_BYTES:
            raise ValueError(f"the list holds more than {MAX_TEXT_BYTES // 1024} KiB")
        return value
    if kind in ("array", "object"):
        return _coerce_structured(setting, value)
    raise ValueError(f"unsupported setting type {kind}")  # pragma: no cover - Literal-checked


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [t for k, v in value.items() for t in (*_texts(k), *_texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _where(path: Any) -> str:
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return parts.lstrip(".") or "the value"


def _coerce_structured(setting: SettingSpec, value: Any) -> Any:
    """An object or a list checked against the setting's JSON Schema. Messages name the
    place and the rule, never the value (it may be, or hold, a secret)."""
    expected = dict if setting.type == "object" else list
    if not isinstance(value, expected):
        noun = "an object" if setting.type == "object" else "a list"
        raise ValueError(f"expected {noun}, got {type(value).__name__}")
    try:
        encoded = json.dumps(value, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):
        raise ValueError("holds a value that is not JSON (e.g. NaN)") from None
    if len(encoded) > MAX_TEXT_BYTES:
        raise ValueError(f"holds more than {MAX_TEXT_BYTES // 1024} KiB")
    for text in _texts(value):
        check_text(text)
    if setting.value_schema is not None:
        from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
        from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

        error = best_match(Draft202012Validator(setting.value_schema).iter_errors(value))
        if error is not None:
            rule = error.validator
            if rule == "required":
                missing = [str(r) for r in error.validator_value if r not in error.instance]
                raise ValueError(f"{_where(error.absolute_path)}: missing {', '.join(missing)}")
            if rule in ("type", "enum", "const", "format"):
                wanted = error.validator_value
                shown = ", ".join(map(str, wanted)) if isinstance(wanted, list) else str(wanted)
                raise ValueError(f"{_where(error.absolute_path)}: expected {rule} {shown}")
            raise ValueError(f"{_where(error.absolute_path)}: does not meet '{rule}'")
    return value


def validate_config(
    connector: SettingsOwner,
    values: Mapping[str, Any],
    existing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Check ``values`` against ``connector``'s settings and return the config to store.

    With ``existing`` (an update), keys not given keep their stored value, a secret
    given as null or blank keeps its stored value, and a non-secret given as null goes
    back to its default. Every problem is collected and reported field by field in one
    :class:`ConfigurationError`.

    >>> from integrations_platform.catalog import load_catalog  # doctest: +SKIP
    >>> spec = load_catalog(Path("connector_catalog")).get("postgres")  # doctest: +SKIP
    >>> validate_config(spec, {"host": "db", "user": "u", "password": "p", "database": "d"})
    ... # doctest: +SKIP
    {'host': 'db', 'user': 'u', 'password': 'p', 'database': 'd'}
    """
    if not isinstance(values, Mapping):
        raise ConfigurationError(
            f"A config must be a mapping of setting names to values, got {type(values).__name__}",
            "Write it as a JSON object or a YAML mapping.",
        )
    merged: dict[str, Any] = dict(existing or {})
    errors: dict[str, str] = {}
    known = {s.name: s for s in connector.settings}
    for name, value in values.items():
        setting = known.get(name)
        if setting is None:
            errors[name] = (
                f"unknown setting for {connector.label}; known settings: {', '.join(sorted(known))}"
            )
            continue
        if setting.secret and (value is None or value == ""):
            continue  # blank secret: keep the stored one (or stay missing)
        if value is None:
            merged.pop(name, None)
            continue
        try:
            merged[name] = coerce_setting(setting, value)
        except ValueError as exc:
            errors[name] = str(exc)
    for setting in connector.settings:
        if (
            setting.required
            and setting.default is None
            and merged.get(setting.name) in (None, "")
            and setting.name not in errors
        ):
            errors[setting.name] = (
                "required secret is not set" if setting.secret else "required setting is missing"
            )
    if errors:
        fields = ", ".join(sorted(errors))
        raise ConfigurationError(
            f"Invalid {connector.label} config ({fields})",
            "Fix the listed fields: " + "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())),
            field_errors=errors,
        )
    return merged


def effective_config(connector: SettingsOwner, stored: Mapping[str, Any]) -> dict[str, Any]:
    """The stored config with the catalog's defaults filled in (what a sync uses)."""
    config = {s.name: s.default for s in connector.settings if s.default is not None}
    config.update({k: v for k, v in stored.items() if v is not None})
    return config
