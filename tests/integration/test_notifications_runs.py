"""Real failing syncs become classified notifications; a success resolves them."""

import json
import socket

import dagster as dg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from integrations_platform.notifications.sinks.webhook import verify_signature
from integrations_platform.orchestration.sensors import reset_notification_runtime
from integrations_platform.store import generate_key
from tests.conftest import START, salesforce_config
from tests.integration.helpers import materialize
from tests.notification_support import (
    API_URL,
    DAGSTER_UI,
    WEBHOOK_SECRET,
    SensorHarness,
    webhook_receiver,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")

PG_PASSWORD = "trust-auth-accepts-any-password"


@pytest.fixture
def receiver(platform, monkeypatch):
    with webhook_receiver() as hook:
        monkeypatch.setenv("INTEGRATIONS_DAGSTER_URL", DAGSTER_UI)
        monkeypatch.setenv("INTEGRATIONS_API_URL", API_URL)
        monkeypatch.setenv("INTEGRATIONS_WEBHOOK_URLS", hook.url)
        monkeypatch.setenv("INTEGRATIONS_WEBHOOK_SECRET", WEBHOOK_SECRET)
        reset_notification_runtime()
        yield hook
    reset_notification_runtime()


def _snapshots(platform):
    return [s.for_orchestration() for s in platform.service.store.list_all()]


def _rows(platform) -> list[dict]:
    engine = sa.create_engine(platform.settings.database_url)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM notifications"))]
    engine.dispose()
    return rows


def _pg_config(url: str) -> dict:
    parsed = make_url(url)
    return {
        "host": parsed.host,
        "port": parsed.port or 5432,
        "user": parsed.username,
        "password": PG_PASSWORD,
        "database": parsed.database,
        "filter_schemas": ["public"],
    }


def test_real_failures_are_classified_linked_and_free_of_secrets(
    platform, sandbox, canary, postgres_database, dagster_home, receiver, monkeypatch
):
    engine = sa.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE public.orders (id int PRIMARY KEY, at timestamptz)"))
        conn.execute(sa.text("INSERT INTO public.orders VALUES (1, now())"))
    wrong_token = f"{canary}-wrong"
    service = platform.service
    service.add(
        "salesforce",
        "crm_auth",
        salesforce_config(sandbox, refresh_token=wrong_token),
        start_date=START,
    )
    service.add(
        "salesforce",
        "crm_quota",
        salesforce_config(sandbox),
        streams=["Account"],
        start_date=START,
    )
    service.add(
        "postgres",
        "shop_source",
        _pg_config(postgres_database),
        streams=["public-orders:at"],
        start_date=START,
    )
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        monkeypatch.setenv(
            "INTEGRATIONS_WAREHOUSE_URL", f"postgresql://postgres:{canary}@127.0.0.1:{port}/wh"
        )
        service.add(
            "postgres",
            "shop_dest",
            _pg_config(postgres_database),
            streams=["public-orders:at"],
            start_date=START,
            destination="postgres",
        )
        with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
            harness = SensorHarness(instance, _snapshots(platform))
            runs = {"crm_auth": materialize(platform, "crm_auth", instance, raise_on_error=False)}
            sandbox.fail_object("Account", "REQUEST_LIMIT_EXCEEDED")
            runs["crm_quota"] = materialize(platform, "crm_quota", instance, raise_on_error=False)
            runs["shop_dest"] = materialize(platform, "shop_dest", instance, raise_on_error=False)
            with engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE public.orders"))
            runs["shop_source"] = materialize(
                platform, "shop_source", instance, raise_on_error=False
            )
            harness.tick()
    engine.dispose()

    # A selected table that vanished fails the sync (Meltano itself only warns).
    assert not any(r.success for r in runs.values())
    rows = {r["integration"]: r for r in _rows(platform)}
    assert {name: rows[name]["category"] for name in runs} == {
        "crm_auth": "authentication",
        "crm_quota": "rate_limit",
        "shop_dest": "destination",
        "shop_source": "source",
    }
    assert "invalid_grant" in rows["crm_auth"]["message"]
    assert "REQUEST_LIMIT_EXCEEDED" in rows["crm_quota"]["message"]
    assert "Connection refused" in rows["shop_dest"]["message"]
    assert "public-orders" in rows["shop_source"]["message"]
    for name, result in runs.items():
        row = rows[name]
        assert row["status"] == "open" and row["count"] == 1 and row["kind"] == "run_failure"
        assert row["run_id"] == result.run_id
        assert row["run_url"] == f"{DAGSTER_UI}/runs/{result.run_id}"
        assert row["settings_url"] == f"{API_URL}/#/integrations/{name}"
        assert row["action"] and "Execution of step" not in row["message"]
    assert "re-enter the credentials" in rows["crm_auth"]["action"].lower()

    # Every notification went to the webhook once, signed, in the one payload shape.
    payloads = [json.loads(r.body) for r in receiver.accepted]
    assert sorted(p["notification"]["integration"] for p in payloads) == sorted(runs)
    for item in receiver.accepted:
        assert verify_signature(WEBHOOK_SECRET, item.headers, item.body)
        payload = item.json
        assert payload["event"] == "opened" and payload["text"] and payload["blocks"]
        assert set(payload) == {"text", "blocks", "event", "notification"}

    # Canary: neither the secret nor the wrong token appears in any notification or payload.
    stored = json.dumps(list(rows.values()), default=str)
    bodies = b"".join(r.body for r in receiver.received)
    for secret in (canary, wrong_token):
        assert secret not in stored
        assert secret.encode() not in bodies


def test_ten_failures_in_a_row_make_one_notification_and_a_success_resolves_it(
    platform, sandbox, dagster_home, receiver, monkeypatch
):
    platform.service.add(
        "salesforce",
        "crm",
        salesforce_config(sandbox),
        streams=["Account"],
        start_date=START,
    )
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        harness = SensorHarness(instance, _snapshots(platform))
        # A key that cannot decrypt the config: a real failing run that fails fast.
        monkeypatch.setenv("INTEGRATIONS_ENCRYPTION_KEYS", generate_key())
        failed = []
        for attempt in range(10):
            failed.append(materialize(platform, "crm", instance, raise_on_error=False))
            if attempt in (2, 6):
                harness.tick()
        assert not any(r.success for r in failed)
        harness.tick()
        [row] = _rows(platform)
        assert row["status"] == "open" and row["count"] == 10
        assert row["category"] == "configuration"
        assert "cannot be decrypted" in row["message"]
        assert row["run_id"] == failed[-1].run_id
        assert row["first_seen_at"] < row["last_seen_at"]

        monkeypatch.setenv("INTEGRATIONS_ENCRYPTION_KEYS", platform.key)
        good = materialize(platform, "crm", instance)
        harness.tick()
    [row] = _rows(platform)
    assert row["status"] == "resolved" and row["count"] == 10
    assert row["resolved_by"] == f"run {good.run_id} succeeded"
    events = [r.json["event"] for r in receiver.accepted]
    assert events == ["opened", "resolved"]
