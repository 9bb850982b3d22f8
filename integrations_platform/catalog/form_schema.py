"""A connector's settings as JSON Schema, annotated so that a form can be generated."""

from typing import Any

from integrations_platform.catalog.models import SettingsOwner, SettingSpec
from integrations_platform.catalog.validation import MAX_TEXT_BYTES, MIN_SECRET_LENGTH

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "array": {"type": "array", "items": {"type": "string"}},
    "object": {"type": "object"},
}


def setting_schema(setting: SettingSpec) -> dict[str, Any]:
    """One property: type and checks, plus ``x-secret``, ``x-advanced``, ``x-order``."""
    if setting.value_schema is not None:
        kind = {"type": setting.type}
        schema: dict[str, Any] = {"title": setting.label, **kind, **setting.value_schema, **kind}
    else:
        schema = {"title": setting.label, **_TYPES[setting.type]}
    if setting.help:
        schema["description"] = setting.help
    if setting.choices:
        schema["enum"] = list(setting.choices)
    if setting.format == "file":
        schema["x-file"] = True
    elif setting.format:
        schema["format"] = setting.format
    if setting.minimum is not None:
        schema["minimum"] = setting.minimum
    if setting.maximum is not None:
        schema["maximum"] = setting.maximum
    if setting.default is not None:
        schema["default"] = setting.default
    if setting.type == "string":
        # The server counts bytes (MAX_TEXT_BYTES); a form can check characters.
        schema["maxLength"] = MAX_TEXT_BYTES
    if setting.secret and setting.type == "string":
        schema.update({"writeOnly": True, "format": "password", "minLength": MIN_SECRET_LENGTH})
    elif setting.secret:
        schema["writeOnly"] = True
    schema.update(
        {"x-secret": setting.secret, "x-advanced": setting.advanced, "x-order": setting.order}
    )
    return schema


def connector_form_schema(connector: SettingsOwner) -> dict[str, Any]:
    """The connector's config as a JSON Schema object, properties in form order."""
    ordered = connector.ordered_settings
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{connector.label} settings",
        "type": "object",
        "additionalProperties": False,
        "required": [s.name for s in ordered if s.required and s.default is None],
        "properties": {s.name: setting_schema(s) for s in ordered},
    }
