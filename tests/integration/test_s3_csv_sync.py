"""The S3 CSV source (tap-spreadsheets reading s3:// through s3fs): real syncs from a
local S3 emulator (moto in server mode, tests/s3_emulator.py) that checks the signature
of every request, through Dagster into the embedded destination. The access key and its
secret (moto's own, new per test: the canaries) are never written anywhere."""

import json
import os
import time
from typing import Any

import dagster as dg
import pytest

from integrations_platform.runner import connection_test as ct
from integrations_platform.settings import PROJECT_ROOT
from tests.conftest import START
from tests.integration.helpers import (
    files_containing,
    free_port,
    jsonl_rows,
    materialize,
    rows_by_asset,
)
from tests.s3_emulator import S3Emulator

pytestmark = pytest.mark.usefixtures("meltano_plugins")

BUCKET = "exports"
HEADER = "id,name,amount\n"
STREAMS = ["customers:_sdc_last_modified"]


def customer(n: int, name: str | None = None) -> str:
    return f"{n},{name or f'customer {n}'},{n * 1.5}\n"


def s3_config(s3: S3Emulator, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "access_key_id": s3.access_key_id,
        "secret_access_key": s3.secret_access_key,
        "endpoint_url": s3.url,
        "files": [
            {
                "table_name": "customers",
                "path": f"s3://{BUCKET}/crm/customers_*.csv",
                "format": "csv",
                "primary_keys": ["id"],
                "schema_overrides": {
                    "id": {"type": ["integer"]},
                    "amount": {"type": ["number", "null"]},
                },
            }
        ],
    }
    config.update(overrides)
    return config


@pytest.fixture
def s3(s3_emulator: S3Emulator) -> S3Emulator:
    """The bucket: two files of customers under crm/, and objects no stream matches."""
    s3_emulator.client().create_bucket(Bucket=BUCKET)
    s3_emulator.put(BUCKET, "crm/customers_1.csv", HEADER + "".join(customer(n) for n in (1, 2, 3)))
    s3_emulator.put(BUCKET, "crm/customers_2.csv", HEADER + customer(4) + customer(5))
    s3_emulator.put(BUCKET, "crm/notes.txt", "not data")
    s3_emulator.put(BUCKET, "billing/customers_9.csv", HEADER + customer(9))
    return s3_emulator


def event_log(instance: dg.DagsterInstance, *run_ids: str) -> str:
    """Every Dagster event of the runs (the sync's log lines among them), serialized."""
    return "\n".join(dg.serialize_value(r) for run in run_ids for r in instance.all_logs(run))


def next_second() -> None:
    """S3 keeps a last-modified time to the second: a write after this one is newer
    than every write before it."""
    time.sleep(1.05 - (time.time() % 1))


def test_s3_csv_syncs_then_only_changed_objects_and_the_keys_stay_hidden(
    platform: Any, s3: S3Emulator, dagster_home: Any
) -> None:
    platform.service.add("s3_csv", "crm_files", s3_config(s3), streams=STREAMS, start_date=START)
    with platform.dagster_instance(dagster_home) as instance:
        first = materialize(platform, "crm_files", instance)
        assert rows_by_asset(first) == {"customers": 5}
        rows = jsonl_rows(platform, "crm_files", "customers")
        assert [r["id"] for r in rows] == [1, 2, 3, 4, 5]
        assert rows[2]["name"] == "customer 3" and rows[2]["amount"] == 4.5
        assert rows[0]["_sdc_filename"] == f"s3://{BUCKET}/crm/customers_1.csv"

        # An object replaced (customer 4 renamed, customer 6 added) and a new one;
        # customers_1.csv stays as it was.
        next_second()
        replaced = HEADER + customer(4, "renamed 4") + customer(5) + customer(6)
        s3.put(BUCKET, "crm/customers_2.csv", replaced)
        s3.put(BUCKET, "crm/customers_3.csv", HEADER + customer(7))
        second = materialize(platform, "crm_files", instance)
        written = event_log(instance, first.run_id, second.run_id)

    assert rows_by_asset(second) == {"customers": 4}  # the replaced object and the new one
    rows = jsonl_rows(platform, "crm_files", "customers")
    assert sorted(r["id"] for r in rows) == [1, 2, 3, 4, 5, 6, 7]  # one row per id
    assert {r["id"]: r["name"] for r in rows}[4] == "renamed 4"

    for secret in (s3.secret_access_key, s3.access_key_id):
        assert secret not in written
        for root in (dagster_home, platform.home, PROJECT_ROOT / "meltano"):
            assert files_containing(root, secret) == [], root


def test_a_wrong_secret_is_refused_by_the_signature_check_and_never_written(
    platform: Any, s3: S3Emulator, canary: str, dagster_home: Any
) -> None:
    wrong = canary
    config = s3_config(s3, secret_access_key=wrong)
    platform.service.add("s3_csv", "crm_files", config, streams=STREAMS, start_date=START)
    with platform.dagster_instance(dagster_home) as instance:
        result = materialize(platform, "crm_files", instance, raise_on_error=False)
        assert not result.success
        written = event_log(instance, result.run_id)
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "the run failed without a step failure"
    assert "signature" in written.lower()  # the emulator's refusal, as S3 words it
    assert jsonl_rows(platform, "crm_files", "customers") == []
    assert wrong not in written and s3.access_key_id not in written
    for root in (dagster_home, platform.home):
        assert files_containing(root, wrong) == [], root


def test_s3_csv_connection_test_tells_ok_wrong_secret_and_closed_port_apart(
    platform: Any, s3: S3Emulator, canary: str
) -> None:
    connector = platform.catalog.get("s3_csv")
    wrong = canary

    def test(config: dict[str, Any]) -> ct.ConnectionTestResult:
        return ct.test_connection(connector, config, platform.settings, dict(os.environ))

    ok = test(s3_config(s3))
    refused = test(s3_config(s3, secret_access_key=wrong))
    closed = test(s3_config(s3, endpoint_url=f"http://127.0.0.1:{free_port()}"))

    assert ok.ok and ok.reason == "ok", ok.message
    assert ok.details["extractor"] == "tap-spreadsheets-s3"
    # S3 refuses a wrong secret with 403 SignatureDoesNotMatch; the message says so (how
    # the platform's classifier files it is its own business: not pinned here).
    assert not refused.ok, refused.message
    assert "signature" in refused.message.lower(), refused.message
    assert not closed.ok and closed.reason == "network", closed.message
    for result in (ok, refused, closed):
        shown = json.dumps(result.as_dict())
        assert s3.secret_access_key not in shown and wrong not in shown
        assert s3.access_key_id not in shown
    assert files_containing(platform.home, s3.secret_access_key) == []
    assert files_containing(platform.home, wrong) == []
