"""The s3 destination (plinxore-target-s3): a real PostgreSQL source synced through Dagster
into Parquet objects of a bucket on a local S3 emulator (moto, checking every request's
signature), read back with pyarrow; its connection test with the right key, a missing
bucket and a wrong secret; the secret key in no event, log or file the platform writes."""

import io
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tests.conftest import START
from tests.integration.helpers import (
    ORDERS,
    add_new_orders,
    integration_assets,
    materialize,
    rows_by_asset,
    source_config,
)
from tests.s3_emulator import S3Emulator

pytestmark = pytest.mark.usefixtures("meltano_plugins")

BUCKET = "lake"
STREAM_PREFIX = "raw/shop/public-orders/"  # PREFIX/INTEGRATION/STREAM/


def _settings(s3: S3Emulator, **overrides: Any) -> dict[str, Any]:
    return {
        "cloud_provider.aws.aws_bucket": BUCKET,
        "prefix": "raw",
        "cloud_provider.aws.aws_region": s3.region,
        "cloud_provider.aws.aws_endpoint_override": s3.url,
        "cloud_provider.aws.aws_access_key_id": s3.access_key_id,
        "cloud_provider.aws.aws_secret_access_key": s3.secret_access_key,
        **overrides,
    }


def _objects(s3: S3Emulator) -> list[str]:
    listed = s3.client().list_objects_v2(Bucket=BUCKET, Prefix="raw/")
    return sorted(o["Key"] for o in listed.get("Contents", []))


def _parquet_rows(s3: S3Emulator, key: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    body = s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return pq.read_table(io.BytesIO(body)).to_pylist()


def _everything_written(roots: list[Path], instance: Any, run_ids: list[str]) -> str:
    """The runs' event logs, and every file under ``roots`` (the platform's home, where
    the runs' logs are, and Dagster's, where the compute logs are)."""
    events = "\n".join(
        str(record.event_log_entry)
        for run_id in run_ids
        for record in instance.get_records_for_run(run_id).records
    )
    files = "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for root in roots
        for path in root.rglob("*")
        if path.is_file()
    )
    return events + files


def test_postgres_rows_land_as_parquet_in_a_bucket(
    platform, source_url, dagster_home, s3_emulator: S3Emulator, canary: str
):
    s3 = s3_emulator
    secret = s3.secret_access_key  # moto's own, random: the canary of this test
    s3.client().create_bucket(Bucket=BUCKET)
    service = platform.service
    view = service.add_destination("s3", "lake", _settings(s3))
    assert view.secrets == {
        "cloud_provider.aws.aws_access_key_id": True,
        "cloud_provider.aws.aws_secret_access_key": True,
    }
    assert secret not in str(view.as_dict())

    tested = service.test_destination("lake")
    assert tested.ok, tested.as_dict()
    assert tested.details["check"] == "s3" and BUCKET in tested.message

    missing = service.test_destination(
        connector_id="s3", config=_settings(s3, **{"cloud_provider.aws.aws_bucket": "no-such"})
    )
    assert not missing.ok and missing.reason == "configuration", missing.as_dict()
    assert "NoSuchBucket" in missing.message and secret not in str(missing.as_dict())

    refused = service.test_destination(
        connector_id="s3",
        config=_settings(s3, **{"cloud_provider.aws.aws_secret_access_key": canary}),
    )
    assert not refused.ok and refused.reason == "authentication", refused.as_dict()
    assert canary not in str(refused.as_dict()) and secret not in str(refused.as_dict())
    assert _objects(s3) == []  # the connection tests left nothing behind

    service.add(
        "postgres",
        "shop",
        source_config(source_url),
        streams=["public-orders:updated_at"],
        destination="lake",
        start_date=START,
    )
    metadata = integration_assets(platform, "shop").metadata_by_key[
        dg.AssetKey(["shop", "public_orders"])
    ]
    assert metadata["dagster/table_name"] == "shop/public-orders/"

    with platform.dagster_instance(dagster_home) as instance:
        first = materialize(platform, "shop", instance)
        assert rows_by_asset(first) == {"public_orders": ORDERS}
        [first_key] = _objects(s3)
        assert first_key.startswith(STREAM_PREFIX) and first_key.endswith(".parquet")
        rows = _parquet_rows(s3, first_key)
        assert [r["id"] for r in rows] == list(range(1, ORDERS + 1))
        assert float(rows[9]["amount"]) == 15.0 and rows[9]["note"] == "order 10"

        add_new_orders(source_url)
        second = materialize(platform, "shop", instance)
        assert rows_by_asset(second)["public_orders"] in (10, 11)
        # A new object with the rows at or after the bookmark; the first one is kept.
        keys = _objects(s3)
        assert len(keys) == 2 and first_key in keys, keys
        [second_key] = [k for k in keys if k != first_key]
        new_ids = [r["id"] for r in _parquet_rows(s3, second_key)]
        assert new_ids[-10:] == list(range(251, 261))
        assert set(new_ids) <= {ORDERS, *range(251, 261)}

        written = _everything_written(
            [platform.home, dagster_home], instance, [first.run_id, second.run_id]
        )
    assert "public-orders" in written  # the logs were read
    assert secret not in written
