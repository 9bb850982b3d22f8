"""The files source (tap-spreadsheets, imported from its own description): CSV files and
an Excel workbook in a local folder, synced through Dagster into the embedded
destination; a later sync reads only the files changed since (by modification time), and
the destination keeps one row per primary key."""

import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import START
from tests.integration.helpers import jsonl_rows, materialize, rows_by_asset

pytestmark = pytest.mark.usefixtures("meltano_plugins")

HEADER = "id,name,amount,signed_up\n"
# An hour before the test: the files the second sync must skip keep this time.
EARLIER = time.time() - 3600


def customer(n: int, name: str | None = None) -> str:
    return f'{n},"{name or f"customer {n}"}",{n * 1.5},2026-01-{n:02d}\n'


def write(path: Path, text: str, mtime: float | None = None) -> Path:
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def write_workbook(path: Path, mtime: float) -> None:
    """orders.xlsx: the sheet "Orders" (4 orders, its header in words) and a sheet no
    stream reads."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["Order ID", "Customer", "Total", "Ordered at"])
    for n in range(1, 5):
        sheet.append([100 + n, n, n * 2.5, datetime(2026, 1, n, 12, 0)])
    book.create_sheet("Notes").append(["not a table"])
    book.save(path)
    os.utime(path, (mtime, mtime))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """exports/: two CSV files of customers (a quoted comma in one name), a workbook of
    orders and a file no stream matches, all last modified an hour ago."""
    exports = tmp_path / "exports"
    exports.mkdir()
    january = HEADER + customer(1) + customer(2, "Doe, Jane") + customer(3)
    write(exports / "customers_2026-01.csv", january, EARLIER)
    february = HEADER + customer(4) + customer(5) + customer(6)
    write(exports / "customers_2026-02.csv", february, EARLIER)
    write(exports / "readme.txt", "not data", EARLIER)
    write_workbook(exports / "orders.xlsx", EARLIER)
    return exports


def files_config(folder: Path) -> dict[str, Any]:
    return {
        "files": [
            {
                "table_name": "customers",
                "path": str(folder / "customers_*.csv"),
                "format": "csv",
                "primary_keys": ["id"],
                "delimiter": ",",
                "schema_overrides": {
                    "id": {"type": ["integer"]},
                    "amount": {"type": ["number", "null"]},
                },
            },
            {
                "table_name": "orders",
                "path": str(folder / "*.xlsx"),
                "format": "excel",
                "worksheet": "Orders",
                "primary_keys": ["order_id"],
            },
        ]
    }


STREAMS = ["customers:_sdc_last_modified", "orders:_sdc_last_modified"]


def test_files_sync_then_only_changed_files_one_row_per_key(
    platform: Any, folder: Path, dagster_home: Path
) -> None:
    platform.service.add(
        "files", "exports", files_config(folder), streams=STREAMS, start_date=START
    )
    with platform.dagster_instance(dagster_home) as instance:
        first = materialize(platform, "exports", instance)
        assert rows_by_asset(first) == {"customers": 6, "orders": 4}
        customers = jsonl_rows(platform, "exports", "customers")
        assert [r["id"] for r in customers] == [1, 2, 3, 4, 5, 6]
        assert customers[1]["name"] == "Doe, Jane"
        assert customers[1]["amount"] == 3.0 and customers[1]["signed_up"] == "2026-01-02"
        assert customers[0]["_sdc_filename"] == str(folder / "customers_2026-01.csv")
        orders = {r["order_id"]: r for r in jsonl_rows(platform, "exports", "orders")}
        assert sorted(orders) == [101, 102, 103, 104]
        assert orders[103]["total"] == 7.5 and orders[103]["customer"] == 3
        assert orders[103]["ordered_at"].startswith("2026-01-03")
        assert orders[103]["_sdc_worksheet"] == "Orders"

        # One file changes (customer 5 renamed, customer 7 added) and a new one comes;
        # the January file and the workbook stay as they were.
        february = HEADER + customer(4) + customer(5, "renamed 5") + customer(6) + customer(7)
        write(folder / "customers_2026-02.csv", february)
        write(folder / "customers_2026-03.csv", HEADER + customer(8))
        second = materialize(platform, "exports", instance)

        # Only the changed and the new file were read, each whole.
        assert rows_by_asset(second).get("customers") == 5
        assert rows_by_asset(second).get("orders", 0) == 0
        customers = jsonl_rows(platform, "exports", "customers")
        assert sorted(r["id"] for r in customers) == list(range(1, 9))  # one row per id
        by_id = {r["id"]: r for r in customers}
        assert by_id[5]["name"] == "renamed 5"
        assert by_id[8]["_sdc_filename"] == str(folder / "customers_2026-03.csv")
        assert len(jsonl_rows(platform, "exports", "orders")) == 4

        # A full refresh reads every file again, and still keeps one row per key.
        third = materialize(platform, "exports", instance, full_refresh=True)
    assert rows_by_asset(third) == {"customers": 8, "orders": 4}
    assert sorted(r["id"] for r in jsonl_rows(platform, "exports", "customers")) == list(
        range(1, 9)
    )


def test_files_discovery_names_streams_by_table_name_with_keys_and_types(
    platform: Any, folder: Path
) -> None:
    platform.service.add(
        "files", "exports", files_config(folder), streams=STREAMS, start_date=START
    )
    discovered = platform.service.discover("exports")

    assert discovered.ok, discovered.outcome
    streams = {s.name: s for s in discovered.discovery.streams}
    assert set(streams) == {"customers", "orders"}
    customers, orders = streams["customers"], streams["orders"]
    assert customers.primary_key == ("id",)
    assert "_sdc_last_modified" in customers.replication_keys
    assert customers.column("id").type == "integer"
    assert customers.column("amount").type == "number"
    assert customers.column("name").type == "string"  # CSV text, untyped
    assert orders.primary_key == ("order_id",)
    assert orders.column("total").type == "number"  # Excel cells keep their types
