"""The encrypted config store, through IntegrationService, on SQLite and PostgreSQL."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from integrations_platform.catalog import Catalog, ConnectorSpec, load_catalog
from integrations_platform.errors import (
    ConcurrentUpdateError,
    ConfigurationError,
    DecryptionError,
    EncryptionKeyError,
    IntegrationExistsError,
    IntegrationNotFoundError,
)
from integrations_platform.integration import Integration
from integrations_platform.service import IntegrationService
from integrations_platform.settings import PROJECT_ROOT
from integrations_platform.store import (
    ConfigStore,
    KeyRing,
    generate_key,
    key_fingerprint,
)

CATALOG_DIR = PROJECT_ROOT / "connector_catalog"
ENV = "INTEGRATIONS_ENCRYPTION_KEYS"

# A connector with an optional secret, to see "not set" in show().
DEMO = ConnectorSpec.model_validate(
    {
        "id": "demo",
        "label": "Demo",
        "category": "Test",
        "description": "A connector with an optional secret.",
        "docs_url": "https://example.com",
        "logo": "logos/salesforce.svg",
        "extractor": {
            "name": "tap-demo",
            "namespace": "tap_demo",
            "pip_url": "tap-demo==1.0.0",
            "executable": "tap-demo",
        },
        "settings": [
            {"name": "account", "label": "Account", "required": True},
            {"name": "password", "label": "Password", "required": True, "secret": True},
            {"name": "api_key", "label": "API key", "secret": True},
        ],
        "streams": [{"name": "things", "primary_key": ["id"]}],
    }
)

SECRET = "sf-client-secret-7f3a9c"
TOKEN = "sf-refresh-token-2b8e41"
SF_CONFIG = {
    "client_id": "sf-client-id-55d0",
    "client_secret": SECRET,
    "refresh_token": TOKEN,
    "instance_url": "https://acme-corp.my.salesforce.com",
    "api_type": "BULK",
}
PG_CONFIG = {
    "host": "warehouse.internal",
    "user": "reader",
    "password": "pg-password-91c2",
    "database": "sales",
}


@dataclass
class Keys:
    """The value INTEGRATIONS_ENCRYPTION_KEYS has for the service; tests change it."""

    value: str


@dataclass
class Env:
    url: str
    store: ConfigStore
    service: IntegrationService
    keys: Keys
    key_a: str
    key_b: str

    def raw(self, name: str) -> tuple[bytes, int]:
        """The row's ciphertext and version, read with plain SQL."""
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT config_ciphertext, version FROM integrations WHERE name = :n"),
                {"n": name},
            ).one()
        return bytes(row[0]), row[1]

    def set_raw_ciphertext(self, name: str, ciphertext: bytes) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE integrations SET config_ciphertext = :c WHERE name = :n"),
                {"c": ciphertext, "n": name},
            )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'integrations.db'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    catalog = load_catalog(CATALOG_DIR)
    catalog = Catalog({**{c.id: c for c in catalog}, "demo": DEMO}, catalog.directory)
    key_a, key_b = generate_key(), generate_key()
    keys = Keys(key_a)
    store = ConfigStore.open(database_url)
    service = IntegrationService(catalog, store, lambda: KeyRing.from_env({ENV: keys.value}))
    yield Env(database_url, store, service, keys, key_a, key_b)
    store.close()


def add_salesforce(env: Env, name: str = "acme_sf", **kwargs: Any) -> None:
    env.service.add("salesforce", name, dict(SF_CONFIG), **kwargs)


# -- migrations ------------------------------------------------------------------------


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from integrations_platform.store.repository import MIGRATIONS_DIR

    return str(ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head())


def test_migrations_are_applied_on_open(env: Env) -> None:
    inspector = sa.inspect(env.store.engine)
    assert inspector.has_table("integrations")
    columns = {c["name"] for c in inspector.get_columns("integrations")}
    assert {"id", "name", "connector", "config_ciphertext", "version", "streams"} <= columns
    with env.store.engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert version == _head_revision()
    assert inspector.has_table("notifications") and inspector.has_table("notification_deliveries")
    assert env.store.list_all() == []


def test_opening_twice_is_fine_and_keeps_the_data(env: Env) -> None:
    add_salesforce(env)
    again = ConfigStore.open(env.url)
    try:
        again.migrate()  # and migrating a third time
        assert [s.name for s in again.list_all()] == ["acme_sf"]
        with again.engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar()
        assert count == 1
    finally:
        again.close()


