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
# A setting's name; dots name a nested setting, which Meltano passes to the plugin as an
# object (``cloud_provider.aws.aws_bucket`` -> ``{"cloud_provider": {"aws": {...}}}``).
_SETTING_NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"

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

    name: str = Field(pattern=_SETTING_NAME)
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


class SettingsOwner(_Strict):
    """What a config form is built from and checked against: a source's or a
    destination's settings (``validate_config``, ``connector_form_schema``)."""

    label: str
    settings: tuple[SettingSpec, ...]

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

    def _check_settings(self) -> None:
        names = [s.name for s in self.settings]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"settings listed twice: {', '.join(duplicates)}")


class ConnectorSpec(SettingsOwner):
    """A connector: what the marketplace shows, how to configure it, what it syncs."""

    id: str = Field(pattern=_NAME)
    kind: Literal["source"] = "source"
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
        self._check_settings()
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


# The destinations integrations may use without configuring anything, by name, and
# their connectors: the embedded default, and the deployment's warehouse shortcut
# (destinations.py). Every catalog has their connectors.
BUILT_IN_DESTINATIONS = {"jsonl": "jsonl", "postgres": "postgres"}

# The placeholders a destination's templates may use: the integration's name, the
# stream's name and its last "-" part (a table), the deployment's output folder, and (in
# ``per_integration``) the value the form holds for that same setting.
_TEMPLATE_FIELDS = frozenset({"integration", "stream", "table", "output_dir", "value"})


def _template_fields(template: str) -> set[str]:
    import string

    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{template!r} is not a template: {exc}") from None


class DestinationOptions(_Strict):
    """How the platform drives a destination's loader (a Singer target)."""

    # Loader settings set from the integration (templates), so that two integrations
    # never write into each other: a schema, a folder, a key prefix. A setting the form
    # also asks for is given as the template with ``{value}`` the form's value.
    per_integration: dict[str, str] = Field(default_factory=dict)
    # Loader settings the platform always sets (not shown in the form).
    fixed: dict[str, Any] = Field(default_factory=dict)
    # Where a stream lands (Dagster's ``dagster/table_name``), a template.
    table_name: str = "{integration}.{table}"
    # Loader settings added when a sync sends batch files (runner/batch.py).
    batch_settings: dict[str, Any] = Field(default_factory=dict)
    # The full loads it takes without the Singer pipeline (runner/full_load.py).
    full_load: Literal["postgres_copy", "none"] = "none"
    # How "test connection" checks a destination's config: a PostgreSQL login and
    # privilege check, a writable folder, an S3 bucket write, or (for connectors not run
    # in this project's tests) whether the service's host answers at all.
    connection_test: Literal["postgres", "folder", "s3", "reachability", "none"] = "reachability"
    # The embedded destination: JSON Lines files kept at one row per primary key.
    embedded: bool = False
    # The "folder" test: the loader setting that holds the folder.
    folder_setting: str | None = None
    # The "s3" test: the loader settings that hold bucket, prefix, endpoint_url,
    # access_key, secret_key and region.
    s3_settings: dict[
        Literal["bucket", "prefix", "endpoint_url", "access_key", "secret_key", "region"], str
    ] = Field(default_factory=dict)
    # The "reachability" test: host:port or URL templates over the loader's settings,
    # e.g. "{config[account]}.snowflakecomputing.com:443"; default: the host/port and URL
    # settings.
    hosts: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _templates(self) -> "DestinationOptions":
        for where, template in [("table_name", self.table_name), *self.per_integration.items()]:
            unknown = {f.split("[")[0].split(".")[0] for f in _template_fields(template)}
            unknown -= _TEMPLATE_FIELDS
            if unknown:
                raise ValueError(
                    f"{where}: unknown placeholder(s) {', '.join(sorted(unknown))}; "
                    f"use {', '.join(sorted(_TEMPLATE_FIELDS))}"
                )
        return self


class DestinationConnectorSpec(SettingsOwner):
    """A destination connector: one file under ``connector_catalog/destinations/``."""

    id: str = Field(pattern=_NAME)
    kind: Literal["destination"]
    label: str
    category: str = "Warehouse"
    description: str
    docs_url: str
    logo: str
    tier: Tier = "community"
    loader: ExtractorSpec
    settings: tuple[SettingSpec, ...] = ()
    destination: DestinationOptions = Field(default_factory=DestinationOptions)

    @model_validator(mode="after")
    def _consistent(self) -> "DestinationConnectorSpec":
        self._check_settings()
        options = self.destination
        form = {s.name for s in self.settings}
        for setting, template in options.per_integration.items():
            if (setting in form) != ("value" in _template_fields(template)):
                raise ValueError(
                    f"destination.per_integration.{setting}: use {{value}} exactly when the "
                    "form also asks for the setting"
                )
        named: list[tuple[str, str | None]] = [("folder_setting", options.folder_setting)]
        named += list(options.s3_settings.items())
        for where, wanted in named:
            if wanted is not None and wanted not in form | set(options.per_integration):
                raise ValueError(f"destination.{where}: no setting named {wanted!r}")
        return self

    def table_name(self, integration: str, stream: str) -> str:
        """Where ``stream`` of ``integration`` lands."""
        return self.destination.table_name.format(
            integration=integration, stream=stream, table=stream.split("-")[-1], output_dir=""
        )

    def searchable_text(self) -> str:
        """Lower-cased text a marketplace search matches against."""
        return " ".join([self.id, self.label, self.category, self.description, self.tier]).lower()
