"""prepare_sync: the ``meltano el`` command and environment of one sync (starts nothing)."""

import json
from pathlib import Path
from typing import Any

import pytest

from integrations_platform.catalog import load_catalog
from integrations_platform.destinations import built_in_target, embedded_target, resolve_target
from integrations_platform.errors import ConfigurationError, DestinationNotFoundError
from integrations_platform.integration import StreamSelection
from integrations_platform.runner.meltano import (
    PreparedSync,
    SyncRequest,
    env_var,
    prepare_sync,
    select_extractor,
)
from integrations_platform.runner.redaction import MASK
from integrations_platform.settings import PROJECT_ROOT, Settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key

CATALOG = load_catalog(PROJECT_ROOT / "connector_catalog")
SALESFORCE = CATALOG.get("salesforce")
POSTGRES = CATALOG.get("postgres")

SECRET = "prep-client-secret-a81c"
TOKEN = "prep-refresh-token-77de"
CONFIG = {
    "client_id": "prep-client-id",
    "client_secret": SECRET,
    "refresh_token": TOKEN,
    "api_type": "BULK",
    "lookback_window": 300,
}
LOGIN_ENV = "INTEGRATIONS_SALESFORCE_LOGIN_URL"
KEYS = generate_key()
BASE_ENVIRON = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/root",
    "INTEGRATIONS_ENCRYPTION_KEYS": KEYS,
    "INTEGRATIONS_API_TOKEN": "api-token-should-not-leak",
}


def request(**overrides: Any) -> SyncRequest:
    fields: dict[str, Any] = {
        "integration": "acme",
        "state_id": "acme-state",
        "connector": SALESFORCE,
        "config": dict(CONFIG),
        "start_date": "2024-01-01T00:00:00Z",
        "destination": embedded_target(CATALOG),
        "streams": [StreamSelection("Account", "SystemModstamp"), StreamSelection("Contact")],
    }
    fields.update(overrides)
    return SyncRequest(**fields)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"INTEGRATIONS_HOME": str(tmp_path / "home")})


def prepare(
    settings: Settings, tmp_path: Path, environ: dict[str, str] | None = None, **overrides: Any
) -> PreparedSync:
    # A destination by name, as an integration names it: resolved as a sync resolves it.
    name = overrides.pop("destination", "jsonl")
    overrides["destination"] = built_in_target(name, CATALOG, settings)
    return prepare_sync(
        request(**overrides),
        settings,
        {**BASE_ENVIRON, **(environ or {})},
        tmp_path / "sys",
    )


def test_env_var_names() -> None:
    assert env_var("tap-salesforce", "client_secret") == "TAP_SALESFORCE_CLIENT_SECRET"
    assert env_var("tap-salesforce", "_select") == "TAP_SALESFORCE__SELECT"
    assert env_var("target-jsonl", "destination_path") == "TARGET_JSONL_DESTINATION_PATH"


def test_command(settings: Settings, tmp_path: Path) -> None:
    prepared = prepare(settings, tmp_path)
    assert Path(prepared.args[0]).name == "meltano"
    assert prepared.args[1:] == [
        "el",
        "tap-salesforce",
        "target-jsonl",
        "--state-id",
        "acme-state",
        "--state-strategy",
        "merge",
        "--force",
    ]
    assert prepared.extractor == "tap-salesforce"
    assert prepared.loader == "target-jsonl"


def test_config_only_in_env_vars(settings: Settings, tmp_path: Path) -> None:
    prepared = prepare(settings, tmp_path)
    env = prepared.env
    assert env["TAP_SALESFORCE_CLIENT_ID"] == "prep-client-id"
    assert env["TAP_SALESFORCE_CLIENT_SECRET"] == SECRET
    assert env["TAP_SALESFORCE_REFRESH_TOKEN"] == TOKEN
    assert env["TAP_SALESFORCE_API_TYPE"] == "BULK"
    assert env["TAP_SALESFORCE_LOOKBACK_WINDOW"] == "300"
    # Catalog defaults fill what the config leaves out, in the form Meltano parses.
    assert env["TAP_SALESFORCE_IS_SANDBOX"] == "false"
    assert env["TAP_SALESFORCE_SELECT_FIELDS_BY_DEFAULT"] == "true"
    assert env["TAP_SALESFORCE_QUOTA_PERCENT_TOTAL"] == "80"
    assert env["TAP_SALESFORCE_START_DATE"] == "2024-01-01T00:00:00Z"
    assert "TAP_SALESFORCE_INSTANCE_URL" not in env
    # The loader's config too.
    assert env["TARGET_JSONL_DESTINATION_PATH"] == str(settings.output_dir / "acme")
    assert env["TARGET_JSONL_DO_TIMESTAMP_FILE"] == "false"

    for secret, var in (
        (SECRET, "TAP_SALESFORCE_CLIENT_SECRET"),
        (TOKEN, "TAP_SALESFORCE_REFRESH_TOKEN"),
    ):
        assert [k for k, v in env.items() if secret in v] == [var]
        assert not any(secret in arg for arg in prepared.args)
        assert secret not in repr(prepared)
    assert not any("prep-client-id" in arg for arg in prepared.args)