def test_open_without_migrate_does_not_create_the_table(tmp_path: Path) -> None:
    store = ConfigStore.open(f"sqlite:///{tmp_path / 'bare.db'}", migrate=False)
    try:
        assert not sa.inspect(store.engine).has_table("integrations")
    finally:
        store.close()


# -- round trip ------------------------------------------------------------------------


def test_add_get_list_round_trip(env: Env) -> None:
    view = env.service.add(
        "salesforce",
        "acme_sf",
        dict(SF_CONFIG),
        streams=["Account", "Contact:LastModifiedDate"],
        schedule="*/30 * * * *",
        start_date="2024-02-01",
        description="ACME's org",
    )
    assert view.version == 1
    env.service.add("postgres", "warehouse", dict(PG_CONFIG), streams=["public-orders:id"])

    stored = env.service.get("acme_sf")
    assert isinstance(stored, Integration)
    assert stored.connector == "salesforce"
    assert stored.enabled is True
    assert stored.schedule == "*/30 * * * *"
    assert stored.start_date == "2024-02-01T00:00:00Z"
    assert stored.description == "ACME's org"
    assert stored.stream_names == ["Account", "Contact"]
    assert stored.streams[0].as_dict() == {
        "name": "Account",
        "replication_key": "SystemModstamp",
        "primary_key": ["Id"],
    }
    assert stored.streams[1].replication_key == "LastModifiedDate"
    assert env.service.decrypted_config(stored) == SF_CONFIG
    assert env.service.decrypted_config(env.service.get("warehouse")) == PG_CONFIG

    listed = env.service.list_integrations()
    assert [v.name for v in listed] == ["acme_sf", "warehouse"]
    assert all(v.config is None for v in listed)
    assert [s.name for s in env.store.list_all()] == ["acme_sf", "warehouse"]


def test_listing_needs_no_key(env: Env) -> None:
    add_salesforce(env)
    env.keys.value = ""
    assert [v.name for v in env.service.list_integrations()] == ["acme_sf"]


def test_ciphertext_contains_no_plaintext(env: Env) -> None:
    add_salesforce(env)
    env.service.add("postgres", "warehouse", dict(PG_CONFIG), streams=["public-orders"])
    for name, config in (("acme_sf", SF_CONFIG), ("warehouse", PG_CONFIG)):
        ciphertext, _ = env.raw(name)
        assert ciphertext
        for key, value in config.items():
            assert str(value).encode() not in ciphertext, key
            assert key.encode() not in ciphertext, key
    # No other column holds a secret either.
    with env.store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM integrations")).mappings().all()
    for row in rows:
        clear = json.dumps({k: v for k, v in row.items() if k != "config_ciphertext"}, default=str)
        for secret in (SECRET, TOKEN, PG_CONFIG["password"]):
            assert secret not in clear


# -- keys ------------------------------------------------------------------------------


def test_wrong_key_fails_and_overwrites_nothing(env: Env) -> None:
    add_salesforce(env)
    before = env.raw("acme_sf")
    env.keys.value = env.key_b

    with pytest.raises(DecryptionError) as info:
        env.service.show("acme_sf")
    assert ENV in str(info.value)
    assert "acme_sf" in str(info.value)
    with pytest.raises(DecryptionError, match=ENV):
        env.service.update("acme_sf", {"client_id": "other"})
    with pytest.raises(DecryptionError, match=ENV):
        env.service.update(
            "acme_sf", {"client_secret": "new-secret", "refresh_token": "new-token-value"}
        )
    assert env.raw("acme_sf") == before

    env.keys.value = env.key_a
    assert env.service.decrypted_config(env.service.get("acme_sf")) == SF_CONFIG


def test_missing_key_names_the_variable(env: Env) -> None:
    env.keys.value = ""
    with pytest.raises(EncryptionKeyError, match=ENV):
        add_salesforce(env)
    assert env.store.list_all() == []
    env.keys.value = env.key_a
    add_salesforce(env)
    env.keys.value = " , "
    with pytest.raises(EncryptionKeyError, match=ENV):
        env.service.show("acme_sf")


