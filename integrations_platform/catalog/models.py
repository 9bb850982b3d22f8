"""The connector catalog's models: one ``ConnectorSpec`` per YAML file.

The models are strict (unknown keys are errors) so that a typo in a catalog file fails
at load, naming the file and the field, instead of silently dropping a setting.
"""

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SettingType = Literal[
    "string", "integer", "number", "boolean", "datetime", "date", "array", "object"
]
Partitioning = Literal["daily", "monthly"]
Tier = Literal["verified", "community"]
"""``verified``: synced end to end in this project's tests, offline, in CI; ``community``:
installs, and its form comes from the plugin's own description."""

_NAME = r"^[a-z][a-z0-9_]*$"
_PLUGIN_NAME = r"^[a-z][a-z0-9-]*$"

# Meltano's setting kinds for our setting types; secrets become `password`, which
# Meltano itself redacts in its own listings.
MELTANO_KIND = {
    "string": "string",
    "integer": "integer",
    "number": "string",  # Meltano's decimal kind cannot be serialised into the tap config
    "boolean": "boolean",
    "datetime": "date_iso8601",
    "date": "date_iso8601",
    "array": "array",
    "object": "object",
}


def is_valid_cron(expression: str) -> bool:
    """Whether Dagster's schedules accept ``expression`` (its own parser decides)."""
    from integrations_platform.dagster_private import is_valid_cron_string

    return is_valid_cron_string(expression)


def _leaves(value: Any) -> list[str]:
    """The texts and numbers inside a value (a secret object's parts)."""
    if value is None or value == "" or isinstance(value, bool):
        return []
    if isinstance(value, Mapping):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list | tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    return [str(value)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtractorSpec(_Strict):
    """The Meltano extractor (a Singer tap installed from PyPI) behind a connector."""

    name: str = Field(pattern=_PLUGIN_NAME)
    namespace: str = Field(pattern=_NAME)
    pip_url: str
    executable: str
    capabilities: tuple[str, ...] = ()
    # The tap setting that receives the integration's start date, if the tap has one.
    start_date_setting: str | None = None

    @field_validator("pip_url")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not value.split():
            raise ValueError("name the PyPI package and version, e.g. 'tap-foo==1.2.3'")
        first = value.split()[0]
        if "==" not in first:
            raise ValueError(f"pin the package to one version, e.g. '{first}==1.2.3'")
        return value


class LocalLoginSpec(_Strict):
    """An alternative extractor used when an environment variable is set.

    For connectors whose login URL is fixed inside the tap: the variable names a local
    server that speaks the service's API, and the alternative extractor is a launcher
    that sends the login there.
    """

    env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    extractor: ExtractorSpec


class SettingSpec(_Strict):
    """One field of a connector's config form, and one setting of its extractor."""

    name: str = Field(pattern=_NAME)
    label: str
    type: SettingType = "string"
    required: bool = False
    secret: bool = False
    advanced: bool = False
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] | None = None
    order: int = 100
    # "file": the page offers to upload a file (a private key, a certificate, a small CSV)
    # whose text becomes the value (at most MAX_TEXT_BYTES; a secret file stays secret).
    format: Literal["uri", "email", "file"] | None = None
    minimum: float | None = None
    maximum: float | None = None
    # The JSON Schema of an "object" value, or of an "array" value (whose "items" may be
    # objects: a REST tap's list of streams); checked on every save, and the form's.
    value_schema: dict[str, Any] | None = None

    @property
    def meltano_kind(self) -> str:
        """The Meltano setting kind that carries this setting (a secret object or list
        stays an object or a list: Meltano parses it from its variable)."""
        if self.secret and self.type == "string":
            return "password"
        return MELTANO_KIND[self.type]

    @model_validator(mode="after")
    def _consistent(self) -> "SettingSpec":
        if self.secret and self.default is not None:
            raise ValueError("a secret setting cannot have a default")
        if self.secret and self.type not in ("string", "object", "array"):
            raise ValueError("a secret setting must be of type string, object or array")
        if self.value_schema is not None:
            if self.type not in ("object", "array"):
                raise ValueError("value_schema is only allowed on object and array settings")
            from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
            from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

            try:
                Draft202012Validator.check_schema(self.value_schema)
            except SchemaError as exc:
                message = exc.message
                raise ValueError(f"value_schema is not a valid JSON Schema: {message}") from None
        if self.format is not None and self.type != "string":
            raise ValueError("format is only allowed on string settings")
        if self.choices is not None and self.type != "string":
            raise ValueError("choices are only allowed on string settings")
        if self.required and self.advanced and self.default is None:
            raise ValueError("a required setting without a default cannot be advanced")
        if self.default is not None:
            # Checked like a user's value, so a catalog default can never be invalid.
            from integrations_platform.catalog.validation import coerce_setting

            try:
                coerce_setting(self, self.default)
            except ValueError as exc:
                raise ValueError(f"default {self.default!r}: {exc}") from None
        return self


