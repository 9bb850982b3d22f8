"""Which way a sync's rows travel: table to table by COPY, batch files, or records; and
what each path writes into the sync's command (starts nothing)."""

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from integrations_platform.catalog import load_catalog
from integrations_platform.destinations import Target, built_in_target
from integrations_platform.integration import StreamSelection
from integrations_platform.runner.batch import check_message_format, choose_format
from integrations_platform.runner.full_load import (
    NotApplicable,
    _bookmark_value,
    _cast,
    _CountingPipe,
    check_eligible,
    plan,
)
from integrations_platform.runner.meltano import SyncRequest, env_var, prepare_sync
from integrations_platform.settings import PROJECT_ROOT, Settings

CATALOG = load_catalog(PROJECT_ROOT / "connector_catalog")
POSTGRES = CATALOG.get("postgres")
SALESFORCE = CATALOG.get("salesforce")
WAREHOUSE = Target("postgres", CATALOG.destination("postgres"), {"host": "h", "password": "pw"})
LOADER = WAREHOUSE.loader
EVENTS = StreamSelection("public-events", "updated_at", excluded_columns=("secret",))
DISCOVERED = {
    "streams": [
        {
            "tap_stream_id": "public-events",
            "table_name": "events",
            "schema": {
                "type": "object",
                "properties": {
                    "id": {"type": ["integer"]},
                    "updated_at": {"type": ["string", "null"], "format": "date-time"},
                    "secret": {"type": ["string", "null"]},
                },
            },
            "metadata": [
                {
                    "breadcrumb": [],
                    "metadata": {"schema-name": "public", "table-key-properties": ["id"]},
                }
            ],
        }
    ]
}


def request(**overrides: Any) -> SyncRequest:
    fields: dict[str, Any] = {
        "integration": "shop",
        "state_id": "shop-state",
        "connector": POSTGRES,
        "config": {"host": "h", "user": "u", "password": "p", "database": "d"},
        "start_date": "2024-01-01T00:00:00Z",
        "destination": WAREHOUSE,
        "streams": [EVENTS],
        "catalog": DISCOVERED,
    }
    fields.update(overrides)
    return SyncRequest(**fields)


def test_a_first_or_full_load_of_postgres_into_postgres_goes_table_to_table():
    (load,) = plan(request(), {})
    assert (load.source_schema, load.source_table) == ("public", "events")
    assert (load.target_schema, load.target_table) == ("shop", "events")
    assert load.columns == ("id", "updated_at")  # the excluded column is not copied
    assert list(load.schema["properties"]) == ["id", "updated_at"]
    assert load.key == ("id",)
    # A full refresh copies whatever the bookmark says.
    assert plan(request(full_refresh=True), {"public-events": {"replication_key_value": "x"}})


@pytest.mark.parametrize(
    ("overrides", "bookmarks", "reason"),
    [
        ({}, {"public-events": {"replication_key_value": "2024"}}, "continues from its bookmark"),
        ({}, None, "continues from its bookmark"),  # the state not read yet
        ({"message_format": "records"}, {}, "message format is records"),
        ({"message_format": "batch"}, {}, "message format is batch"),
        ({"windows": [("2024-01-01", "a", "b")]}, {}, "partition run"),
        (
            {"streams": [StreamSelection("public-events", hashed_columns=("id",))]},
            {},
            "hashed record by record",
        ),
        (
            {"destination": built_in_target("jsonl", CATALOG, None)},
            {},
            "do not copy table to table",
        ),
        ({"catalog": None}, {}, "never discovered"),
        ({"streams": [StreamSelection("public-gone")]}, {}, "not in the stored discovery"),
    ],
)
def test_anything_else_keeps_the_singer_path_and_says_why(overrides, bookmarks, reason):
    with pytest.raises(NotApplicable, match=reason):
        plan(request(**overrides), bookmarks)


def test_eligibility_does_not_need_the_discovery():
    check_eligible(request(catalog=None), {})  # the sync discovers once, then copies


def test_columns_are_cast_to_the_destination_types():
    assert _cast("id", "bigint", "bigint") == '"id"'
    assert _cast("at", "timestamp with time zone", "timestamp without time zone") == (
        '"at"::timestamp without time zone'
    )
    assert _cast("tags", "text[]", "jsonb") == 'to_jsonb("tags")::jsonb'
    # Floats through their shortest exact text, as JSON writes them.
    assert _cast("r", "double precision", "numeric") == '"r"::double precision::text::numeric'
    assert _cast('we"ird', "integer", "bigint") == '"we""ird"::bigint'


def test_bookmarks_are_written_as_the_tap_writes_them():
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert _bookmark_value(moment) == "2024-01-02T01:04:05.000000+00:00"
    assert _bookmark_value(datetime(2024, 1, 2)) == "2024-01-02T00:00:00.000000+00:00"
    assert _bookmark_value(datetime(2024, 1, 2).date()) == "2024-01-02"
    assert _bookmark_value(42) == 42


def test_the_pipe_counts_rows_and_passes_every_byte_on():
    read_end, write_end = os.pipe()
    counted: list[int] = []
    pipe = _CountingPipe(write_end, counted.append)
    rows = [f"{i}\tx\\ny\n".encode() for i in range(5000)]
    for row in rows:
        pipe.write(row)
    pipe.flush()
    pipe.file.close()
    with os.fdopen(read_end, "rb") as reader:
        assert reader.read() == b"".join(rows)
    assert pipe.rows == sum(counted) == 5000


def test_batch_files_where_both_sides_read_them(tmp_path: Path):
    environ = {
        "INTEGRATIONS_HOME": str(tmp_path),
        "INTEGRATIONS_WAREHOUSE_URL": "postgresql://u:pw@h:5432/wh",
    }
    settings = Settings.from_env(environ)
    prepared = prepare_sync(request(), settings, environ, tmp_path)
    assert prepared.message_format.batch
    config = prepared.env[env_var("tap-postgres", "batch_config")]
    assert (tmp_path / "batches").as_uri() in config and '"gzip"' in config
    assert prepared.env[env_var("target-postgres", "use_copy")] == "true"

    into_files = prepare_sync(
        request(destination=built_in_target("jsonl", CATALOG, None)), settings, environ, tmp_path
    )
    assert not into_files.message_format.batch
    assert env_var("tap-postgres", "batch_config") not in into_files.env
    hashed = [StreamSelection("public-events", hashed_columns=("secret",))]
    assert not choose_format("auto", POSTGRES.extractor, LOADER, hashed, windowed=False).batch
    assert not choose_format("auto", POSTGRES.extractor, LOADER, [EVENTS], windowed=True).batch
    assert not choose_format("records", POSTGRES.extractor, LOADER, [EVENTS], windowed=False).batch


def test_batch_is_refused_where_it_cannot_work():
    errors: dict[str, str] = {}
    check_message_format("batch", errors, SALESFORCE, LOADER, "postgres", [EVENTS])
    assert "cannot write batch files" in errors["message_format"]
    errors.clear()
    assert check_message_format(None, errors, POSTGRES, LOADER, "postgres", [EVENTS]) == "auto"
    assert check_message_format("batch", errors, POSTGRES, LOADER, "postgres", [EVENTS]) == "batch"
    assert not errors
