"""Unusual but legal input against the API: bounded, never a 500, repairable, no paths."""

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.api.test_api import BASE, SF_CONFIG, error_body

ERROR_KEYS = {"error", "detail", "instruction", "field_errors"}


def _create(client, name: str = "crm", **config: object):  # noqa: ANN001, ANN202
    return client.post(
        BASE, json={"name": name, "connector": "salesforce", "config": {**SF_CONFIG, **config}}
    )


def test_a_body_over_the_limit_is_refused_before_it_is_read(client, platform):
    huge = {"name": "crm", "connector": "salesforce", "config": {"client_id": "x" * 2_000_000}}
    error = error_body(client.post(BASE, json=huge), 413, "PayloadTooLarge")
    assert "1024 KiB" in error["detail"]
    assert platform.service.list_integrations() == []

    def chunks():  # no Content-Length: counted as it streams
        yield b'{"name": "crm", "connector": "salesforce", "config": {"client_id": "'
        for _ in range(1200):
            yield b"x" * 1024
        yield b'"}}'

    response = client.post(BASE, content=chunks(), headers={"content-type": "application/json"})
    error_body(response, 413, "PayloadTooLarge")
    assert platform.service.list_integrations() == []


def test_a_large_secret_under_the_body_limit_gets_a_field_error(client, platform):
    error = error_body(_create(client, client_secret="s" * 50_000), 422, "ConfigurationError")
    assert "16 KiB" in error["field_errors"]["client_secret"]
    assert "s" * 100 not in str(error)
    assert platform.service.list_integrations() == []


def test_short_and_control_character_secrets_get_field_errors(client, platform):
    for value, message in (
        ("ab", "at least 8"),
        ("30", "at least 8"),
        ("token\u0000value", "control character (U+0000)"),
    ):
        error = error_body(_create(client, client_secret=value), 422, "ConfigurationError")
        assert message in error["field_errors"]["client_secret"], error
    assert platform.service.list_integrations() == []


def test_static_and_logo_routes_answer_404_to_odd_paths(client):
    for path in (
        "/ui/static/%00",
        "/ui/static/a%00b.js",
        "/ui/static/" + "a" * 5000,
        "/ui/static/" + "a/" * 3000 + "x.js",
        "/ui/static/..%2f..%2fsettings.py",
        "/ui/static/%2e%2e/%2e%2e/etc/passwd",
        "/api/v1/connectors/%00/logo",
        "/api/v1/connectors/" + "x" * 5000 + "/logo",
    ):
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert set(response.json()) == ERROR_KEYS


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.text(min_size=0, max_size=400))
def test_any_static_file_name_is_answered_below_500(client, name):
    from urllib.parse import quote

    response = client.get("/ui/static/" + quote(name, safe=""))
    assert response.status_code in (200, 404), (name, response.status_code)


def _tamper(platform, name: str) -> None:
    with platform.service.store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE integrations SET config_ciphertext = :c WHERE name = :n"),
            {"c": b"tampered", "n": name},
        )


def test_an_unreadable_integration_is_shown_for_repair_and_repaired_by_patch(client, platform):
    assert _create(client).status_code == 201
    before = platform.service.get("crm")
    _tamper(platform, "crm")

    shown = client.get(f"{BASE}/crm")
    assert shown.status_code == 200
    body = shown.json()
    assert body["config"] == {} and set(body["secrets"].values()) == {"not set"}
    assert "cannot be decrypted" in body["config_error"]
    assert "integrations update crm --config FILE" in body["config_error"]

    partial = client.patch(f"{BASE}/crm", json={"config": {"client_id": "new-client"}})
    error = error_body(partial, 422, "IncompleteRepairError")
    assert set(error["field_errors"]) == {"client_secret", "refresh_token"}
    assert platform.service.get("crm").sealed.ciphertext == b"tampered"

    repaired = client.patch(f"{BASE}/crm", json={"config": SF_CONFIG})
    assert repaired.status_code == 200, repaired.text
    after = platform.service.get("crm")
    assert (after.id, after.created_at) == (before.id, before.created_at)
    assert platform.service.decrypted_config(after) == SF_CONFIG
    assert "config_error" not in client.get(f"{BASE}/crm").json() or (
        client.get(f"{BASE}/crm").json()["config_error"] is None
    )


def test_testing_edits_of_an_unreadable_integration_needs_a_complete_config(client, platform):
    assert _create(client).status_code == 201
    _tamper(platform, "crm")
    error_body(client.post(f"{BASE}/crm/test"), 409, "DecryptionError")
    partial = client.post(f"{BASE}/crm/test", json={"config": {"client_id": "x"}})
    assert set(error_body(partial, 422, "IncompleteRepairError")["field_errors"]) == {
        "client_secret",
        "refresh_token",
    }
    tested = client.post(f"{BASE}/crm/test", json={"config": SF_CONFIG})
    assert tested.status_code == 200, tested.text
    assert tested.json()["reason"] != "configuration"  # the complete config was tested
    assert platform.service.get("crm").sealed.ciphertext == b"tampered"  # nothing stored