class StreamSpec(_Strict):
    """A stream (table, object) the connector can sync."""

    name: str
    primary_key: tuple[str, ...] = ()
    replication_key: str | None = None
    selected_by_default: bool = True
    description: str = ""


class ConnectorSpec(_Strict):
    """A connector: what the marketplace shows, how to configure it, what it syncs."""

    id: str = Field(pattern=_NAME)
    label: str
    category: str
    description: str
    docs_url: str
    logo: str
    tier: Tier = "community"
    extractor: ExtractorSpec
    local_login: LocalLoginSpec | None = None
    settings: tuple[SettingSpec, ...]
    streams: tuple[StreamSpec, ...] = ()
    dynamic_streams: bool = False
    stream_name_pattern: str | None = None
    stream_name_help: str = ""
    partitioning: Partitioning = "daily"
    default_schedule: str = "0 * * * *"
    # How "test connection" checks a config: natively (fast, for the services it knows)
    # or by running `meltano config test` with the connector's extractor.
    connection_test: Literal["salesforce_oauth", "meltano"] = "meltano"
    # How a sync looks for schema changes of its selected streams before it starts:
    # Salesforce's describe of each selected object, or one query of a PostgreSQL
    # database's catalog; "discovery" runs the extractor's discovery (slow), "none"
    # looks only when someone refreshes the schema.
    schema_probe: Literal["salesforce_describe", "postgres_catalog", "discovery", "none"] = "none"
    # How a full load may bypass the Singer pipeline into a destination that reads the
    # same way (runner/full_load.py): "postgres_copy" copies PostgreSQL tables with COPY.
    full_load: Literal["postgres_copy", "none"] = "none"
    # At most this many syncs of this connector run at once (e.g. to spare the source's
    # API quota); unset: only the global run limit applies. The variable
    # INTEGRATIONS_MAX_CONCURRENT_SYNCS_<ID> overrides it.
    max_concurrent_syncs: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> "ConnectorSpec":
        names = [s.name for s in self.settings]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"settings listed twice: {', '.join(duplicates)}")
        streams = [s.name for s in self.streams]
        duplicates = sorted({n for n in streams if streams.count(n) > 1})
        if duplicates:
            raise ValueError(f"streams listed twice: {', '.join(duplicates)}")
        if not self.streams and not self.dynamic_streams:
            raise ValueError("list the connector's streams, or set dynamic_streams: true")
        if self.stream_name_pattern is not None:
            try:
                re.compile(self.stream_name_pattern)
            except re.error as exc:
                raise ValueError(
                    f"stream_name_pattern is not a valid regular expression: {exc}"
                ) from None
        if not is_valid_cron(self.default_schedule):
            raise ValueError(
                f"default_schedule is not a cron expression: {self.default_schedule!r}"
            )
        return self

    @property
    def ordered_settings(self) -> list[SettingSpec]:
        """Settings in form order: required first, then by ``order``."""
        return sorted(self.settings, key=lambda s: (s.advanced, not s.required, s.order))

    @property
    def secret_names(self) -> frozenset[str]:
        """Names of the settings whose values are secrets."""
        return frozenset(s.name for s in self.settings if s.secret)

    def secret_values(self, config: Mapping[str, Any]) -> list[str]:
        """The secret values set in ``config`` (decrypted), for a redactor: each secret
        text, and every text and number inside a secret object or list."""
        found: list[str] = []
        for name in self.secret_names:
            found += _leaves(config.get(name))
        return found

    def setting(self, name: str) -> SettingSpec | None:
        """The setting called ``name``, if the connector has one."""
        return next((s for s in self.settings if s.name == name), None)

    def stream(self, name: str) -> StreamSpec | None:
        """The catalog stream called ``name``, if listed."""
        return next((s for s in self.streams if s.name == name), None)

    @property
    def default_streams(self) -> list[str]:
        """The streams an integration syncs when it does not choose."""
        return [s.name for s in self.streams if s.selected_by_default]

    def searchable_text(self) -> str:
        """Lower-cased text a marketplace search matches against."""
        parts = [self.id, self.label, self.category, self.description, self.tier]
        parts += [s.name for s in self.streams]
        return " ".join(parts).lower()
