"""Request and response models of the config API (one family per resource)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from integrations_platform.failures import FailureCategory


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StreamIn(_In):
    """A stream to sync; ``replication_key`` makes it incremental."""

    name: str = Field(min_length=1, max_length=200)
    replication_key: str | None = Field(default=None, max_length=200)
    excluded_columns: list[str] = Field(
        default_factory=list,
        max_length=10_000,
        description="Columns never synced (checked against the source's discovery).",
    )
    hashed_columns: list[str] = Field(
        default_factory=list,
        max_length=10_000,
        description="Columns synced as the SHA-256 of the integration's salt and the value "
        "(not keys; needs an extractor with stream maps).",
    )


class IntegrationCreate(_In):
    """A new integration."""

    name: str = Field(min_length=1, max_length=63, examples=["crm"])
    connector: str = Field(min_length=1, max_length=63, examples=["salesforce"])
    config: dict[str, Any] = Field(
        default_factory=dict, description="Settings of the connector; secrets are write-only."
    )
    streams: list[StreamIn] | None = Field(
        default=None, description="Streams to sync; default: the connector's defaults."
    )
    schedule: str | None = Field(default=None, max_length=120, examples=["0 * * * *"])
    start_date: str | None = Field(default=None, max_length=40, examples=["2024-01-01"])
    destination: str = Field(
        default="jsonl",
        min_length=1,
        max_length=32,
        description="Where it loads: jsonl (embedded), postgres (the deployment's "
        "warehouse) or a configured destination's name (GET /api/v1/destinations).",
    )
    enabled: bool = True
    description: str = Field(default="", max_length=2000)
    schema_policy: str | None = Field(
        default=None,
        max_length=40,
        description="What syncs do when the source's schema changes: allow_all, "
        "allow_columns (the default) or block_all.",
    )
    message_format: str | None = Field(
        default=None,
        max_length=40,
        description="How records travel from source to destination: auto (the default: "
        "batch files where both support them), records or batch.",
    )


class IntegrationUpdate(_In):
    """Changes to an integration. Omitted fields, and blank secrets, keep their value."""

    config: dict[str, Any] | None = None
    streams: list[StreamIn] | None = None
    schedule: str | None = Field(default=None, max_length=120)
    start_date: str | None = Field(default=None, max_length=40)
    destination: str | None = Field(default=None, min_length=1, max_length=32)
    description: str | None = Field(default=None, max_length=2000)
    schema_policy: str | None = Field(
        default=None,
        max_length=40,
        description="What syncs do when the source's schema changes: allow_all, "
        "allow_columns (the default) or block_all.",
    )
    message_format: str | None = Field(
        default=None,
        max_length=40,
        description="How records travel from source to destination: auto (the default: "
        "batch files where both support them), records or batch.",
    )
    version: int | None = Field(
        default=None, description="The version you read; a stale one is refused with 409."
    )


class ConfigTest(_In):
    """A config to test before saving it."""

    config: dict[str, Any] = Field(default_factory=dict)


class SyncRequestIn(_In):
    """Options for a sync launched through the API."""

    streams: list[str] | None = Field(default=None, description="Default: every stream.")
    full_refresh: bool = False
    from_date: str | None = Field(
        default=None,
        max_length=40,
        description="Backfill: the first day (or month) to load; needs to_date.",
    )
    to_date: str | None = Field(
        default=None, max_length=40, description="Backfill: the last day (or month), included."
    )


class StateResetIn(_In):
    """Clear an integration's bookmark (one stream, or every stream)."""

    stream: str | None = Field(default=None, max_length=200)
    confirm: bool = Field(
        default=False, description="Must be true: the next sync re-reads what is reset."
    )


class BulkAction(_In):
    """One action applied to several integrations."""

    action: Literal["enable", "disable", "sync", "delete"]
    names: list[str] = Field(min_length=1, max_length=1000)


class ProgressPublic(BaseModel):
    """A running sync's rows so far (reported every few seconds while it runs)."""

    rows: dict[str, int] = Field(description="Rows so far per stream.")
    total: int
    rows_per_s: float
    elapsed_s: float
    updated_at: datetime


class RunPublic(BaseModel):
    """One run of an integration in Dagster."""

    run_id: str
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    row_counts: dict[str, int]
    url: str
    progress: ProgressPublic | None = Field(
        default=None, description="While the run syncs: its rows so far."
    )


