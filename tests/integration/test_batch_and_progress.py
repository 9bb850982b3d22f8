"""Batch messages and progress, with real tap-postgres, target-postgres and target-jsonl.

The batch path must load exactly what the record path loads, on every column type the
PostgreSQL destination takes; a long sync reports its rows so far in the run log and
through the API while it runs.
"""

import os
import re
import threading

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from integrations_platform.api.app import create_app
from integrations_platform.integration import StreamSelection
from integrations_platform.keys import state_id
from integrations_platform.runner.state import get_state
from tests.conftest import START
from tests.integration.helpers import materialize, rows_by_asset, source_config, wait_for

pytestmark = pytest.mark.usefixtures("meltano_plugins")

COLUMNS = (
    "id, small, whole, price, ratio, flag, label, code, born, seen, updated_at, doc, tags, token"
)


@pytest.fixture
def typed_source(postgres_database):
    """A table with every column type the PostgreSQL destination supports, NULLs in
    every nullable column of some rows, and awkward text."""
    engine = sa.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE public.things (id bigint PRIMARY KEY, small smallint, "
                "whole integer, price numeric(14,4), ratio double precision, flag boolean, "
                "label text, code varchar(12), born date, seen timestamp, "
                "updated_at timestamptz NOT NULL, doc jsonb, tags text[], token uuid, "
                "private text)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO public.things SELECT g, (g % 300)::smallint, g * 1000, "
                "g * 1.2345, g / 7.0, g % 2 = 0, "
                "CASE g % 4 WHEN 0 THEN 'ünïcødé ✓ 中文 🚀' WHEN 1 THEN E'quote '' "
                "back\\\\slash\\nnewline\\ttab' WHEN 2 THEN '' ELSE 'plain ' || g END, "
                "'c' || g, date '2020-02-29' + g, timestamp '2024-01-01 12:34:56.789' + "
                "g * interval '1 minute', "
                f"timestamptz '{START}' + g * interval '1 second', "
                "jsonb_build_object('n', g, 'nested', jsonb_build_array(g, 'x')), "
                "ARRAY['a' || g, 'b'], md5(g::text)::uuid, 'secret ' || g "
                "FROM generate_series(1, 1200) AS g"
            )
        )
        # Every nullable column NULL in some rows.
        conn.execute(
            sa.text(
                "UPDATE public.things SET small = NULL, whole = NULL, price = NULL, "
                "ratio = NULL, flag = NULL, label = NULL, code = NULL, born = NULL, "
                "seen = NULL, doc = NULL, tags = NULL, token = NULL WHERE id % 97 = 0"
            )
        )
    engine.dispose()
    return postgres_database


def _loaded(url: str, schema: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            columns = (
                conn.execute(
                    sa.text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = :s AND table_name = 'things' "
                        "AND column_name NOT LIKE '\\_sdc\\_%' ORDER BY column_name"
                    ),
                    {"s": schema},
                )
                .scalars()
                .all()
            )
            assert "private" not in columns  # the excluded column is not synced
            assert set(COLUMNS.replace(" ", "").split(",")) == set(columns)
            return [
                tuple(row)
                for row in conn.execute(
                    sa.text(f'SELECT {COLUMNS} FROM "{schema}".things ORDER BY id')
                )
            ]
    finally:
        engine.dispose()


def _batch_files(platform) -> list:  # noqa: ANN001
    return sorted((platform.home / "runs").rglob("batch-*"))


def test_batch_files_load_the_same_rows_as_records(
    platform, typed_source, warehouse_url, dagster_home
):
    stream = StreamSelection("public-things", "updated_at", excluded_columns=("private",))
    paths = (("by_record", "records"), ("in_batches", "batch"), ("by_copy", "auto"))
    for name, message_format in paths:
        platform.service.add(
            "postgres",
            name,
            source_config(typed_source),
            streams=[stream],
            destination="postgres",
            start_date=START,
            message_format=message_format,
        )
    with platform.dagster_instance(dagster_home) as instance:
        results = {name: materialize(platform, name, instance) for name, _ in paths}
        logs = {
            name: "\n".join(
                e.message for e in instance.all_logs(result.run_id) if e.message is not None
            )
            for name, result in results.items()
        }
    assert "Sending records (the integration's setting)" in logs["by_record"]
    assert "Sending batch files of up to 50,000 rows" in logs["in_batches"]
    assert "Full load by COPY, table to table: public-things" in logs["by_copy"]
    assert "Sending" not in logs["by_copy"]  # no Singer pipeline at all
    for name, _ in paths:
        assert rows_by_asset(results[name]) == {"public_things": 1200}

    by_record = _loaded(warehouse_url, "by_record")
    assert len(by_record) == 1200
    for other in ("in_batches", "by_copy"):
        for expected, actual in zip(by_record, _loaded(warehouse_url, other), strict=True):
            assert actual == expected, other
    in_batches = _loaded(warehouse_url, "in_batches")
    nulls = [row for row in in_batches if row[0] % 97 == 0]
    assert nulls and all(value is None for row in nulls for value in row[1:10])
    assert {row[6] for row in in_batches} >= {
        "ünïcødé ✓ 中文 🚀",
        "quote ' back\\slash\nnewline\ttab",
    }

    # The same bookmark either way, and no batch file left behind.
    bookmarks = [
        get_state(platform.settings, os.environ, state_id(name, platform.service.get(name).id))
        for name, _ in paths
    ]
    assert bookmarks[0]["bookmarks"]["public-things"]["replication_key_value"]
    assert bookmarks[0]["bookmarks"] == bookmarks[1]["bookmarks"] == bookmarks[2]["bookmarks"]
    assert _batch_files(platform) == []


