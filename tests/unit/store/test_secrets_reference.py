"""The pure parts of the vault backend: the stored reference, placeholders, settings."""

import pytest

from integrations_platform.errors import PlatformError
from integrations_platform.integration import Integration
from integrations_platform.store import KeyRing, generate_key
from integrations_platform.store.secrets import (
    RESERVED_KEY,
    SecretsReference,
    StoredSecret,
    partition,
    split_stored,
    stored_form,
    with_placeholders,
)
from integrations_platform.store.secrets_backend import IntegrationSecrets
from integrations_platform.store.vault import (
    SecretsBackendError,
    VaultSettings,
    secrets_backend,
    vault_credentials,
)

REFERENCE = SecretsReference("secret", "integrations/abc", 2, ("password",))


def test_a_reference_round_trips_through_the_sealed_config():
    sealed = stored_form({"host": "db"}, REFERENCE)
    assert sealed == {"host": "db", RESERVED_KEY: REFERENCE.as_dict()}
    assert split_stored(sealed) == ({"host": "db"}, REFERENCE)
    assert split_stored({"host": "db", "password": "p"}) == (
        {"host": "db", "password": "p"},
        None,
    )


def test_a_malformed_reference_is_refused():
    with pytest.raises(ValueError, match="lacks"):
        split_stored({RESERVED_KEY: {"mount": "secret"}})
    with pytest.raises(ValueError, match="wrong type"):
        SecretsReference.from_dict({"mount": "s", "path": "p", "version": "2", "keys": []})


def test_placeholders_stand_for_vault_secrets_and_are_never_stored():
    shown = with_placeholders({"host": "db"}, REFERENCE)
    assert isinstance(shown["password"], StoredSecret) and shown["password"]
    with pytest.raises(ValueError, match="placeholder"):
        stored_form(shown, REFERENCE)


def test_partition_drops_blank_secrets():
    settings, secrets = partition(
        {"host": "db", "password": "", "token": "t"}, {"password", "token"}
    )
    assert settings == {"host": "db"} and secrets == {"token": "t"}


def test_the_keyring_shows_vault_secrets_as_placeholders():
    keyring = KeyRing([generate_key()])
    integration_id = Integration.new_id()
    sealed = keyring.seal(integration_id, stored_form({"host": "db"}, REFERENCE))
    integration = Integration(
        id=integration_id,
        name="pg",
        connector="postgres",
        enabled=True,
        schedule="0 * * * *",
        streams=(),
        start_date="2024-01-01T00:00:00Z",
        destination="jsonl",
        sealed=sealed,
    )
    assert keyring.open_integration(integration) == ({"host": "db"}, REFERENCE)
    config = keyring.decrypt_integration(integration)
    assert config["host"] == "db" and isinstance(config["password"], StoredSecret)
    # The database backend never asks for a vault.
    secrets = IntegrationSecrets(keyring, "database", lambda: None)
    with pytest.raises(SecretsBackendError, match="No vault is configured"):
        secrets.full_config(integration)


def test_backend_names():
    assert secrets_backend({}) == "database"
    assert secrets_backend({"INTEGRATIONS_SECRETS_BACKEND": " Vault "}) == "vault"
    with pytest.raises(PlatformError, match="'database' or 'vault'"):
        secrets_backend({"INTEGRATIONS_SECRETS_BACKEND": "aws"})


def test_vault_settings_from_the_environment():
    settings = VaultSettings.from_env(
        {
            "INTEGRATIONS_VAULT_ADDR": "https://vault:8200/",
            "INTEGRATIONS_VAULT_TOKEN": "tok",
            "INTEGRATIONS_VAULT_MOUNT": "/kv/",
            "INTEGRATIONS_VAULT_PREFIX": "/prod/integrations/",
        }
    )
    assert (settings.addr, settings.mount) == ("https://vault:8200", "kv")
    assert settings.path_for("abc") == "prod/integrations/abc"
    assert "tok" not in repr(settings)
    fallback = VaultSettings.from_env({"VAULT_ADDR": "http://v", "VAULT_TOKEN": "t"})
    assert (fallback.addr, fallback.token, fallback.mount) == ("http://v", "t", "secret")
    approle = VaultSettings.from_env(
        {
            "VAULT_ADDR": "http://v",
            "VAULT_TOKEN": "ignored",
            "INTEGRATIONS_VAULT_ROLE_ID": "r",
            "INTEGRATIONS_VAULT_SECRET_ID": "s",
        }
    )
    assert approle.token is None and "AppRole" in approle.credentials


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"VAULT_TOKEN": "t"}, "No vault address"),
        ({"VAULT_ADDR": "http://v"}, "No vault credentials"),
        (
            {"VAULT_ADDR": "http://v", "INTEGRATIONS_VAULT_ROLE_ID": "r"},
            "INTEGRATIONS_VAULT_SECRET_ID is not",
        ),
    ],
)
def test_incomplete_vault_settings_say_what_to_set(environ, message):
    with pytest.raises(SecretsBackendError, match=message):
        VaultSettings.from_env(environ)


def test_vault_credentials_are_listed_for_scrubbers():
    environ = {"INTEGRATIONS_VAULT_TOKEN": "a", "VAULT_TOKEN": "b", "VAULT_ADDR": "http://v"}
    assert vault_credentials(environ) == ["a", "b"]