class StatusPublic(BaseModel):
    """What Dagster knows of an integration."""

    last_run: RunPublic | None = None
    last_success_at: datetime | None = None
    row_counts: dict[str, int] = Field(default_factory=dict)
    next_run_at: datetime | None = None


class NotificationPublic(BaseModel):
    """A notification: a classified failure, a misconfiguration, a stale or paused sync."""

    id: str
    integration: str
    kind: Literal["run_failure", "misconfiguration", "stale", "auto_paused", "schema_change"]
    category: str
    severity: str
    status: Literal["open", "acknowledged", "resolved"]
    title: str
    message: str
    action: str
    run_id: str | None = None
    run_url: str | None = None
    settings_url: str | None = None
    settings_field: str | None = Field(
        default=None,
        description=(
            "The setting to re-enter or fix (a property of the connector's form schema), "
            "when the notification points at one."
        ),
    )
    count: int
    first_seen_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None


class StreamPublic(BaseModel):
    """A stream an integration syncs: incrementally when it has a replication key."""

    name: str
    replication_key: str | None = None
    primary_key: list[str] = Field(default_factory=list)
    excluded_columns: list[str] = Field(default_factory=list)
    hashed_columns: list[str] = Field(default_factory=list)
    columns: list[tuple[str, str]] = Field(
        default_factory=list,
        description="(name, type) of each synced column, from the source's discovery "
        "(in one integration's view; the list leaves them out).",
    )


class IntegrationPublic(BaseModel):
    """An integration as the API shows it: secrets only as "set" / "not set"."""

    id: str
    name: str
    connector: str
    enabled: bool
    schedule: str
    streams: list[StreamPublic]
    start_date: str
    destination: str
    destination_connector: str = Field(
        default="", description='The connector of its destination ("": not configured).'
    )
    description: str
    schema_policy: str = "allow_columns"
    message_format: str = "auto"
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    config: dict[str, Any] | None = None
    secrets: dict[str, Literal["set", "not set"]] | None = None
    config_error: str | None = Field(
        default=None,
        description="Set when the stored config cannot be decrypted: PATCH the complete "
        "config to repair it in place (id, history and bookmarks are kept).",
    )
    status: StatusPublic | None = None
    links: dict[str, str] = Field(default_factory=dict)
    notifications: list[NotificationPublic] = Field(
        default_factory=list, description="Its unresolved notifications, newest first."
    )


class MutationResult(BaseModel):
    """A saved change, and whether Dagster's definitions already follow it."""

    integration: IntegrationPublic | None = None
    definitions: Literal["reloaded", "pending", "unchanged"]
    detail: str = ""


class ConnectorSummary(BaseModel):
    """A connector card in the marketplace."""

    id: str
    label: str
    category: str
    description: str
    docs_url: str
    logo_url: str
    tier: str = Field(
        default="community",
        description="verified: synced end to end in the project's tests; community: "
        "installs, with a form from the plugin's own description.",
    )
    streams: list[str]


class ConnectorDetail(ConnectorSummary):
    """A connector with its form schema."""

    form_schema: dict[str, Any]
    stream_specs: list[dict[str, Any]]
    dynamic_streams: bool
    stream_name_help: str
    default_schedule: str
    can_hash_columns: bool = Field(
        default=False, description="Whether its extractor can hash columns (stream maps)."
    )


class TestResultPublic(BaseModel):
    """Outcome of a connection test."""

    ok: bool
    reason: Literal["ok"] | FailureCategory = Field(
        description="ok, or why it failed, in the words failure notifications use too."
    )
    message: str
    hint: str
    duration_s: float
    details: dict[str, Any]


class BulkItemResult(BaseModel):
    """One integration's outcome in a bulk action."""

    name: str
    ok: bool
    error: str | None = None
    run_id: str | None = None


class BulkResult(BaseModel):
    """Outcome per name, and the definitions reload."""

    results: list[BulkItemResult]
    definitions: Literal["reloaded", "pending", "unchanged"]


class LaunchedRun(BaseModel):
    """A sync launched in Dagster."""

    run_id: str
    url: str


class LogLinePublic(BaseModel):
    """One line of a run's log (already redacted at the source, and again here)."""

    timestamp: datetime | None
    level: str
    step: str | None
    message: str


class ErrorPublic(BaseModel):
    """Every error the API returns."""

    error: str
    detail: str
    instruction: str = ""
    field_errors: dict[str, str] = Field(default_factory=dict)


# Every router documents the one error body for every status the handlers can return.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorPublic} for code in (400, 401, 403, 404, 409, 422, 503)
}