def test_meltano_settings(settings: Settings, tmp_path: Path) -> None:
    env = prepare(settings, tmp_path).env
    assert env["MELTANO_PROJECT_ROOT"] == str(settings.meltano_project_dir)
    assert env["MELTANO_SYS_DIR_ROOT"] == str(tmp_path / "sys")
    assert env["MELTANO_DATABASE_URI"] == settings.meltano_database_uri
    assert env["MELTANO_CLI_LOG_FORMAT"] == "json"
    assert env["MELTANO_ENVIRONMENT"] == "prod"
    assert env["PATH"] == "/usr/bin:/bin"  # the rest of the environment is passed on


def test_keys_are_withheld_from_the_child(settings: Settings, tmp_path: Path) -> None:
    env = prepare(settings, tmp_path).env
    assert "INTEGRATIONS_ENCRYPTION_KEYS" not in env
    assert "INTEGRATIONS_API_TOKEN" not in env
    assert not any(KEYS in v for v in env.values())


def test_prepare_sync_does_not_change_its_inputs(settings: Settings, tmp_path: Path) -> None:
    environ = {**BASE_ENVIRON, "TAP_SALESFORCE_CLIENT_ID": "stale"}
    snapshot = dict(environ)
    req = request()
    prepare_sync(req, settings, environ, tmp_path / "sys")
    assert environ == snapshot
    assert req.config == CONFIG
    assert not (tmp_path / "sys").exists()  # pure: creates nothing


STALE = {
    "TAP_SALESFORCE_CLIENT_ID": "stale-client-id",
    "TAP_SALESFORCE_INSTANCE_URL": "https://stale.my.salesforce.com",
    "TAP_SALESFORCE_LOOKBACK_WINDOW": "999999",
    "TAP_SALESFORCE__SELECT_FILTER": '["stale"]',
    "TAP_SALESFORCE_SANDBOX_INSTANCE_URL": "https://stale-sandbox.example.com",
    "TARGET_JSONL_DESTINATION_PATH": "/stale/output",
    "TARGET_JSONL_SOMETHING_ELSE": "stale",
}


def test_stale_plugin_vars_are_removed(settings: Settings, tmp_path: Path) -> None:
    env = prepare(settings, tmp_path, {**STALE}, config={**CONFIG, "lookback_window": None}).env
    assert env["TAP_SALESFORCE_CLIENT_ID"] == "prep-client-id"
    assert env["TARGET_JSONL_DESTINATION_PATH"] == str(settings.output_dir / "acme")
    for var in (
        "TAP_SALESFORCE_INSTANCE_URL",
        "TAP_SALESFORCE_LOOKBACK_WINDOW",
        "TAP_SALESFORCE__SELECT_FILTER",
        "TARGET_JSONL_SOMETHING_ELSE",
    ):
        assert var not in env, var


def test_stale_namespace_vars_are_removed_for_the_local_login_extractor(
    settings: Settings, tmp_path: Path
) -> None:
    # BUG (runner/meltano.py prepare_sync, the loop over
    # `(env_var(extractor.name, ""), env_var(loader.name, ""))`): Meltano reads a plugin's
    # settings from `<NAME>_<SETTING>` *and* `<NAMESPACE>_<SETTING>` variables
    # (ProjectPlugin.env_prefixes returns [name, namespace]). tap-salesforce-sandbox has
    # namespace tap_salesforce, so inherited TAP_SALESFORCE_* variables are not removed
    # and reach the sync: a stale TAP_SALESFORCE_LOOKBACK_WINDOW becomes the sandbox
    # extractor's lookback_window, and a stale TAP_SALESFORCE_CLIENT_ID that differs from
    # the integration's makes Meltano fail with ConflictingSettingValueException.
    environ = {**STALE, LOGIN_ENV: "http://127.0.0.1:8123"}
    env = prepare(settings, tmp_path, environ, config={**CONFIG, "lookback_window": None}).env
    assert env["TAP_SALESFORCE_SANDBOX_CLIENT_ID"] == "prep-client-id"
    leaked = sorted(
        k
        for k in env
        if k.startswith("TAP_SALESFORCE_") and not k.startswith("TAP_SALESFORCE_SANDBOX_")
    )
    assert leaked == []
    assert "TAP_SALESFORCE_SANDBOX_INSTANCE_URL" not in env


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "tap-salesforce"),
        ({LOGIN_ENV: ""}, "tap-salesforce"),
        ({LOGIN_ENV: "http://127.0.0.1:8123"}, "tap-salesforce-sandbox"),
    ],
)
def test_extractor_choice_follows_the_environ_passed(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    expected: str,
) -> None:
    # The process environment says the opposite: only the environ argument counts.
    if environ.get(LOGIN_ENV):
        monkeypatch.delenv(LOGIN_ENV, raising=False)
    else:
        monkeypatch.setenv(LOGIN_ENV, "http://127.0.0.1:9")
    prepared = prepare(settings, tmp_path, environ)
    assert prepared.extractor == expected
    assert prepared.args[2] == expected
    assert select_extractor(SALESFORCE, {**BASE_ENVIRON, **environ}).name == expected
    prefix = env_var(expected, "")
    assert prepared.env[f"{prefix}CLIENT_SECRET"] == SECRET
    assert prepared.env[f"{prefix}START_DATE"] == "2024-01-01T00:00:00Z"
    assert f"{prefix}_SELECT" in prepared.env


