"""The csv destination (meltanolabs-target-csv): a real PostgreSQL source synced through
Dagster into CSV files in a folder, configured and tested from the CLI; a second,
incremental sync writes a new file with only the new rows and leaves the first alone."""

import csv
import json
import os
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from integrations_platform.cli import main
from tests.conftest import START
from tests.integration.helpers import (
    ORDERS,
    add_new_orders,
    integration_assets,
    materialize,
    rows_by_asset,
    source_config,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=dict(os.environ))
    return result.exit_code, result.output


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("public-orders-*.csv"))


def test_postgres_rows_land_in_csv_files_one_per_sync(platform, source_url, dagster_home, tmp_path):
    exports = tmp_path / "exports"
    settings = tmp_path / "csv.json"
    settings.write_text(json.dumps({"output_path": str(exports)}), encoding="utf-8")

    code, output = _cli("destinations", "add", "exports", "--connector", "csv", "--config",
                        str(settings))  # fmt: skip
    assert code == 0, output
    code, output = _cli("destinations", "test", "exports", "--json")
    assert code == 0, output
    tested = json.loads(output)
    assert tested["ok"] and tested["details"]["check"] == "folder", tested

    platform.service.add(
        "postgres",
        "shop",
        source_config(source_url),
        streams=["public-orders:updated_at"],
        destination="exports",
        start_date=START,
    )
    key = dg.AssetKey(["shop", "public_orders"])
    metadata = integration_assets(platform, "shop").metadata_by_key[key]
    assert metadata["dagster/table_name"] == "shop/public-orders-*.csv"
    assert metadata["destination"] == "exports"

    folder = exports / "shop"  # the integration's own subfolder
    with platform.dagster_instance(dagster_home) as instance:
        first = materialize(platform, "shop", instance)
        assert rows_by_asset(first) == {"public_orders": ORDERS}
        [first_file] = _files(folder)
        rows = _read(first_file)
        assert [int(r["id"]) for r in rows] == list(range(1, ORDERS + 1))
        assert set(rows[0]) == {"id", "updated_at", "amount", "note"}
        assert float(rows[9]["amount"]) == 15.0 and rows[9]["note"] == "order 10"
        first_text = first_file.read_text(encoding="utf-8")

        add_new_orders(source_url)
        second = materialize(platform, "shop", instance)

    # Incremental: the second sync writes a file of its own with the rows at or after
    # the bookmark (the SDK re-reads the bookmark row); the first file is untouched.
    assert rows_by_asset(second)["public_orders"] in (10, 11)
    files = _files(folder)
    assert len(files) == 2 and files[0] == first_file, files
    assert first_file.read_text(encoding="utf-8") == first_text
    new_ids = [int(r["id"]) for r in _read(files[1])]
    assert new_ids[-10:] == list(range(251, 261)) and set(new_ids) <= {ORDERS, *range(251, 261)}
    # Only the integration's folder was written (the connection test removed its file).
    assert {p.name for p in exports.iterdir()} == {"shop"}
    assert sorted(p.name for p in folder.iterdir()) == [f.name for f in files]
