"""`integrations up` never creates a key over a store that holds encrypted rows."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from integrations_platform.catalog import load_catalog
from integrations_platform.errors import PlatformError
from integrations_platform.launcher import ensure_key
from integrations_platform.service import IntegrationService
from integrations_platform.settings import ENV_ENCRYPTION_KEYS, Settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key, key_fingerprint

SF_CONFIG = {
    "client_id": "launcher-client-id",
    "client_secret": "launcher-client-secret",
    "refresh_token": "launcher-refresh-token",
}


def _rows(settings: Settings) -> list[tuple]:
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM integrations ORDER BY name")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_first_up_creates_a_key_and_later_ups_reuse_it(tmp_path: Path) -> None:
    settings = Settings.from_env({"INTEGRATIONS_HOME": str(tmp_path / "home")})
    environ: dict[str, str] = {}
    ensure_key(settings, environ)
    key = environ[ENV_ENCRYPTION_KEYS]
    assert settings.key_file.read_text().strip() == key
    again: dict[str, str] = {}
    ensure_key(settings, again)
    assert again[ENV_ENCRYPTION_KEYS] == key


def test_a_missing_key_file_over_a_populated_store_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.from_env({"INTEGRATIONS_HOME": str(tmp_path / "home")})
    environ: dict[str, str] = {}
    ensure_key(settings, environ)
    key = environ[ENV_ENCRYPTION_KEYS]
    service = IntegrationService(
        load_catalog(settings.catalog_dir),
        ConfigStore.open(settings.database_url),
        lambda: KeyRing.from_value(key),
    )
    service.add("salesforce", "crm", SF_CONFIG)
    service.store.close()
    before = _rows(settings)
    settings.key_file.unlink()

    with pytest.raises(PlatformError) as info:
        ensure_key(settings, {})

    message = str(info.value)
    assert "holds 1 encrypted integration(s)" in message
    assert str(settings.key_file) in message
    assert f"its fingerprint is {key_fingerprint(key)}" in message
    assert key not in message
    assert not settings.key_file.exists()  # no new key was written
    assert _rows(settings) == before

    # A wrong key given instead is accepted, with a warning naming the missing one.
    other = KeyRing.from_value(key)  # same key: no warning
    ensure_key(settings, {ENV_ENCRYPTION_KEYS: key})
    assert "not configured" not in capsys.readouterr().err
    ensure_key(settings, {ENV_ENCRYPTION_KEYS: generate_key()})
    assert f"1 with key {other.primary_fingerprint}" in capsys.readouterr().err