@pytest.mark.parametrize(
    "bad",
    ["not-a-key", "c2hvcnQ=", "é" * 44, "{good},garbage"],
    ids=["text", "short", "non-ascii", "second-key-bad"],
)
def test_malformed_key(env: Env, bad: str) -> None:
    env.keys.value = bad.replace("{good}", env.key_a)
    with pytest.raises(EncryptionKeyError) as info:
        add_salesforce(env)
    assert ENV in str(info.value)
    assert env.store.list_all() == []


def test_rotation(env: Env) -> None:
    add_salesforce(env, "one")
    env.service.add("postgres", "two", dict(PG_CONFIG), streams=["public-orders"])
    before = {name: env.raw(name) for name in ("one", "two")}

    # B in front, A still there: everything still decrypts.
    env.keys.value = f"{env.key_b},{env.key_a}"
    assert env.service.show("one").secrets == {"client_secret": True, "refresh_token": True}
    assert env.service.decrypted_config(env.service.get("two")) == PG_CONFIG

    assert env.service.rotate_keys().rotated == 2
    for name in ("one", "two"):
        ciphertext, version = env.raw(name)
        assert ciphertext != before[name][0]

    env.keys.value = env.key_b
    assert env.service.decrypted_config(env.service.get("one")) == SF_CONFIG
    assert env.service.decrypted_config(env.service.get("two")) == PG_CONFIG
    env.keys.value = env.key_a
    for name in ("one", "two"):
        with pytest.raises(DecryptionError):
            env.service.decrypted_config(env.service.get(name))

    # Rotating again has nothing left to do.
    env.keys.value = f"{env.key_b},{env.key_a}"
    assert env.service.rotate_keys().rotated == 0


def test_rotation_without_the_old_key_changes_nothing(env: Env) -> None:
    add_salesforce(env, "one")
    before = env.raw("one")
    env.keys.value = env.key_b
    rotation = env.service.rotate_keys()
    assert rotation.rotated == 0 and rotation.unreadable == ("one",)
    assert env.raw("one") == before


def test_rotation_rotates_every_readable_row_and_names_the_unreadable(env: Env) -> None:
    add_salesforce(env, "one")
    add_salesforce(env, "two")
    add_salesforce(env, "three")
    env.set_raw_ciphertext("two", b"tampered")
    tampered = env.raw("two")
    env.keys.value = f"{env.key_b},{env.key_a}"

    rotation = env.service.rotate_keys()

    assert rotation.rotated == 2 and rotation.unreadable == ("two",)
    assert env.raw("two") == tampered
    env.keys.value = env.key_b
    for name in ("one", "three"):
        assert env.service.decrypted_config(env.service.get(name)) == SF_CONFIG
        assert env.service.get(name).sealed.key_fingerprint == key_fingerprint(env.key_b)


def test_rows_record_the_fingerprint_of_their_key(env: Env) -> None:
    add_salesforce(env, "one")
    assert env.service.get("one").sealed.key_fingerprint == key_fingerprint(env.key_a)
    assert env.store.key_fingerprints() == {key_fingerprint(env.key_a): 1}
    # The fingerprint names the key without revealing it.
    assert env.key_a not in key_fingerprint(env.key_a)
    env.keys.value = env.key_b
    with pytest.raises(DecryptionError) as info:
        env.service.show("one")
    assert f"fingerprint is {key_fingerprint(env.key_a)}" in str(info.value)
    assert env.key_a not in str(info.value)


@pytest.mark.parametrize(
    "damage",
    ["tampered", "copied", "wrong_key", "not_a_mapping", "not_json"],
)
def test_an_unreadable_row_is_repaired_in_place_by_a_complete_config(env: Env, damage: str) -> None:
    add_salesforce(env, "one")
    add_salesforce(env, "other")
    original = env.service.get("one")
    ring = KeyRing([env.key_a])
    broken = {
        "tampered": b"gAAAAA-not-a-token",
        "copied": env.raw("other")[0],
        "wrong_key": KeyRing([env.key_b]).encrypt(original.id, SF_CONFIG),
        "not_a_mapping": ring._primary.encrypt(
            json.dumps({"v": 1, "integration_id": original.id, "config": ["x"]}).encode()
        ),
        "not_json": ring._primary.encrypt(b"\xff not json"),
    }[damage]
    env.set_raw_ciphertext("one", broken)
    with pytest.raises(DecryptionError) as info:
        env.service.show("one")
    assert "integrations update one --config FILE" in info.value.instruction

    # Incomplete: refused field by field, and nothing changes.
    with pytest.raises(DecryptionError) as refused:
        env.service.update("one", {"client_id": "new-id", "client_secret": "new-secret-1"})
    assert isinstance(refused.value, ConfigurationError)
    assert set(refused.value.field_errors) == {"refresh_token"}
    assert env.raw("one")[0] == broken

    repaired_config = {**SF_CONFIG, "client_secret": "re-entered-secret"}
    view = env.service.update("one", repaired_config)

    after = env.service.get("one")
    assert (after.id, after.name, after.created_at) == (
        original.id,
        original.name,
        original.created_at,
    )
    assert view.secrets == {"client_secret": True, "refresh_token": True}
    assert env.service.decrypted_config(after) == repaired_config
    assert after.sealed.key_fingerprint == key_fingerprint(env.key_a)