class DiscoveredColumnPublic(BaseModel):
    """One column of a discovered stream."""

    name: str
    type: str = Field(description="JSON Schema type: string, number, integer, boolean, ...")
    format: str | None = Field(description="date-time, date, ... for strings")
    nullable: bool
    inclusion: str = Field(description="automatic (always synced), available or unsupported")


class DiscoveredStreamPublic(BaseModel):
    """One stream (table, object) of a discovered source."""

    name: str
    primary_key: list[str]
    replication_keys: list[str] = Field(description="Keys an incremental sync may use.")
    default_replication_key: str | None
    incremental: bool
    columns: list[DiscoveredColumnPublic]


class DiscoveryPublic(BaseModel):
    """A stored discovery of an integration's source."""

    discovered_at: str
    duration_s: float
    stream_count: int
    streams: list[DiscoveredStreamPublic]


class DiscoveryResultPublic(TestResultPublic):
    """Outcome of a discovery: a test result's fields, and on success what was found."""

    discovered_at: str | None = None
    stream_count: int | None = None
    streams: list[DiscoveredStreamPublic] | None = None


class SchemaChangePublic(BaseModel):
    """One change seen in the source's schema."""

    id: int | None
    stream: str
    column: str | None
    kind: Literal[
        "stream_added",
        "stream_removed",
        "column_added",
        "column_removed",
        "type_changed",
        "key_changed",
    ]
    old: str | None
    new: str | None
    status: Literal["applied", "pending", "approved"] = Field(
        description="applied (synced, or nothing to decide), pending (waits for an "
        "approval under the schema policy) or approved."
    )
    severity: Literal["info", "warning", "error"]
    description: str
    seen_at: datetime | None
    decided_at: datetime | None = None
    decided_by: str | None = None


class SchemaColumnPublic(BaseModel):
    """A column of a selected stream and what syncs do with it."""

    name: str
    type: str
    format: str | None = None
    nullable: bool = True
    inclusion: str = "available"
    status: Literal["synced", "left out", "hashed", "waiting for approval", "unsupported"]


class SchemaStreamPublic(BaseModel):
    """A selected stream's current schema."""

    name: str
    in_source: bool | None = Field(description="None until the source is discovered.")
    primary_key: list[str]
    replication_key: str | None
    columns: list[SchemaColumnPublic]


class SchemaPublic(BaseModel):
    """The integration's schema, its policy and its change history."""

    integration: str
    schema_policy: str
    policies: dict[str, str]
    discovered_at: datetime | None
    streams: list[SchemaStreamPublic]
    unselected_streams: list[str]
    pending: list[SchemaChangePublic]
    changes: list[SchemaChangePublic] = Field(description="Newest first.")


class ApprovalIn(_In):
    """What to approve: every pending change of a stream, or one column's."""

    stream: str = Field(min_length=1, max_length=255)
    column: str | None = Field(default=None, min_length=1, max_length=255)


class ApprovalResult(BaseModel):
    """The approved changes, and whether Dagster's definitions were reloaded."""

    approved: list[SchemaChangePublic]
    definitions: Literal["reloaded", "pending", "unchanged"]


class DestinationConnectorSummary(BaseModel):
    """A destination connector in the marketplace."""

    id: str
    label: str
    category: str
    description: str
    docs_url: str
    logo_url: str
    tier: str
    connection_test: str = Field(
        description="What its connection test checks: postgres (a login and the right to "
        "create schemas), folder, s3 (a write), reachability (the host answers) or none."
    )


class DestinationConnectorDetail(DestinationConnectorSummary):
    """A destination connector with its form schema."""

    form_schema: dict[str, Any]


class DestinationPublic(BaseModel):
    """A destination as the API shows it: secrets only as "set" / "not set"."""

    name: str
    connector: str
    label: str
    built_in: bool
    used_by: list[str]
    config: dict[str, Any]
    secrets: dict[str, Literal["set", "not set"]]
    version: int
    note: str = ""


class DestinationCreate(_In):
    """A new destination."""

    name: str = Field(min_length=1, max_length=32, examples=["warehouse"])
    connector: str = Field(min_length=1, max_length=63, examples=["postgres"])
    config: dict[str, Any] = Field(
        default_factory=dict, description="Settings of the connector; secrets are write-only."
    )


class DestinationUpdate(_In):
    """Changes to a destination's settings. Omitted settings, and blank secrets, keep
    their value."""

    config: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(
        default=None, description="The version you read; a stale one is refused with 409."
    )