def test_select_and_metadata(settings: Settings, tmp_path: Path) -> None:
    env = prepare(settings, tmp_path).env
    assert json.loads(env["TAP_SALESFORCE__SELECT"]) == ["Account.*", "Contact.*"]
    assert json.loads(env["TAP_SALESFORCE__METADATA"]) == {
        "Account": {"replication-method": "INCREMENTAL", "replication-key": "SystemModstamp"},
        "Contact": {"replication-method": "FULL_TABLE"},
    }


def test_select_and_metadata_for_postgres_streams(settings: Settings, tmp_path: Path) -> None:
    prepared = prepare(
        settings,
        tmp_path,
        connector=POSTGRES,
        config={"host": "db", "user": "u", "password": "pg-pass-5511", "database": "d"},
        streams=[
            StreamSelection("public-orders", "updated_at"),
            StreamSelection("sales-customers"),
        ],
    )
    env = prepared.env
    assert prepared.extractor == "tap-postgres"
    assert json.loads(env["TAP_POSTGRES__SELECT"]) == ["public-orders.*", "sales-customers.*"]
    assert json.loads(env["TAP_POSTGRES__METADATA"]) == {
        "public-orders": {"replication-method": "INCREMENTAL", "replication-key": "updated_at"},
        "sales-customers": {"replication-method": "FULL_TABLE"},
    }
    assert env["TAP_POSTGRES_PORT"] == "5432"
    assert "TAP_POSTGRES_START_DATE" not in env  # the tap has no start date setting
    assert prepared.redactor.redact("password=pg-pass-5511") == f"password={MASK}"


@pytest.mark.parametrize("full_refresh", [False, True])
def test_full_refresh_only_when_asked(
    settings: Settings, tmp_path: Path, full_refresh: bool
) -> None:
    args = prepare(settings, tmp_path, full_refresh=full_refresh).args
    assert ("--full-refresh" in args) is full_refresh
    assert args.count("--full-refresh") == (1 if full_refresh else 0)


def test_redactor_masks_the_secrets(settings: Settings, tmp_path: Path) -> None:
    redact = prepare(settings, tmp_path).redactor.redact
    text = f"secret={SECRET} token={TOKEN} body=refresh_token%3D{TOKEN}"
    redacted = redact(text)
    assert SECRET not in redacted and TOKEN not in redacted
    assert redacted.count(MASK) == 3
    assert redact("client_id=prep-client-id") == "client_id=prep-client-id"  # not a secret


def test_postgres_destination_needs_the_warehouse_url(settings: Settings, tmp_path: Path) -> None:
    assert settings.warehouse_url is None
    with pytest.raises(ConfigurationError) as info:
        prepare(settings, tmp_path, destination="postgres")
    assert "INTEGRATIONS_WAREHOUSE_URL" in str(info.value)


def test_postgres_destination_with_a_warehouse_url(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "INTEGRATIONS_HOME": str(tmp_path / "home"),
            "INTEGRATIONS_WAREHOUSE_URL": "postgresql://loader:wh-pass-9c1e@wh.internal:6432/dw",
        }
    )
    prepared = prepare(settings, tmp_path, destination="postgres")
    env = prepared.env
    assert prepared.loader == "target-postgres"
    assert prepared.args[3] == "target-postgres"
    assert env["TARGET_POSTGRES_HOST"] == "wh.internal"
    assert env["TARGET_POSTGRES_PORT"] == "6432"
    assert env["TARGET_POSTGRES_USER"] == "loader"
    assert env["TARGET_POSTGRES_DATABASE"] == "dw"
    assert env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] == "acme"
    assert env["TARGET_POSTGRES_PASSWORD"] == "wh-pass-9c1e"
    assert not any("wh-pass-9c1e" in arg for arg in prepared.args)
    assert prepared.redactor.redact("password wh-pass-9c1e") == f"password {MASK}"


def test_unknown_destination(settings: Settings, tmp_path: Path) -> None:
    store = ConfigStore.open("sqlite:///:memory:")
    with pytest.raises(DestinationNotFoundError, match="integrations destinations add"):
        resolve_target("s3", CATALOG, store, KeyRing.from_value(KEYS), settings)