def test_ciphertext_copied_to_another_row_does_not_decrypt(env: Env) -> None:
    add_salesforce(env, "victim")
    env.service.add(
        "salesforce",
        "attacker",
        {**SF_CONFIG, "client_secret": "other-secret", "refresh_token": "other-token"},
    )
    stolen, _ = env.raw("victim")
    env.set_raw_ciphertext("attacker", stolen)

    with pytest.raises(DecryptionError) as info:
        env.service.show("attacker")
    assert "attacker" in str(info.value)
    with pytest.raises(DecryptionError):
        env.service.decrypted_config(env.service.get("attacker"))
    with pytest.raises(DecryptionError):
        env.service.update("attacker", {"client_id": "x"})
    assert env.raw("attacker")[0] == stolen
    # The original row is unaffected.
    assert env.service.decrypted_config(env.service.get("victim")) == SF_CONFIG


# -- updates ---------------------------------------------------------------------------


def test_failing_update_writes_nothing(env: Env) -> None:
    add_salesforce(env)
    before = env.raw("acme_sf")
    with pytest.raises(ConfigurationError) as info:
        env.service.update(
            "acme_sf", {"lookback_window": "one hour", "client_secret": "new-secret"}
        )
    assert set(info.value.field_errors) == {"lookback_window"}
    assert env.raw("acme_sf") == before
    with pytest.raises(ConfigurationError) as info:
        env.service.update("acme_sf", {"client_secret": "new-secret"}, schedule="every hour")
    assert set(info.value.field_errors) == {"schedule"}
    assert env.raw("acme_sf") == before
    stored = env.service.get("acme_sf")
    assert stored.version == 1
    assert env.service.decrypted_config(stored)["client_secret"] == SECRET


def test_update_bumps_the_version_and_re_encrypts(env: Env) -> None:
    add_salesforce(env)
    before, version = env.raw("acme_sf")
    view = env.service.update("acme_sf", {"client_id": "new-id"})
    assert view.version == version + 1
    after, after_version = env.raw("acme_sf")
    assert after != before and after_version == version + 1
    assert view.config is not None and view.config["client_id"] == "new-id"


def test_update_omitting_secrets_keeps_them(env: Env) -> None:
    add_salesforce(env)
    env.service.update("acme_sf", {"client_id": "new-id", "instance_url": None})
    env.service.update("acme_sf", {"client_secret": "", "refresh_token": None})
    config = env.service.decrypted_config(env.service.get("acme_sf"))
    assert config["client_secret"] == SECRET
    assert config["refresh_token"] == TOKEN
    assert config["client_id"] == "new-id"
    assert "instance_url" not in config
    assert env.service.show("acme_sf").secrets == {"client_secret": True, "refresh_token": True}


def test_update_without_config_keeps_the_ciphertext(env: Env) -> None:
    add_salesforce(env)
    before, version = env.raw("acme_sf")
    view = env.service.update("acme_sf", schedule="15 3 * * *", streams=["Account"])
    assert view.integration.schedule == "15 3 * * *"
    assert view.integration.stream_names == ["Account"]
    after, after_version = env.raw("acme_sf")
    assert after == before
    assert after_version == version + 1