def test_batch_is_refused_where_it_cannot_work(platform, typed_source):
    from integrations_platform.errors import ConfigurationError

    config = source_config(typed_source)
    with pytest.raises(ConfigurationError) as into_files:
        platform.service.add(
            "postgres", "x", config, streams=["public-things"], message_format="batch"
        )
    assert (
        "jsonl destination cannot read batch files"
        in into_files.value.field_errors["message_format"]
    )
    hashed = StreamSelection("public-things", hashed_columns=("label",))
    with pytest.raises(ConfigurationError) as hashing:
        platform.service.add(
            "postgres",
            "x",
            config,
            streams=[hashed],
            destination="postgres",
            message_format="batch",
        )
    assert "hash columns" in hashing.value.field_errors["message_format"]
    with pytest.raises(ConfigurationError) as unknown:
        platform.service.add(
            "postgres", "x", config, streams=["public-things"], message_format="arrow"
        )
    assert "choose one of auto" in unknown.value.field_errors["message_format"]
    assert platform.service.list_integrations() == []


PROGRESS = re.compile(r"Progress: ([\d,]+) rows in (\d+) s \(([\d,]+) rows/s\): public-events ")


def test_a_long_sync_reports_progress_in_its_log_and_through_the_api(
    platform, postgres_database, dagster_home
):
    engine = sa.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE public.events (id bigint PRIMARY KEY, "
                "updated_at timestamptz NOT NULL, payload text)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO public.events SELECT g, "
                f"timestamptz '{START}' + g * interval '1 second', repeat('x', 200) "
                "FROM generate_series(1, 150000) AS g"
            )
        )
    engine.dispose()
    platform.service.add(
        "postgres",
        "shop",
        source_config(postgres_database),
        streams=["public-events:updated_at"],
        start_date=START,
    )
    seen: list[dict] = []
    listed: list[dict] = []
    with platform.dagster_instance(dagster_home) as instance:
        app = create_app(platform.settings, environ=dict(os.environ), api_token="token")
        with TestClient(app, headers={"Authorization": "Bearer token"}) as client:
            outcome: dict = {}
            run = threading.Thread(
                target=lambda: outcome.update(result=materialize(platform, "shop", instance))
            )
            run.start()

            def progress_shown() -> bool:
                runs = client.get("/api/v1/integrations/shop/runs").json()
                if runs and runs[0]["status"] == "STARTED" and runs[0]["progress"]:
                    seen.append(runs[0]["progress"])
                status = client.get("/api/v1/integrations").json()[0]["status"]
                if status and status["last_run"] and status["last_run"]["progress"]:
                    listed.append(status["last_run"]["progress"])  # the installed list's
                return len(seen) >= 2 and seen[-1]["total"] > seen[0]["total"] > 0 and listed

            wait_for(progress_shown, 240, "two progress reports through the API")
            run.join(300)
            after = client.get("/api/v1/integrations/shop/runs").json()[0]
        assert outcome["result"].success
        events = [e for e in instance.all_logs(outcome["result"].run_id) if e.message is not None]
    assert after["status"] == "SUCCESS" and after["progress"] is None
    assert after["row_counts"] == {"public-events": 150000}
    assert seen[-1]["rows"]["public-events"] == seen[-1]["total"]
    assert seen[-1]["rows_per_s"] > 0

    reports = [(e.timestamp, PROGRESS.search(e.message)) for e in events]
    reports = [(t, m) for t, m in reports if m]
    assert len(reports) >= 2, [e.message for e in events][-20:]
    totals = [int(m.group(1).replace(",", "")) for _, m in reports]
    assert totals == sorted(totals) and totals[-1] > 0
    # At least every 10 s from the first report to the end of the sync's step (after it,
    # Dagster may take its time to close the run's captured logs).
    finished = next(e for e in events if e.message.startswith("Finished execution of step"))
    times = [t for t, _ in reports] + [finished.timestamp]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps) < 10, gaps
