"""The secret heuristic, and every catalog file held to it."""

import pytest

from integrations_platform.catalog import load_catalog
from integrations_platform.catalog.sensitive import looks_secret
from integrations_platform.settings import PROJECT_ROOT

# What plugins really call their credentials (tap-rest-api-msdk, meltano-tap-hubspot,
# meltanolabs-target-postgres, tap-github, tap-stripe, target-snowflake ...), none of
# which those plugins flag as secret, and settings that only name where or what kind.
SECRET = [
    ("password", ""),
    ("client_secret", ""),
    ("refresh_token", ""),
    ("bearer_token", ""),
    ("api_keys", ""),
    ("access_token", ""),
    ("accessToken", ""),
    ("private_key", ""),
    ("private_key_passphrase", ""),
    ("sqlalchemy_url", ""),
    ("connection_string", ""),
    ("aws_secret_access_key", ""),
    ("auth_token", ""),
    ("key", ""),
    ("credentials_json", ""),
    ("value", "The API key sent with every request."),
    ("ssh_tunnel_pkey", "The private key of the SSH tunnel's user."),
]
NOT_SECRET = [
    ("user", "The user to connect as."),
    ("host", "The server's host name."),
    ("token_url", "The OAuth token endpoint."),
    ("auth_method", "How to authenticate: basic, bearer or api_key."),
    ("replication_key", ""),
    ("primary_keys", ""),
    ("private_key_path", "Path to the private key file."),
    ("client_id", "The OAuth client id."),
    ("start_date", "Sync records from this date."),
    ("streams", "The streams to sync."),
    ("keyset_pagination", ""),
    ("username", "Used for methods that use a user password combination."),
]


@pytest.mark.parametrize(("name", "description"), SECRET)
def test_credentials_look_secret(name, description):
    assert looks_secret(name, description)


@pytest.mark.parametrize(("name", "description"), NOT_SECRET)
def test_other_settings_do_not(name, description):
    assert not looks_secret(name, description)


def test_no_catalog_file_leaves_a_sensitive_looking_setting_in_clear():
    catalog = load_catalog(PROJECT_ROOT / "connector_catalog")
    assert len(catalog) >= 2
    in_clear = [
        f"{c.id}.{s.name}"
        for c in catalog
        for s in c.settings
        if looks_secret(s.name, s.help) and not s.secret
    ]
    assert in_clear == []


def test_every_connector_has_a_tier_and_the_tested_ones_are_verified():
    catalog = load_catalog(PROJECT_ROOT / "connector_catalog")
    tiers = {c.id: c.tier for c in catalog}
    assert tiers["salesforce"] == tiers["postgres"] == tiers["mysql"] == "verified"
    assert set(tiers.values()) <= {"verified", "community"}
    verified = {c.id for c in catalog.search(tier="verified")}
    assert verified >= {"salesforce", "postgres", "mysql", "rest_api", "files", "s3_csv"}