def test_stale_expected_version_is_refused(env: Env) -> None:
    add_salesforce(env)
    first = env.service.get("acme_sf")
    env.service.update("acme_sf", {"client_id": "first"}, expected_version=first.version)
    before = env.raw("acme_sf")
    with pytest.raises(ConcurrentUpdateError) as info:
        env.service.update("acme_sf", {"client_id": "second"}, expected_version=first.version)
    assert "acme_sf" in str(info.value)
    with pytest.raises(ConcurrentUpdateError):
        env.service.set_enabled("acme_sf", False, expected_version=first.version)
    assert env.raw("acme_sf") == before
    assert env.service.get("acme_sf").enabled is True
    config = env.service.decrypted_config(env.service.get("acme_sf"))
    assert config["client_id"] == "first"


def test_concurrent_writer_between_read_and_write_is_refused(env: Env) -> None:
    add_salesforce(env)

    def change(current: Integration) -> Integration:
        # Another writer commits after this transaction read the row.
        env.service.set_enabled("acme_sf", False)
        return replace(current, schedule="5 * * * *")

    with pytest.raises(ConcurrentUpdateError):
        env.store.update("acme_sf", change)
    stored = env.service.get("acme_sf")
    assert stored.enabled is False
    assert stored.schedule == "0 * * * *"
    assert stored.version == 2


def test_enable_disable(env: Env) -> None:
    add_salesforce(env)
    assert env.service.set_enabled("acme_sf", False).enabled is False
    assert env.service.get("acme_sf").enabled is False
    assert env.service.set_enabled("acme_sf", True).enabled is True
    assert env.service.get("acme_sf").version == 3


# -- names -----------------------------------------------------------------------------


def test_duplicate_name(env: Env) -> None:
    add_salesforce(env)
    before = env.raw("acme_sf")
    with pytest.raises(IntegrationExistsError, match="acme_sf"):
        env.service.add("postgres", "acme_sf", dict(PG_CONFIG), streams=["public-orders"])
    assert env.raw("acme_sf") == before
    assert [s.connector for s in env.store.list_all()] == ["salesforce"]


def test_unknown_name(env: Env) -> None:
    for call in (
        lambda: env.service.get("nope"),
        lambda: env.service.show("nope"),
        lambda: env.service.update("nope", {"client_id": "x"}),
        lambda: env.service.set_enabled("nope", False),
        lambda: env.service.remove("nope"),
    ):
        with pytest.raises(IntegrationNotFoundError, match="'nope'"):
            call()


def test_remove(env: Env) -> None:
    add_salesforce(env)
    removed = env.service.remove("acme_sf")
    assert removed.name == "acme_sf"
    assert env.store.list_all() == []
    with pytest.raises(IntegrationNotFoundError):
        env.service.get("acme_sf")
    add_salesforce(env)  # the name is free again
    assert [s.name for s in env.store.list_all()] == ["acme_sf"]


# -- show ------------------------------------------------------------------------------


def test_show_never_contains_secret_values(env: Env) -> None:
    add_salesforce(env)
    view = env.service.show("acme_sf")
    dumped = json.dumps(view.as_dict(), default=str)
    assert SECRET not in dumped and TOKEN not in dumped
    assert SECRET not in repr(view) and TOKEN not in repr(view)
    data = view.as_dict()
    assert data["secrets"] == {"client_secret": "set", "refresh_token": "set"}
    assert data["config"] == {
        "client_id": SF_CONFIG["client_id"],
        "instance_url": SF_CONFIG["instance_url"],
        "api_type": "BULK",
    }
    # The views returned by add and update hide the secrets too.
    added = env.service.add("postgres", "warehouse", dict(PG_CONFIG), streams=["public-orders"])
    updated = env.service.update("acme_sf", {"client_secret": "rotated-secret-value"})
    for other in (added, updated):
        text = json.dumps(other.as_dict(), default=str)
        for secret in (PG_CONFIG["password"], "rotated-secret-value", TOKEN):
            assert secret not in text
    assert added.as_dict()["secrets"] == {"password": "set"}


def test_show_reports_an_unset_optional_secret(env: Env) -> None:
    env.service.add("demo", "demo_one", {"account": "acct", "password": "demo-pass-123"})
    data = env.service.show("demo_one").as_dict()
    assert data["secrets"] == {"api_key": "not set", "password": "set"}
    assert data["config"] == {"account": "acct"}
    env.service.update("demo_one", {"api_key": "demo-api-key-456"})
    data = env.service.show("demo_one").as_dict()
    assert data["secrets"] == {"api_key": "set", "password": "set"}
    assert "demo-api-key-456" not in json.dumps(data, default=str)
