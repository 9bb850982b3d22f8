"""Where synced data lands: the embedded JSONL files, or a PostgreSQL warehouse.

A destination is chosen per integration; its connection comes from the deployment
(not from each integration), so the warehouse password is set once, in the
environment of the processes that run syncs.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url

from integrations_platform.catalog.models import ExtractorSpec
from integrations_platform.errors import ConfigurationError
from integrations_platform.settings import ENV_WAREHOUSE_URL, Settings


@dataclass(frozen=True)
class LoaderSetting:
    """A loader setting declared in meltano.yml."""

    name: str
    kind: str = "string"


@dataclass(frozen=True)
class DestinationSpec:
    """A destination and the Meltano loader (Singer target) that writes to it."""

    id: str
    label: str
    loader: ExtractorSpec
    settings: tuple[LoaderSetting, ...]
    build_config: Callable[[Settings, str], dict[str, Any]]
    # Where a stream lands, from the integration and stream names (Dagster's
    # ``dagster/table_name``): a table, or a file relative to the output folder.
    table_name: Callable[[str, str], str]
    # Loader settings added when a sync sends batch files (runner/batch.py).
    batch_settings: tuple[tuple[str, Any], ...] = ()
    # The full loads it takes without the Singer pipeline (runner/full_load.py).
    full_load: str | None = None


def _jsonl_file(integration: str, stream: str) -> str:
    # target-jsonl writes <destination_path>/<stream>.jsonl.
    return f"{integration}/{stream}.jsonl"


def _postgres_table(integration: str, stream: str) -> str:
    # target-postgres: the schema is default_target_schema, the table the stream name's
    # last "-" part, kept as it is (a quoted identifier).
    return f"{integration}.{stream.split('-')[-1]}"


def _jsonl_config(settings: Settings, integration: str) -> dict[str, Any]:
    return {
        "destination_path": str(settings.output_dir / integration),
        "do_timestamp_file": False,
    }


def _postgres_config(settings: Settings, integration: str) -> dict[str, Any]:
    if not settings.warehouse_url:
        raise ConfigurationError(
            f"The postgres destination needs {ENV_WAREHOUSE_URL}",
            f"Set {ENV_WAREHOUSE_URL}=postgresql://user:password@host:5432/database "
            "where syncs run, or choose the jsonl destination.",
        )
    url = make_url(settings.warehouse_url)
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        # target-postgres refuses a connection without a password; with trust auth any works.
        "password": url.password or "unused",
        "database": url.database or "postgres",
        "default_target_schema": integration,
        "add_record_metadata": True,
    }


# The default: JSON Lines files under INTEGRATIONS_HOME, one row per primary key
# (runner/compaction.py).
EMBEDDED_DESTINATION = "jsonl"

DESTINATIONS: dict[str, DestinationSpec] = {
    "jsonl": DestinationSpec(
        id="jsonl",
        label="JSON Lines files (embedded, one row per primary key)",
        loader=ExtractorSpec(
            name="target-jsonl",
            namespace="target_jsonl",
            pip_url="target-jsonl==0.1.4",
            executable="target-jsonl",
        ),
        settings=(
            LoaderSetting("destination_path"),
            LoaderSetting("do_timestamp_file", "boolean"),
        ),
        build_config=_jsonl_config,
        table_name=_jsonl_file,
    ),
    "postgres": DestinationSpec(
        id="postgres",
        label="PostgreSQL warehouse",
        loader=ExtractorSpec(
            name="target-postgres",
            namespace="target_postgres",
            pip_url="meltanolabs-target-postgres==0.8.1",
            executable="target-postgres",
            capabilities=("about", "batch", "schema-flattening", "stream-maps"),
        ),
        settings=(
            LoaderSetting("host"),
            LoaderSetting("port", "integer"),
            LoaderSetting("user"),
            LoaderSetting("password", "password"),
            LoaderSetting("database"),
            LoaderSetting("default_target_schema"),
            LoaderSetting("add_record_metadata", "boolean"),
            LoaderSetting("use_copy", "boolean"),
        ),
        build_config=_postgres_config,
        table_name=_postgres_table,
        # Batch files are loaded with COPY (record by record COPY is slower: the tap and
        # the target compete for the cores).
        batch_settings=(("use_copy", True),),
        full_load="postgres_copy",
    ),
}


def get_destination(destination_id: str) -> DestinationSpec:
    """The destination ``destination_id``."""
    try:
        return DESTINATIONS[destination_id]
    except KeyError:
        raise ConfigurationError(
            f"Unknown destination '{destination_id}'",
            f"Use one of: {', '.join(DESTINATIONS)}.",
        ) from None
