"""Configured destinations: a PostgreSQL destination set up through the service (its
password the canary), a MySQL integration that loads into it, synced through Dagster;
its connection test telling the failures apart; edits that fail changing nothing; a
destination in use kept; keys rotated over destinations too."""

import os
import uuid

import dagster as dg
import pytest
import sqlalchemy as sa

from integrations_platform.errors import (
    ConfigurationError,
    DecryptionError,
    DestinationInUseError,
)
from integrations_platform.settings import PROJECT_ROOT
from integrations_platform.store import KeyRing, generate_key
from integrations_platform.store.destinations import get_destination
from tests.conftest import START, fresh_postgres_database
from tests.integration.helpers import files_containing, free_port, materialize, rows_by_asset
from tests.integration.test_mysql_sync import (  # noqa: F401 (fixtures used by name)
    ORDERS,
    mysql_database,
    source,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")


def destination_config(url: str, password: str, **overrides: object) -> dict[str, object]:
    parsed = sa.engine.make_url(url)
    config: dict[str, object] = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": password,  # trust auth: any password logs in
        "database": parsed.database,
    }
    config.update(overrides)
    return config


def test_mysql_loads_into_a_configured_postgres_destination(
    platform,
    source,  # noqa: F811
    canary,
    dagster_home,
):
    with fresh_postgres_database() as url:
        service = platform.service
        service.add_destination("postgres", "warehouse", destination_config(url, canary))
        tested = service.test_destination("warehouse")
        assert tested.ok, tested.message
        assert "may create schemas" in tested.message

        service.add(
            "mysql",
            "shop",
            source.config(),
            streams=[f"{source.stream}:updated_at"],
            start_date=START,
            destination="warehouse",
        )
        assert service.get("shop").destination_connector == "postgres"
        assert service.show_destination("warehouse").used_by == ("shop",)
        with platform.dagster_instance(dagster_home) as instance:
            result = materialize(platform, "shop", instance)
            records = instance.all_logs(result.run_id)
            event_log = "\n".join(dg.serialize_value(r) for r in records)
        assert rows_by_asset(result) == {source.asset: ORDERS}

        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT id, note FROM shop.orders ORDER BY id")).all()
        finally:
            engine.dispose()
        assert [r.id for r in rows] == list(range(1, ORDERS + 1))
        assert rows[4].note == "order 5"

        # The run says where it loaded, by the destination's name and connector.
        assert "warehouse, PostgreSQL)" in event_log
        assert canary not in event_log
        for root in (dagster_home, platform.home, PROJECT_ROOT / "meltano"):
            assert files_containing(root, canary) == [], root

        # In use: not removed. A failing edit changes nothing.
        with pytest.raises(DestinationInUseError, match="shop"):
            service.remove_destination("warehouse")
        before = get_destination(service.store, "warehouse")
        with pytest.raises(ConfigurationError) as info:
            service.update_destination("warehouse", {"port": "not a port", "host": "elsewhere"})
        assert set(info.value.field_errors) == {"port"}
        after = get_destination(service.store, "warehouse")
        assert after.sealed.ciphertext == before.sealed.ciphertext
        assert after.version == before.version
        assert canary.encode() not in after.sealed.ciphertext

        # The view never shows the password; a blank one keeps it.
        view = service.update_destination("warehouse", {"password": "", "port": 5432})
        assert view.secrets == {"password": True}
        assert canary not in repr(view.as_dict())
        assert service.test_destination("warehouse").ok

        service.update("shop", destination="jsonl")
        service.remove_destination("warehouse")
        assert [d.name for d in service.list_destinations()] == ["jsonl", "postgres"]


def test_the_destination_test_tells_the_failures_apart(platform, canary, postgres_database):
    service = platform.service
    good = destination_config(postgres_database, canary)
    role = f"it_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(sa.text(f'REVOKE CREATE ON DATABASE "{good["database"]}" FROM PUBLIC'))
    try:
        cases = {
            "ok": good,
            "configuration": {**good, "database": f"missing_{uuid.uuid4().hex[:8]}"},
            "network": {**good, "port": free_port()},
            "permission": {**good, "user": role},
        }
        results = {
            reason: service.test_destination(connector_id="postgres", config=config)
            for reason, config in cases.items()
        }
        missing = service.test_destination(connector_id="postgres", config={"host": "h"})
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()

    for reason, result in results.items():
        assert result.reason == reason, (reason, result.message)
        assert canary not in result.message + result.hint + repr(result.details)
    assert results["ok"].ok
    assert "may not create schemas" in results["permission"].message
    assert missing.reason == "configuration"
    assert set(missing.details["field_errors"]) == {"user", "password", "database"}


def test_destinations_are_encrypted_and_rotated_with_the_keys(platform, canary, monkeypatch):
    service = platform.service
    service.add_destination(
        "postgres",
        "warehouse",
        {"host": "db.example.test", "user": "loader", "password": canary, "database": "dw"},
    )
    stored = get_destination(service.store, "warehouse")
    assert canary.encode() not in stored.sealed.ciphertext
    old_key = os.environ["INTEGRATIONS_ENCRYPTION_KEYS"]

    new_key = generate_key()
    monkeypatch.setenv("INTEGRATIONS_ENCRYPTION_KEYS", f"{new_key},{old_key}")
    rotation = service.rotate_keys()
    assert rotation.rotated >= 1 and rotation.unreadable == ()

    monkeypatch.setenv("INTEGRATIONS_ENCRYPTION_KEYS", new_key)
    target = service.target("warehouse")
    assert target.config["password"] == canary
    assert get_destination(service.store, "warehouse").sealed.key_fingerprint == (
        KeyRing.from_value(new_key).primary_fingerprint
    )
    # A row copied onto another destination does not decrypt there.
    rotated = get_destination(service.store, "warehouse").sealed.ciphertext
    with pytest.raises(DecryptionError, match="belongs to another"):
        KeyRing.from_value(new_key).decrypt("destination:other", "destination other", rotated)
