"""Real tap-postgres from a local PostgreSQL table into real target-postgres."""

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.conftest import START, day
from tests.integration.helpers import (
    add_new_orders,
    assert_stores_where_configured,
    materialize,
    rows_by_asset,
    source_config,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")


def _warehouse_rows(url: str, schema: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tables = (
            conn.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            )
            .scalars()
            .all()
        )
        assert tables == ["orders"], tables
        rows = conn.execute(
            sa.text(f'SELECT id, amount, note FROM "{schema}".orders ORDER BY id')
        ).fetchall()
    engine.dispose()
    return rows


def _assert_covered_partitions_written_at_once(platform, run_id: str) -> None:  # noqa: ANN001
    """The daily partitions a sync covered reached Dagster's PostgreSQL event log in one
    write (rows one statement inserts share its transaction id), not one write each."""
    engine = sa.create_engine(platform.settings.dagster_database_url)
    with engine.connect() as conn:
        writes, marked = conn.execute(
            sa.text(
                "SELECT count(DISTINCT xmin::text), count(*) FROM event_logs "
                "WHERE run_id = :run AND dagster_event_type = 'ASSET_MATERIALIZATION' "
                "AND partition IS NOT NULL"
            ),
            {"run": run_id},
        ).one()
    engine.dispose()
    assert marked > 1 and writes == 1, (marked, writes)


@pytest.mark.parametrize("platform", ["sqlite", "postgres"], indirect=True)
def test_postgres_source_to_postgres_warehouse_incrementally(
    platform, source_url, warehouse_url, dagster_home
):
    platform.service.add(
        "postgres",
        "shop",
        source_config(source_url),
        streams=["public-orders:updated_at"],
        destination="postgres",
        start_date=START,
    )
    with platform.dagster_instance(dagster_home) as instance:
        first = materialize(platform, "shop", instance)
        assert rows_by_asset(first) == {"public_orders": 250}
        rows = _warehouse_rows(warehouse_url, "shop")
        assert [r[0] for r in rows] == list(range(1, 251))
        assert rows[9][1] == pytest.approx(15.0) and rows[9][2] == "order 10"
        if platform.settings.dagster_database_url:
            _assert_covered_partitions_written_at_once(platform, first.run_id)

        add_new_orders(source_url)
        second = materialize(platform, "shop", instance)

    # Incremental: only rows at or after the bookmark (the SDK re-reads the bookmark row).
    assert rows_by_asset(second)["public_orders"] in (10, 11)
    rows = _warehouse_rows(warehouse_url, "shop")
    assert [r[0] for r in rows] == list(range(1, 261))
    assert_stores_where_configured(platform)


def test_postgres_backfill_full_refresh_and_reset(
    platform, source_url, warehouse_url, dagster_home
):

    platform.service.add(
        "postgres",
        "shop",
        source_config(source_url),
        streams=["public-orders:updated_at"],
        destination="postgres",
        start_date=START,
    )
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        # Two days as one run: one hourly order each hour, ids 24..71 (ts = id hours).
        backfill = materialize(platform, "shop", instance, partition_range=(day(1), day(2)))
        materializations = [
            e.step_materialization_data.materialization
            for e in backfill.get_asset_materialization_events()
        ]
        counts = {m.partition: m.metadata["rows"].value for m in materializations}
        assert counts == {day(1): 24, day(2): 24}
        assert [r[0] for r in _warehouse_rows(warehouse_url, "shop")] == list(range(24, 72))

        first = materialize(platform, "shop", instance)  # the bookmark was not moved
        assert rows_by_asset(first) == {"public_orders": 250}
        again = materialize(platform, "shop", instance, full_refresh=True)
        assert rows_by_asset(again) == {"public_orders": 250}
        platform.service.reset_state(
            "shop",
            stream="public-orders",
            actor="tester",
        )
        after_reset = materialize(platform, "shop", instance)
    assert rows_by_asset(after_reset) == {"public_orders": 250}
    # The warehouse table deduplicates on the primary key.
    assert [r[0] for r in _warehouse_rows(warehouse_url, "shop")] == list(range(1, 251))
