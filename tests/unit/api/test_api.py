"""The config API, route by route, over a real store, the Salesforce sandbox and Dagster.

Dagster's webserver is never running here: the app's client points at a closed port,
so every reload is "pending" and every launch is a 503. Runs come from real
materializations into a real instance, which the API reads through ``DAGSTER_HOME``.
"""

import dataclasses
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from integrations_platform.api.app import MIN_TOKEN_LENGTH, create_app, resolve_api_token
from integrations_platform.errors import PlatformError
from integrations_platform.orchestration.client import DagsterClient
from integrations_platform.orchestration.sensors import reset_notification_runtime
from integrations_platform.runner.redaction import MASK
from integrations_platform.settings import PROJECT_ROOT
from tests.conftest import START, day, salesforce_config
from tests.integration.helpers import materialize
from tests.notification_support import SensorHarness
from tests.unit.api.support import (
    DAGSTER_UI,
    POSTGRES_CONFIG,
    POSTGRES_STREAMS,
    PUBLIC_ROUTES,
    TOKEN,
    app_environ,
    auth,
    build_app,
    operations,
    template_of,
)

BASE = "/api/v1/integrations"
CONNECTORS = "/api/v1/connectors"
CATALOG_DIR = PROJECT_ROOT / "connector_catalog"
# A stream of a source not discovered yet: no column known, none left out.
UNDISCOVERED = {"excluded_columns": [], "hashed_columns": [], "columns": []}
NOTIFICATIONS = "/api/v1/notifications"
SF_CONFIG: dict[str, Any] = {
    "client_id": "sf-client-id",
    "client_secret": "sf-client-secret-value",
    "refresh_token": "sf-refresh-token-value",
}
ERROR_KEYS = {"error", "detail", "instruction", "field_errors"}
SF_STREAMS = ["Account", "Contact", "Opportunity"]


# -- helpers ---------------------------------------------------------------------------


def create(
    client: TestClient,
    name: str = "crm",
    connector: str = "salesforce",
    config: dict[str, Any] | None = None,
    *,
    expect: int = 201,
    params: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """POST a new integration; returns the body after checking the status."""
    if connector == "postgres":
        fields.setdefault("streams", POSTGRES_STREAMS)
    default = POSTGRES_CONFIG if connector == "postgres" else SF_CONFIG
    body = {"name": name, "connector": connector, "config": config or default, **fields}
    response = client.post(BASE, json=body, params=params)
    assert response.status_code == expect, response.text
    return response.json()


def error_body(response: httpx.Response, status: int, error: str | None = None) -> dict[str, Any]:
    """The body of an error response, after checking its status and shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    if error is not None:
        assert body["error"] == error, body
    return body


def stored_config(platform: Any, name: str) -> dict[str, Any]:
    """The integration's config, decrypted (as a sync would get it)."""
    return platform.service.decrypted_config(platform.service.get(name))


def names(client: TestClient) -> list[str]:
    response = client.get(BASE)
    assert response.status_code == 200, response.text
    return [i["name"] for i in response.json()]


def utc(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


# -- authentication --------------------------------------------------------------------

# One request per protected operation (the integration "crm" exists when they are sent).
PROTECTED: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", CONNECTORS, None),
    ("GET", f"{CONNECTORS}/salesforce", None),
    ("POST", f"{CONNECTORS}/salesforce/test", {"config": SF_CONFIG}),
    ("POST", f"{CONNECTORS}/salesforce/discover", {"config": SF_CONFIG}),
    ("GET", BASE, None),
    ("POST", BASE, {"name": "other", "connector": "salesforce", "config": SF_CONFIG}),
    ("GET", f"{BASE}/crm", None),
    ("PATCH", f"{BASE}/crm", {"description": "changed"}),
    ("DELETE", f"{BASE}/crm", None),
    ("POST", f"{BASE}/crm/enable", None),
    ("POST", f"{BASE}/crm/disable", None),
    ("POST", f"{BASE}/crm/test", None),
    ("POST", f"{BASE}/crm/discover", None),
    ("GET", f"{BASE}/crm/discovery", None),
    ("GET", f"{BASE}/crm/schema", None),
    ("POST", f"{BASE}/crm/schema/approve", {"stream": "Account"}),
    ("POST", f"{BASE}/crm/sync", None),
    ("GET", f"{BASE}/crm/runs", None),
    ("GET", f"{BASE}/crm/runs/some-run/logs", None),
    ("GET", f"{BASE}/crm/state", None),
    ("POST", f"{BASE}/crm/reset", {"confirm": True}),
    ("POST", f"{BASE}/bulk", {"action": "delete", "names": ["crm"]}),
    ("GET", NOTIFICATIONS, None),
    ("GET", f"{NOTIFICATIONS}/some-id", None),
    ("POST", f"{NOTIFICATIONS}/some-id/acknowledge", None),
    ("POST", f"{NOTIFICATIONS}/some-id/resolve", None),
    ("POST", f"{NOTIFICATIONS}/check", None),
    ("POST", "/api/v1/auth/logout", None),
    ("GET", "/api/v1/me", None),
    ("GET", "/api/v1/auth/check", None),
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"name": "newcomer", "role": "viewer"}),
    ("PATCH", "/api/v1/users/someone", {"role": "editor"}),
    ("DELETE", "/api/v1/users/someone", None),
    ("GET", "/api/v1/tokens", None),
    ("POST", "/api/v1/tokens", {"user": "someone", "name": "ci"}),
    ("DELETE", "/api/v1/tokens/some-id", None),
    ("GET", "/api/v1/audit", None),
    ("GET", "/api/v1/destination-connectors", None),
    ("GET", "/api/v1/destination-connectors/postgres", None),
    ("POST", "/api/v1/destination-connectors/postgres/test", {"config": {}}),
    ("GET", "/api/v1/destinations", None),
    ("POST", "/api/v1/destinations", {"name": "wh", "connector": "postgres", "config": {}}),
    ("GET", "/api/v1/destinations/wh", None),
    ("PATCH", "/api/v1/destinations/wh", {"config": {}}),
    ("DELETE", "/api/v1/destinations/wh", None),
    ("POST", "/api/v1/destinations/wh/test", None),
]


def test_the_protected_table_covers_every_operation_but_the_public_ones(client):
    documented = operations(client.app)
    covered = {(m, template_of(m, p, documented)) for m, p, _ in PROTECTED}
    assert covered == documented - PUBLIC_ROUTES
    assert PUBLIC_ROUTES <= documented


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong-token-of-some-length",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN.upper()}",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer ",
    ],
    ids=["none", "wrong", "prefix", "longer", "case", "basic", "no-scheme", "empty"],
)
def test_every_protected_route_refuses_a_missing_or_wrong_token(
    make_client, platform, authorization
):
    client = make_client(authenticated=False)
    # "crm" is created through the service: the client has no token.
    platform.service.add("salesforce", "crm", SF_CONFIG)
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path, body in PROTECTED:
        response = client.request(method, path, json=body, headers=headers)
        error = error_body(response, 401, "HTTPError")
        assert response.headers["www-authenticate"] == "Bearer", (method, path)
        assert TOKEN not in response.text
        assert error["detail"].startswith(("Missing or wrong credentials", "Not signed in"))
    # The token is checked first: an invalid body or an unknown name is still a 401
    # (no field listing, no existence check for a caller without the token).
    for method, path, body in [
        ("POST", BASE, {"colour": [1]}),
        ("PATCH", f"{BASE}/nope", {"enabled": "x"}),
        ("GET", f"{CONNECTORS}/nope", None),
        ("GET", f"{CONNECTORS}?q={'x' * 300}", None),
    ]:
        response = client.request(method, path, json=body, headers=headers)
        error_body(response, 401, "HTTPError")
    # Nothing was changed, created or deleted.
    assert [s.name for s in platform.service.store.list_all()] == ["crm"]
    stored = platform.service.get("crm")
    assert stored.version == 1 and stored.enabled and stored.description == ""


def test_the_right_token_is_accepted_whatever_the_scheme_case(make_client):
    client = make_client(authenticated=False)
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = client.get(BASE, headers={"Authorization": f"{scheme} {TOKEN}"})
        assert response.status_code == 200, response.text


def test_health_and_logos_are_public(make_client):
    client = make_client(authenticated=False)
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get(f"{CONNECTORS}/salesforce/logo")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    # A wrong token does not break a public route either.
    assert client.get("/healthz", headers=auth("nope")).status_code == 200


def test_resolve_api_token_refuses_a_missing_or_short_token_outside_dev_mode():
    long_token = "x" * MIN_TOKEN_LENGTH
    assert resolve_api_token({"INTEGRATIONS_API_TOKEN": long_token}) == long_token
    assert resolve_api_token({"INTEGRATIONS_API_TOKEN": f"  {long_token}\n"}) == long_token
    for environ in ({}, {"INTEGRATIONS_API_TOKEN": ""}, {"INTEGRATIONS_API_TOKEN": "   "}):
        with pytest.raises(PlatformError, match="INTEGRATIONS_API_TOKEN is not set"):
            resolve_api_token(environ)
    with pytest.raises(PlatformError, match="shorter than 16 characters"):
        resolve_api_token({"INTEGRATIONS_API_TOKEN": "x" * (MIN_TOKEN_LENGTH - 1)})
    # A short token is refused even in development mode: it was set, and is weak.
    with pytest.raises(PlatformError, match="shorter"):
        resolve_api_token({"INTEGRATIONS_API_TOKEN": "short"}, dev_mode=True)
    assert resolve_api_token({}, dev_mode=True) is None
    for flag in ("1", "true", "yes", "TRUE"):
        assert resolve_api_token({"INTEGRATIONS_API_DEV": flag}) is None
    with pytest.raises(PlatformError):
        resolve_api_token({"INTEGRATIONS_API_DEV": "0"})


def test_create_app_refuses_to_start_without_a_token(platform, dead_port):
    environ = app_environ(platform, dead_port)
    with pytest.raises(PlatformError, match="refuses to start without a token"):
        build_app(platform, dead_port, environ, api_token=None)
    with pytest.raises(PlatformError, match="shorter"):
        build_app(
            platform, dead_port, {**environ, "INTEGRATIONS_API_TOKEN": "short"}, api_token=None
        )


def test_create_app_takes_the_token_from_the_environment(platform, dead_port):
    token = "environment-token-0123456789"
    environ = {**app_environ(platform, dead_port), "INTEGRATIONS_API_TOKEN": token}
    with TestClient(build_app(platform, dead_port, environ, api_token=None)) as client:
        assert client.get(BASE).status_code == 401
        assert client.get(BASE, headers=auth(token)).status_code == 200


def test_dev_mode_needs_no_token(platform, dead_port):
    settings = dataclasses.replace(platform.settings, dagster_url=DAGSTER_UI)
    app = create_app(
        settings,
        environ=app_environ(platform, dead_port),
        dev_mode=True,
        dagster=DagsterClient(f"http://127.0.0.1:{dead_port}", timeout_s=1),
    )
    with TestClient(app) as client:
        assert client.get(BASE).status_code == 200
        assert client.get(CONNECTORS).status_code == 200
        create(client, "crm")
        assert client.get(f"{BASE}/crm", headers=auth("anything")).status_code == 200


# -- the catalog -----------------------------------------------------------------------


def test_catalog_lists_every_connector(client):
    response = client.get(CONNECTORS)
    assert response.status_code == 200
    cards = {c["id"]: c for c in response.json()}
    assert sorted(cards) == sorted(p.stem for p in CATALOG_DIR.glob("*.yaml"))
    salesforce = cards["salesforce"]
    assert salesforce["label"] == "Salesforce"
    assert salesforce["category"] == "CRM"
    assert salesforce["logo_url"] == f"{CONNECTORS}/salesforce/logo"
    assert salesforce["streams"] == SF_STREAMS
    assert salesforce["docs_url"].startswith("https://")
    assert cards["postgres"]["streams"] == cards["mysql"]["streams"] == []
    assert set(salesforce) == {
        "id",
        "label",
        "category",
        "description",
        "docs_url",
        "logo_url",
        "tier",
        "streams",
    }
    assert {c["tier"] for c in cards.values()} <= {"verified", "community"}
    verified = sorted(i for i, c in cards.items() if c["tier"] == "verified")
    assert {"mysql", "postgres", "rest_api", "salesforce"} <= set(verified)


DESTINATIONS = "/api/v1/destinations"


def test_destinations_are_configured_shown_without_secrets_and_kept_while_used(client, canary):
    connectors = client.get("/api/v1/destination-connectors").json()
    assert {"jsonl", "postgres"} <= {c["id"] for c in connectors}
    detail = client.get("/api/v1/destination-connectors/postgres").json()
    assert detail["form_schema"]["properties"]["password"]["writeOnly"] is True
    assert set(detail["form_schema"]["required"]) == {"host", "user", "password", "database"}
    logo = client.get(detail["logo_url"], headers={"Authorization": ""})
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"

    config = {"host": "db.example.test", "user": "loader", "password": canary, "database": "dw"}
    missing = client.post(
        DESTINATIONS, json={"name": "wh", "connector": "postgres", "config": {"host": "h"}}
    )
    assert set(error_body(missing, 422)["field_errors"]) == {"user", "password", "database"}
    reserved = client.post(
        DESTINATIONS, json={"name": "jsonl", "connector": "postgres", "config": config}
    )
    assert set(error_body(reserved, 422)["field_errors"]) == {"name"}
    created = client.post(
        DESTINATIONS, json={"name": "wh", "connector": "postgres", "config": config}
    )
    assert created.status_code == 201, created.text
    assert created.json()["secrets"] == {"password": "set"}
    assert "password" not in created.json()["config"]
    again = client.post(
        DESTINATIONS, json={"name": "wh", "connector": "postgres", "config": config}
    )
    error_body(again, 409)

    integration = client.post(
        BASE,
        json={
            "name": "crm",
            "connector": "salesforce",
            "config": SF_CONFIG,
            "destination": "wh",
        },
    )
    assert integration.status_code == 201, integration.text
    assert integration.json()["integration"]["destination_connector"] == "postgres"
    unknown = client.post(
        BASE,
        json={
            "name": "other",
            "connector": "salesforce",
            "config": SF_CONFIG,
            "destination": "nope",
        },
    )
    assert "no destination named 'nope'" in error_body(unknown, 422)["field_errors"]["destination"]

    bad = client.patch(f"{DESTINATIONS}/wh", json={"config": {"port": "x", "host": "other"}})
    assert set(error_body(bad, 422)["field_errors"]) == {"port"}
    shown = client.get(f"{DESTINATIONS}/wh").json()
    assert shown["config"]["host"] == "db.example.test" and shown["used_by"] == ["crm"]
    in_use = client.delete(f"{DESTINATIONS}/wh")
    assert "crm" in error_body(in_use, 409)["error"] + in_use.text
    listed = client.get(DESTINATIONS).json()
    assert [d["name"] for d in listed] == ["jsonl", "postgres", "wh"]
    assert canary not in created.text + shown.__repr__() + repr(listed)

    unsaved = client.post(
        "/api/v1/destination-connectors/postgres/test", json={"config": {"host": "h"}}
    )
    assert unsaved.status_code == 200 and unsaved.json()["reason"] == "configuration"
    assert client.patch(f"{BASE}/crm", json={"destination": "jsonl"}).status_code == 200
    assert client.delete(f"{DESTINATIONS}/wh").status_code == 204
    error_body(client.get(f"{DESTINATIONS}/wh"), 404)


# Searches among the verified connectors (the community ones come and go with imports).
VERIFIED_SOURCES = ["files", "mysql", "postgres", "rest_api", "s3_csv", "salesforce"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "salesforce"}, ["salesforce"]),
        ({"q": "SALESFORCE"}, ["salesforce"]),
        ({"q": "opportunity"}, ["salesforce"]),  # a stream name
        ({"q": "tables incrementally"}, ["mysql", "postgres"]),  # every word must match
        ({"q": "tables mariadb"}, ["mysql"]),
        ({"q": "tables salesforce"}, []),
        ({"q": "incrementally"}, ["mysql", "postgres", "salesforce"]),
        ({"q": "no-such-thing"}, []),
        ({"q": ""}, VERIFIED_SOURCES),
        ({"category": "API"}, ["rest_api"]),
        ({"category": "CRM"}, ["salesforce"]),
        ({"category": "crm"}, ["salesforce"]),
        ({"category": "Database"}, ["mysql", "postgres"]),
        ({"category": "Files"}, ["files", "s3_csv"]),
        ({"q": "postgresql", "category": "Database"}, ["postgres"]),
        ({"category": "Marketing"}, []),
        ({"q": "org", "category": "CRM"}, ["salesforce"]),
        ({"q": "postgresql", "category": "CRM"}, []),
        ({}, VERIFIED_SOURCES),
    ],
)
def test_catalog_search_by_words_and_category(client, params, expected):
    response = client.get(CONNECTORS, params={**params, "tier": "verified"})
    assert response.status_code == 200, response.text
    assert [c["id"] for c in response.json()] == expected


def test_catalog_tiers_split_the_connectors(client):
    every = {c["id"] for c in client.get(CONNECTORS).json()}
    verified = [c["id"] for c in client.get(CONNECTORS, params={"tier": "verified"}).json()]
    community = [c["id"] for c in client.get(CONNECTORS, params={"tier": "community"}).json()]
    assert verified == VERIFIED_SOURCES
    assert set(community) == every - set(verified) and len(community) >= 12
    hubspot = client.get(CONNECTORS, params={"q": "hubspot", "tier": "community"}).json()
    assert [c["id"] for c in hubspot] == ["hubspot"]


def test_catalog_search_refuses_an_overlong_query(client):
    body = error_body(client.get(CONNECTORS, params={"q": "x" * 201}), 422, "ValidationError")
    assert list(body["field_errors"]) == ["q"]


def test_catalog_search_refuses_an_unknown_tier(client):
    body = error_body(client.get(CONNECTORS, params={"tier": "gold"}), 422, "ValidationError")
    assert list(body["field_errors"]) == ["tier"]


def test_connector_detail_has_the_form_schema(client):
    response = client.get(f"{CONNECTORS}/salesforce")
    assert response.status_code == 200
    detail = response.json()
    assert detail["id"] == "salesforce"
    assert detail["default_schedule"] == "0 * * * *"
    assert detail["dynamic_streams"] is False
    assert [s["name"] for s in detail["stream_specs"]] == SF_STREAMS
    assert detail["stream_specs"][0]["replication_key"] == "SystemModstamp"
    assert detail["stream_specs"][0]["primary_key"] == ["Id"]

    schema = detail["form_schema"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["client_id", "client_secret", "refresh_token"]
    props = schema["properties"]
    # Required first, then by order; advanced settings last.
    assert list(props) == [
        "client_id",
        "client_secret",
        "refresh_token",
        "instance_url",
        "is_sandbox",
        "api_type",
        "select_fields_by_default",
        "quota_percent_total",
        "quota_percent_per_run",
        "lookback_window",
    ]
    for secret in ("client_secret", "refresh_token"):
        assert props[secret]["writeOnly"] is True
        assert props[secret]["x-secret"] is True
        assert props[secret]["format"] == "password"
        assert props[secret]["type"] == "string"
        assert "default" not in props[secret]
    for name, prop in props.items():
        if name not in ("client_secret", "refresh_token"):
            assert prop["x-secret"] is False, name
            assert "writeOnly" not in prop, name
    advanced = {n for n, p in props.items() if p["x-advanced"]}
    assert advanced == {
        "is_sandbox",
        "api_type",
        "select_fields_by_default",
        "quota_percent_total",
        "quota_percent_per_run",
        "lookback_window",
    }
    assert [props[n]["x-order"] for n in props] == [1, 2, 3, 4, 10, 11, 12, 13, 14, 15]
    assert props["client_id"]["title"] == "Client ID"
    assert props["instance_url"]["format"] == "uri"
    assert props["api_type"]["enum"] == ["REST", "BULK"]
    assert props["api_type"]["default"] == "REST"
    assert props["is_sandbox"] == {**props["is_sandbox"], "type": "boolean", "default": False}
    assert props["quota_percent_total"]["minimum"] == 1
    assert props["quota_percent_total"]["maximum"] == 100
    assert props["lookback_window"]["type"] == "integer"


def test_connector_detail_of_a_dynamic_catalog(client):
    detail = client.get(f"{CONNECTORS}/postgres").json()
    assert detail["dynamic_streams"] is True
    assert detail["streams"] == [] and detail["stream_specs"] == []
    assert "public-orders" in detail["stream_name_help"]
    schema = detail["form_schema"]
    # "port" has a default: it is not required, and comes after the required settings.
    assert schema["required"] == ["host", "user", "password", "database"]
    assert list(schema["properties"]) == [
        "host",
        "user",
        "password",
        "database",
        "port",
        "filter_schemas",
    ]
    assert schema["properties"]["port"]["default"] == 5432
    assert schema["properties"]["password"]["writeOnly"] is True
    assert schema["properties"]["filter_schemas"]["x-advanced"] is True
    assert schema["properties"]["filter_schemas"]["items"] == {"type": "string"}


def test_logo_is_svg(client):
    for connector in ("salesforce", "postgres"):
        response = client.get(f"{CONNECTORS}/{connector}/logo")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert "<svg" in response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"{CONNECTORS}/nope", None),
        ("GET", f"{CONNECTORS}/nope/logo", None),
        ("POST", f"{CONNECTORS}/nope/test", {"config": {}}),
    ],
)
def test_unknown_connector_is_404(client, method, path, body):
    body = error_body(client.request(method, path, json=body), 404, "ConnectorNotFoundError")
    assert "nope" in body["detail"]
    assert "salesforce" in body["instruction"]


# -- create ----------------------------------------------------------------------------


def test_create_saves_and_answers_201_with_pending_definitions(client, platform):
    response = client.post(
        BASE,
        json={
            "name": "crm",
            "connector": "salesforce",
            "config": {**SF_CONFIG, "api_type": "BULK"},
            "streams": [{"name": "Account"}, {"name": "Contact", "replication_key": "Id"}],
            "schedule": "15 3 * * *",
            "start_date": "2024-01-01",
            "description": "The CRM",
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == 'W/"1"'
    body = response.json()
    # Dagster is unreachable: the definitions follow at the next successful reload.
    assert body["definitions"] == "pending"
    integration = body["integration"]
    assert integration["name"] == "crm"
    assert integration["connector"] == "salesforce"
    assert integration["enabled"] is True
    assert integration["schedule"] == "15 3 * * *"
    assert integration["start_date"] == "2024-01-01T00:00:00Z"
    assert integration["description"] == "The CRM"
    assert integration["version"] == 1
    assert integration["streams"] == [
        {
            "name": "Account",
            "replication_key": "SystemModstamp",
            "primary_key": ["Id"],
            **UNDISCOVERED,
        },
        {"name": "Contact", "replication_key": "Id", "primary_key": ["Id"], **UNDISCOVERED},
    ]
    assert integration["config"] == {"client_id": "sf-client-id", "api_type": "BULK"}
    assert integration["secrets"] == {"client_secret": "set", "refresh_token": "set"}
    assert integration["links"] == {
        "dagster": f"{DAGSTER_UI}/asset-groups/crm",
        "settings": "/#/integrations/crm",
    }
    assert integration["status"] is None
    for secret in ("sf-client-secret-value", "sf-refresh-token-value"):
        assert secret not in response.text
    assert stored_config(platform, "crm") == {**SF_CONFIG, "api_type": "BULK"}
    assert client.app.state.platform.reloader.pending is True


def test_create_uses_the_connector_defaults(client):
    integration = create(client, "crm")["integration"]
    assert [s["name"] for s in integration["streams"]] == SF_STREAMS
    assert integration["schedule"] == "0 * * * *"
    assert integration["destination"] == "jsonl"
    assert integration["start_date"].endswith("-01T00:00:00Z")


def test_create_disabled_leaves_the_definitions_unchanged(client):
    body = create(client, "crm", enabled=False)
    assert body["definitions"] == "unchanged"
    assert body["integration"]["enabled"] is False
    assert body["integration"]["links"]["dagster"] == DAGSTER_UI


def test_create_with_a_taken_name_is_409_and_keeps_the_first(client, platform):
    create(client, "crm")
    response = client.post(
        BASE,
        json={
            "name": "crm",
            "connector": "postgres",
            "config": POSTGRES_CONFIG,
            "streams": POSTGRES_STREAMS,
        },
    )
    body = error_body(response, 409, "IntegrationExistsError")
    assert "crm" in body["detail"]
    assert platform.service.get("crm").connector == "salesforce"
    assert stored_config(platform, "crm") == SF_CONFIG


def test_create_with_an_unknown_connector_is_404(client):
    response = client.post(BASE, json={"name": "crm", "connector": "unknown", "config": {}})
    error_body(response, 404, "ConnectorNotFoundError")
    assert names(client) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"config": {**SF_CONFIG, "colour": "blue"}}, "colour", "unknown setting for Salesforce"),
        ({"config": {**SF_CONFIG, "is_sandbox": "yes"}}, "is_sandbox", "expected true or false"),
        ({"config": {**SF_CONFIG, "lookback_window": 1.5}}, "lookback_window", "whole number"),
        ({"config": {**SF_CONFIG, "quota_percent_total": 101}}, "quota_percent_total", "at most"),
        ({"config": {**SF_CONFIG, "api_type": "SOAP"}}, "api_type", "must be one of REST, BULK"),
        ({"config": {**SF_CONFIG, "instance_url": "acme"}}, "instance_url", "expected a URL"),
        ({"config": {**SF_CONFIG, "client_id": 42}}, "client_id", "expected text, got int"),
        (
            {"config": {"client_id": "c", "client_secret": "s-secret-value"}},
            "refresh_token",
            "required secret is not set",
        ),
        (
            {"config": {"client_secret": "s-secret-value", "refresh_token": "r-token-value"}},
            "client_id",
            "required setting is missing",
        ),
        ({"config": {**SF_CONFIG, "client_id": "  "}}, "client_id", "must not be empty"),
        ({"schedule": "every hour"}, "schedule", "not a valid cron expression"),
        ({"schedule": "61 * * * *"}, "schedule", "not a valid cron expression"),
        ({"streams": [{"name": "Lead"}]}, "streams", "unknown stream(s) Lead"),
        ({"streams": []}, "streams", "select at least one stream"),
        ({"streams": [{"name": "Account"}, {"name": "Account"}]}, "streams", "listed twice"),
        ({"start_date": "last tuesday"}, "start_date", "expected an ISO 8601 date"),
        ({"name": "Bad-Name"}, "name", "lower-case letters"),
        ({"name": "1crm"}, "name", "starting with a letter"),
    ],
)
def test_create_reports_each_invalid_field(client, fields, field, message):
    body = {"name": "crm", "connector": "salesforce", "config": SF_CONFIG, **fields}
    error = error_body(client.post(BASE, json=body), 422, "ConfigurationError")
    assert list(error["field_errors"]) == [field], error
    assert message in error["field_errors"][field]
    assert field in error["detail"]
    assert names(client) == []


def test_create_reports_every_invalid_field_at_once(client):
    body = {
        "name": "crm",
        "connector": "postgres",
        "config": {"host": 5, "user": "u", "zone": "eu"},
        "schedule": "0 0 0 0 0",
        "streams": [{"name": "orders"}],
    }
    error = error_body(client.post(BASE, json=body), 422, "ConfigurationError")
    assert error["field_errors"] == {
        "host": "expected text, got int",
        "zone": error["field_errors"]["zone"],
        "password": "required secret is not set",
        "database": "required setting is missing",
        "schedule": error["field_errors"]["schedule"],
        "streams": error["field_errors"]["streams"],
    }
    assert error["field_errors"]["zone"].startswith("unknown setting for PostgreSQL")
    assert "<schema>-<table>" in error["field_errors"]["streams"]
    assert names(client) == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": 5, "connector": "salesforce"}, {"name"}),
        ({"connector": "salesforce"}, {"name"}),
        ({"name": "crm", "connector": "salesforce", "config": "x=1"}, {"config"}),
        ({"name": "crm", "connector": "salesforce", "config": [1]}, {"config"}),
        ({"name": "crm", "connector": "salesforce", "streams": "Account"}, {"streams"}),
        (
            {"name": "crm", "connector": "salesforce", "streams": [{"nom": "x"}]},
            {"streams.0.name", "streams.0.nom"},
        ),
        ({"name": "crm", "connector": "salesforce", "enabled": "maybe"}, {"enabled"}),
        ({"name": "crm", "connector": "salesforce", "destination": 3}, {"destination"}),
        ({"name": "crm", "connector": "salesforce", "owner": "me"}, {"owner"}),
        ({"name": "x" * 64, "connector": "salesforce"}, {"name"}),
        ({"name": "", "connector": ""}, {"name", "connector"}),
        ({"name": "crm", "connector": "salesforce", "description": "d" * 2001}, {"description"}),
        ([], {"body"}),
    ],
)
def test_create_reports_invalid_body_types_per_field(client, body, fields):
    error = error_body(client.post(BASE, json=body), 422, "ValidationError")
    assert set(error["field_errors"]) == fields
    assert all(error["field_errors"].values())
    assert names(client) == []


def test_create_reports_malformed_json(client):
    response = client.post(BASE, content=b"{not json", headers={"Content-Type": "application/json"})
    error = error_body(response, 422, "ValidationError")
    assert error["field_errors"]


def test_422_never_echoes_a_wrongly_typed_secret(client, canary):
    attempts = [
        # Secrets of the wrong type, at the service's validation.
        {"config": {**SF_CONFIG, "client_secret": [canary], "refresh_token": {"v": canary}}},
        {"config": {"client_id": "c", "client_secret": 7, "refresh_token": [canary, canary]}},
        # The same secret where the body's model refuses it.
        {"config": [canary]},
        {"config": canary},
        {"name": [canary]},
        {"description": {"secret": canary}},
        {"streams": [{"name": canary, "replication_key": [canary]}]},
        {"enabled": canary},
        {"destination": canary},
        {"extra_secret": canary},
    ]
    for fields in attempts:
        body = {"name": "crm", "connector": "salesforce", "config": SF_CONFIG, **fields}
        for params in ({}, {"test": "true"}):
            response = client.post(BASE, json=body, params=params)
            assert response.status_code == 422, (fields, response.text)
            assert canary not in response.text, fields
            assert all(canary not in v for v in response.headers.values())
        response = client.post(
            f"{CONNECTORS}/salesforce/test", json={"config": fields.get("config")}
        )
        assert response.status_code == 422
        assert canary not in response.text
    assert names(client) == []


def test_422_never_echoes_rejected_values_of_any_field(client, canary):
    """A secret pasted into the wrong field must not come back in the error either.

    BUG: the service's messages quote the rejected value (``got 'canary-…'``) for
    booleans, numbers, the schedule and the start date.
    """
    attempts = {
        "is_sandbox": {"config": {**SF_CONFIG, "is_sandbox": canary}},
        "quota_percent_total": {"config": {**SF_CONFIG, "quota_percent_total": canary}},
        "lookback_window": {"config": {**SF_CONFIG, "lookback_window": canary}},
        "schedule": {"schedule": canary},
        "start_date": {"start_date": canary},
    }
    echoed = []
    for field, extra in attempts.items():
        body = {"name": "crm", "connector": "salesforce", "config": SF_CONFIG, **extra}
        response = client.post(BASE, json=body)
        error = error_body(response, 422, "ConfigurationError")
        assert list(error["field_errors"]) == [field]
        if canary in response.text:
            echoed.append(field)
    assert echoed == [], f"the 422 body quotes the rejected value of {echoed}"


def test_create_refuses_a_name_with_a_trailing_newline(client, platform):
    """BUG: NAME_PATTERN ends with ``$`` and is used with ``match``: "crm\\n" passes,
    and Dagster then refuses the whole code location ("crm\\n" is not a valid name)."""
    response = client.post(
        BASE, json={"name": "crm\n", "connector": "salesforce", "config": SF_CONFIG}
    )
    error = error_body(response, 422, "ConfigurationError")
    assert list(error["field_errors"]) == ["name"]
    assert platform.service.store.list_all() == []


def test_create_refuses_a_dynamic_stream_name_with_a_trailing_newline(client, platform):
    """BUG: the connector's stream_name_pattern (ending in ``$``) is applied with
    ``re.match``, so "public-orders\\n" is accepted as a stream name."""
    response = client.post(
        BASE,
        json={
            "name": "shop",
            "connector": "postgres",
            "config": POSTGRES_CONFIG,
            "streams": [{"name": "public-orders\n"}],
        },
    )
    error = error_body(response, 422, "ConfigurationError")
    assert list(error["field_errors"]) == ["streams"]
    assert platform.service.store.list_all() == []


def test_create_refuses_streams_whose_asset_keys_collide(client, platform):
    """BUG: "public-orders$" and "public-orders_" are two stream names but one asset key
    part (public_orders_); the service checks only the names for duplicates, and Dagster
    then refuses the whole code location ("conflicting AssetSpecs with the same key")."""
    response = client.post(
        BASE,
        json={
            "name": "shop",
            "connector": "postgres",
            "config": POSTGRES_CONFIG,
            "streams": [{"name": "public-orders$"}, {"name": "public-orders_"}],
        },
    )
    error = error_body(response, 422, "ConfigurationError")
    assert list(error["field_errors"]) == ["streams"]
    assert platform.service.store.list_all() == []


@pytest.mark.parametrize("start_date", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"])
def test_a_start_date_out_of_range_is_a_422_not_a_500(make_client, platform, start_date):
    """BUG: the date parses, but converting it to UTC overflows (OverflowError → 500)."""
    client = make_client(raise_server_exceptions=False)
    body = {"name": "crm", "connector": "salesforce", "config": SF_CONFIG, "start_date": start_date}
    error = error_body(client.post(BASE, json=body), 422, "ConfigurationError")
    assert list(error["field_errors"]) == ["start_date"]
    create(client, "crm")
    response = client.patch(f"{BASE}/crm", json={"start_date": start_date})
    error = error_body(response, 422, "ConfigurationError")
    assert list(error["field_errors"]) == ["start_date"]
    assert platform.service.get("crm").version == 1


def test_a_huge_integer_setting_is_a_422_not_a_500(make_client):
    """BUG: ``math.isnan`` on an int beyond float range raises OverflowError → 500."""
    client = make_client(raise_server_exceptions=False)
    huge = "1" + "0" * 400  # valid JSON; Python parses it as an int
    config = (
        '{"client_id":"c","client_secret":"s-secret-value","refresh_token":"r-token-value",'
        '"lookback_window":' + huge
    )
    for path, body in [
        (BASE, '{"name":"crm","connector":"salesforce","config":' + config + "}}"),
        (f"{CONNECTORS}/salesforce/test", '{"config":' + config + "}}"),
    ]:
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        error = error_body(response, 422, "ConfigurationError")
        assert list(error["field_errors"]) == ["lookback_window"]


def test_timestamps_are_utc_and_the_same_in_every_response(client):
    """BUG (SQLite, the embedded default): timestamps read back from the store are naive,
    so GET shows "2026-01-01T10:00:00" where the create answered "…Z" (and the OpenAPI
    schema's ``format: date-time``, which requires an offset, is violated)."""
    created = create(client, "crm")["integration"]
    shown = client.get(f"{BASE}/crm").json()
    listed = client.get(BASE).json()[0]
    for key in ("created_at", "updated_at"):
        assert utc(created[key]).tzinfo is not None
        assert utc(shown[key]).tzinfo is not None, shown[key]
        assert utc(listed[key]).tzinfo is not None, listed[key]
        assert utc(shown[key]) == utc(created[key])


@pytest.mark.postgres
def test_a_nul_character_is_not_a_500_on_a_postgresql_store(platform, postgres_database, dead_port):
    """BUG: PostgreSQL text cannot hold NUL; a description with "\x00" reaches the
    database and fails there (psycopg2 ValueError → 500), on create and on PATCH."""
    settings = dataclasses.replace(
        platform.settings, dagster_url=DAGSTER_UI, database_url=postgres_database
    )
    app = create_app(
        settings,
        environ=app_environ(platform, dead_port),
        api_token=TOKEN,
        dagster=DagsterClient(f"http://127.0.0.1:{dead_port}", timeout_s=1),
    )
    with TestClient(app, headers=auth(), raise_server_exceptions=False) as client:
        body = {"name": "crm", "connector": "salesforce", "config": SF_CONFIG}
        response = client.post(BASE, json={**body, "description": "a\x00b"})
        assert response.status_code in (201, 422), response.text
        if response.status_code == 422:
            assert list(response.json()["field_errors"]) == ["description"]
            create(client, "crm")
        response = client.patch(f"{BASE}/crm", json={"description": "c\x00d"})
        assert response.status_code in (200, 422), response.text


# -- connection tests against the sandbox ----------------------------------------------


def test_create_with_test_refuses_a_failing_config_and_saves_nothing(
    sandbox_client, sandbox, canary
):
    wrong = f"{canary}-wrong"
    response = sandbox_client.post(
        BASE,
        params={"test": "true"},
        json={
            "name": "crm",
            "connector": "salesforce",
            "config": salesforce_config(sandbox, refresh_token=wrong),
        },
    )
    error = error_body(response, 422, "ConfigurationError")
    assert "authentication" in error["detail"]
    assert "refresh token" in error["detail"]
    assert error["field_errors"]["config"].startswith("authentication: ")
    assert error["instruction"]
    assert canary not in response.text
    assert ("POST", "/services/oauth2/token") in sandbox.request_log
    assert names(sandbox_client) == []
    error_body(sandbox_client.get(f"{BASE}/crm"), 404, "IntegrationNotFoundError")


def test_create_with_test_accepts_a_working_config(sandbox_client, sandbox, platform):
    body = create(sandbox_client, "crm", config=salesforce_config(sandbox), params={"test": "true"})
    assert body["integration"]["name"] == "crm"
    assert ("GET", "/services/data/v61.0/limits") in sandbox.request_log
    assert stored_config(platform, "crm") == salesforce_config(sandbox)


def test_create_with_test_validates_before_testing(sandbox_client, sandbox):
    response = sandbox_client.post(
        BASE,
        params={"test": "true"},
        json={"name": "crm", "connector": "salesforce", "config": {"client_id": 1}},
    )
    error = error_body(response, 422, "ConfigurationError")
    assert set(error["field_errors"]) == {"client_id", "client_secret", "refresh_token"}
    assert sandbox.request_log == []
    assert names(sandbox_client) == []


def test_saved_integration_test_ok_and_authentication_failure(sandbox_client, sandbox, canary):
    create(sandbox_client, "crm", config=salesforce_config(sandbox))
    create(
        sandbox_client,
        "crm_wrong",
        config=salesforce_config(sandbox, refresh_token="nope-wrong-token"),
    )

    response = sandbox_client.post(f"{BASE}/crm/test")
    assert response.status_code == 200, response.text
    result = response.json()
    assert set(result) == {"ok", "reason", "message", "hint", "duration_s", "details"}
    assert result["ok"] is True and result["reason"] == "ok"
    assert result["details"]["instance_url"] == sandbox.url
    assert result["duration_s"] >= 0
    assert canary not in response.text

    response = sandbox_client.post(f"{BASE}/crm_wrong/test")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is False
    assert result["reason"] == "authentication"
    assert "refresh token" in result["message"]
    assert result["hint"]
    assert canary not in response.text

    error_body(sandbox_client.post(f"{BASE}/nope/test"), 404, "IntegrationNotFoundError")


def test_unsaved_config_test(sandbox_client, sandbox, canary):
    path = f"{CONNECTORS}/salesforce/test"
    response = sandbox_client.post(path, json={"config": salesforce_config(sandbox)})
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True

    wrong = f"{canary}-wrong"
    response = sandbox_client.post(
        path, json={"config": salesforce_config(sandbox, client_secret=wrong)}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["ok"], result["reason"]) == (False, "authentication")
    assert "Client Secret" in result["message"]
    assert canary not in response.text

    error = error_body(sandbox_client.post(path, json={"config": {"client_id": "c"}}), 422)
    assert set(error["field_errors"]) == {"client_secret", "refresh_token"}
    error = error_body(sandbox_client.post(path, json={"settings": {}}), 422, "ValidationError")
    assert set(error["field_errors"]) == {"settings"}
    assert names(sandbox_client) == []


def test_connection_test_reports_an_unreachable_login(client):
    # The default login URL of these tests is the closed port.
    response = client.post(f"{CONNECTORS}/salesforce/test", json={"config": SF_CONFIG})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["ok"], result["reason"]) == (False, "network")


# -- read, update, delete, enable ------------------------------------------------------


def test_list_and_get(client):
    assert client.get(BASE).json() == []
    create(client, "crm")
    create(client, "shop", "postgres")
    listed = client.get(BASE).json()
    assert [i["name"] for i in listed] == ["crm", "shop"]
    for item in listed:
        # The list shows no config (and reads no key); no Dagster instance: no status.
        assert item["config"] is None and item["secrets"] is None
        assert item["status"] is None
        assert item["links"]["dagster"] == f"{DAGSTER_UI}/asset-groups/{item['name']}"

    response = client.get(f"{BASE}/shop")
    assert response.status_code == 200
    assert response.headers["etag"] == 'W/"1"'
    shown = response.json()
    assert shown["config"] == {k: v for k, v in POSTGRES_CONFIG.items() if k != "password"}
    assert shown["secrets"] == {"password": "set"}
    assert shown["streams"] == [
        {
            "name": "public-orders",
            "replication_key": "updated_at",
            "primary_key": [],
            **UNDISCOVERED,
        }
    ]
    assert POSTGRES_CONFIG["password"] not in response.text
    error = error_body(client.get(f"{BASE}/nope"), 404, "IntegrationNotFoundError")
    assert "nope" in error["detail"]


def test_patch_changes_fields_and_bumps_the_version(client, platform):
    create(client, "crm")
    response = client.patch(
        f"{BASE}/crm",
        json={
            "description": "Sales CRM",
            "schedule": "*/30 * * * *",
            "streams": [{"name": "Opportunity"}],
            "start_date": "2023-06-01T12:00:00+02:00",
            "destination": "postgres",
            "config": {"api_type": "BULK", "is_sandbox": True},
            "version": 1,
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == 'W/"2"'
    body = response.json()
    assert body["definitions"] == "pending"
    integration = body["integration"]
    assert integration["version"] == 2
    assert integration["description"] == "Sales CRM"
    assert integration["schedule"] == "*/30 * * * *"
    assert [s["name"] for s in integration["streams"]] == ["Opportunity"]
    assert integration["start_date"] == "2023-06-01T10:00:00Z"
    assert integration["destination"] == "postgres"
    assert integration["config"] == {
        "client_id": "sf-client-id",
        "api_type": "BULK",
        "is_sandbox": True,
    }
    assert integration["secrets"] == {"client_secret": "set", "refresh_token": "set"}
    assert stored_config(platform, "crm") == {**SF_CONFIG, "api_type": "BULK", "is_sandbox": True}
    # A null non-secret goes back to its default (it is removed from the stored config).
    client.patch(f"{BASE}/crm", json={"config": {"api_type": None}})
    assert "api_type" not in stored_config(platform, "crm")


def test_patch_keeps_omitted_and_blank_secrets(sandbox_client, sandbox, platform):
    create(sandbox_client, "crm", config=salesforce_config(sandbox))
    before = stored_config(platform, "crm")
    for config in (
        {"instance_url": sandbox.url},
        {"client_secret": "", "refresh_token": None},
        {},
    ):
        response = sandbox_client.patch(f"{BASE}/crm", json={"config": config})
        assert response.status_code == 200, response.text
        assert response.json()["integration"]["secrets"] == {
            "client_secret": "set",
            "refresh_token": "set",
        }
    after = stored_config(platform, "crm")
    assert after == {**before, "instance_url": sandbox.url}
    # The kept secrets still log in.
    result = sandbox_client.post(f"{BASE}/crm/test").json()
    assert (result["ok"], result["reason"]) == (True, "ok"), result

    # A new secret replaces the old one.
    response = sandbox_client.patch(
        f"{BASE}/crm", json={"config": {"refresh_token": "rotated-token"}}
    )
    assert response.status_code == 200, response.text
    assert stored_config(platform, "crm")["refresh_token"] == "rotated-token"
    result = sandbox_client.post(f"{BASE}/crm/test").json()
    assert (result["ok"], result["reason"]) == (False, "authentication"), result


def _unchanged(
    platform: Any, name: str, version: int, config: dict[str, Any], description: str = ""
) -> None:
    stored = platform.service.get(name)
    assert stored.version == version
    assert stored.description == description
    assert platform.service.decrypted_config(stored) == config


def test_patch_with_a_stale_version_is_409_and_changes_nothing(client, platform):
    create(client, "crm")
    first = client.patch(f"{BASE}/crm", json={"description": "first", "version": 1})
    assert first.status_code == 200, first.text
    assert first.json()["integration"]["version"] == 2
    response = client.patch(
        f"{BASE}/crm",
        json={"config": {"client_secret": "new-secret"}, "description": "x", "version": 1},
    )
    error = error_body(response, 409, "ConcurrentUpdateError")
    assert "you read version 1, it is now 2" in error["detail"]
    _unchanged(platform, "crm", 2, SF_CONFIG, "first")
    # A PATCH that changes nothing writes nothing: the version stays.
    same = client.patch(f"{BASE}/crm", json={"description": "first", "version": 2})
    assert same.json()["integration"]["version"] == 2


def test_patch_with_a_stale_if_match_is_409_and_changes_nothing(client, platform):
    create(client, "crm")
    first = client.patch(
        f"{BASE}/crm", json={"schedule": "5 * * * *"}, headers={"If-Match": 'W/"1"'}
    )
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == 'W/"2"'
    for if_match in ('W/"1"', '"1"', "1", 'W/"3"'):
        response = client.patch(
            f"{BASE}/crm",
            json={"config": {"refresh_token": "new-token-value"}, "description": "x"},
            headers={"If-Match": if_match},
        )
        error_body(response, 409, "ConcurrentUpdateError")
    # The header wins over the body's version.
    response = client.patch(
        f"{BASE}/crm", json={"description": "x", "version": 2}, headers={"If-Match": 'W/"1"'}
    )
    error_body(response, 409, "ConcurrentUpdateError")
    _unchanged(platform, "crm", 2, SF_CONFIG)
    response = client.patch(
        f"{BASE}/crm", json={"description": "ok"}, headers={"If-Match": first.headers["etag"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["integration"]["version"] == 3


def test_patch_with_an_unparsable_if_match_is_409(client, platform):
    create(client, "crm")
    for if_match in ("abc", 'W/"x"', ""):
        response = client.patch(
            f"{BASE}/crm", json={"description": "x"}, headers={"If-Match": if_match}
        )
        error = error_body(response, 409, "ConcurrentUpdateError")
        assert "If-Match" in error["detail"]
    _unchanged(platform, "crm", 1, SF_CONFIG)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"config": {"colour": "red"}}, "colour"),
        ({"config": {"is_sandbox": "no"}}, "is_sandbox"),
        ({"schedule": "never"}, "schedule"),
        ({"streams": [{"name": "Lead"}]}, "streams"),
        ({"start_date": "soon"}, "start_date"),
    ],
)
def test_patch_with_an_invalid_field_is_422_and_changes_nothing(client, platform, body, field):
    create(client, "crm")
    body = {**body, "description": "changed too"}
    error = error_body(client.patch(f"{BASE}/crm", json=body), 422, "ConfigurationError")
    assert list(error["field_errors"]) == [field]
    _unchanged(platform, "crm", 1, SF_CONFIG)


def test_patch_refuses_unknown_fields_and_unknown_integrations(client, platform):
    create(client, "crm")
    error = error_body(client.patch(f"{BASE}/crm", json={"enabled": False}), 422)
    assert list(error["field_errors"]) == ["enabled"]
    error = error_body(client.patch(f"{BASE}/crm", json={"version": "one"}), 422)
    assert list(error["field_errors"]) == ["version"]
    error_body(client.patch(f"{BASE}/nope", json={}), 404, "IntegrationNotFoundError")
    _unchanged(platform, "crm", 1, SF_CONFIG)


def test_delete(client, platform):
    create(client, "crm")
    create(client, "shop", "postgres")
    response = client.delete(f"{BASE}/crm")
    assert response.status_code == 200, response.text
    assert response.json() == {"integration": None, "definitions": "pending", "detail": ""}
    assert names(client) == ["shop"]
    error_body(client.get(f"{BASE}/crm"), 404, "IntegrationNotFoundError")
    error_body(client.delete(f"{BASE}/crm"), 404, "IntegrationNotFoundError")
    # The name is free again.
    create(client, "crm")
    assert [s.name for s in platform.service.store.list_all()] == ["crm", "shop"]


def test_enable_and_disable(client, platform):
    create(client, "crm")
    response = client.post(f"{BASE}/crm/disable")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["definitions"] == "pending"
    assert body["integration"]["enabled"] is False
    assert body["integration"]["links"]["dagster"] == DAGSTER_UI
    assert platform.service.get("crm").enabled is False
    # Disabling twice is harmless and writes nothing.
    assert client.post(f"{BASE}/crm/disable").json()["integration"]["version"] == 2

    body = client.post(f"{BASE}/crm/enable").json()
    assert body["integration"]["enabled"] is True
    assert body["integration"]["version"] == 3
    assert platform.service.get("crm").enabled is True
    assert stored_config(platform, "crm") == SF_CONFIG
    for action in ("enable", "disable"):
        error_body(client.post(f"{BASE}/nope/{action}"), 404, "IntegrationNotFoundError")


# -- sync ------------------------------------------------------------------------------


def test_sync_is_503_when_dagster_is_unreachable(client):
    create(client, "crm")
    for body in (None, {}, {"streams": ["Account"], "full_refresh": True}):
        response = client.post(f"{BASE}/crm/sync", json=body)
        error = error_body(response, 503, "DagsterUnavailableError")
        assert "cannot be reached" in error["detail"]
        assert "INTEGRATIONS_DAGSTER_URL" in error["instruction"]


def test_sync_refuses_unknown_streams_disabled_and_unknown_integrations(client):
    create(client, "crm", streams=[{"name": "Account"}, {"name": "Contact"}])
    response = client.post(f"{BASE}/crm/sync", json={"streams": ["Account", "Opportunity"]})
    error = error_body(response, 422, "ConfigurationError")
    assert error["field_errors"] == {"streams": "unknown stream(s): Opportunity"}
    assert "Account, Contact" in error["instruction"]

    error = error_body(client.post(f"{BASE}/crm/sync", json={"streams": "Account"}), 422)
    assert list(error["field_errors"]) == ["streams"]
    error = error_body(client.post(f"{BASE}/crm/sync", json={"full": True}), 422)
    assert list(error["field_errors"]) == ["full"]

    client.post(f"{BASE}/crm/disable")
    error = error_body(client.post(f"{BASE}/crm/sync"), 422, "ConfigurationError")
    assert "disabled" in error["detail"]
    assert "/crm/enable" in error["instruction"]

    error_body(client.post(f"{BASE}/nope/sync"), 404, "IntegrationNotFoundError")


# -- bulk ------------------------------------------------------------------------------


def test_bulk_actions_report_per_name(client, platform):
    create(client, "crm")
    create(client, "shop", "postgres")
    bulk = f"{BASE}/bulk"

    response = client.post(
        bulk, json={"action": "disable", "names": ["crm", "nope", "shop", "crm"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["definitions"] == "pending"
    assert [(r["name"], r["ok"]) for r in body["results"]] == [
        ("crm", True),
        ("nope", False),
        ("shop", True),
    ]
    assert "No integration named 'nope'" in body["results"][1]["error"]
    assert body["results"][0]["error"] is None and body["results"][0]["run_id"] is None
    assert not platform.service.get("crm").enabled and not platform.service.get("shop").enabled

    # Syncing a disabled integration fails per name; nothing changes, nothing reloads.
    body = client.post(bulk, json={"action": "sync", "names": ["crm", "ghost"]}).json()
    assert body["definitions"] == "unchanged"
    assert [(r["name"], r["ok"]) for r in body["results"]] == [("crm", False), ("ghost", False)]
    assert "disabled" in body["results"][0]["error"]

    body = client.post(bulk, json={"action": "enable", "names": ["shop", "ghost"]}).json()
    assert [(r["name"], r["ok"]) for r in body["results"]] == [("shop", True), ("ghost", False)]
    assert platform.service.get("shop").enabled and not platform.service.get("crm").enabled

    # Enabled, but Dagster is unreachable: reported per name too.
    body = client.post(bulk, json={"action": "sync", "names": ["shop"]}).json()
    assert body["results"][0]["ok"] is False
    assert "cannot be reached" in body["results"][0]["error"]

    # Unknown names only: nothing changed, nothing to reload.
    body = client.post(bulk, json={"action": "delete", "names": ["ghost", "nope"]}).json()
    assert body["definitions"] == "unchanged"
    assert not any(r["ok"] for r in body["results"])

    body = client.post(bulk, json={"action": "delete", "names": ["shop", "ghost", "crm"]}).json()
    assert [(r["name"], r["ok"]) for r in body["results"]] == [
        ("shop", True),
        ("ghost", False),
        ("crm", True),
    ]
    assert body["definitions"] == "pending"
    assert names(client) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "explode", "names": ["crm"]}, "action"),
        ({"action": "delete", "names": []}, "names"),
        ({"action": "delete", "names": "crm"}, "names"),
        ({"action": "delete"}, "names"),
        ({"action": "delete", "names": ["crm"], "force": True}, "force"),
    ],
)
def test_bulk_refuses_an_invalid_body(client, platform, body, field):
    create(client, "crm")
    error = error_body(client.post(f"{BASE}/bulk", json=body), 422, "ValidationError")
    assert list(error["field_errors"]) == [field]
    assert names(client) == ["crm"]


# -- runs and logs, after real materializations ----------------------------------------


@pytest.mark.usefixtures("meltano_plugins")
def test_runs_status_and_logs_after_real_runs(
    platform, sandbox, dagster_home, dagster_instance, make_client, canary
):
    client = make_client(dagster_home=dagster_home)
    create(client, "crm", config=salesforce_config(sandbox), start_date=START)
    create(client, "other", "postgres")
    assert client.get(f"{BASE}/crm/runs").json() == []
    # The status is cached for 2 s; these reads are meant to see every change at once.
    client.app.state.platform.status_reader().ttl_s = 0
    status = client.get(BASE).json()[0]["status"]
    assert status["last_run"] is None and status["last_success_at"] is None
    assert status["row_counts"] == {}
    assert utc(status["next_run_at"]) is not None

    good = materialize(platform, "crm", dagster_instance)
    assert good.success
    # A failed run: a wrong refresh token, set through the API.
    patched = client.patch(f"{BASE}/crm", json={"config": {"refresh_token": f"{canary}-wrong"}})
    assert patched.status_code == 200, patched.text
    bad = materialize(platform, "crm", dagster_instance, raise_on_error=False)
    assert not bad.success
    expected_rows = {s: len(sandbox.records(s)) for s in SF_STREAMS}

    response = client.get(f"{BASE}/crm/runs")
    assert response.status_code == 200, response.text
    runs = response.json()
    assert [r["run_id"] for r in runs] == [bad.run_id, good.run_id]  # newest first
    assert [r["status"] for r in runs] == ["FAILURE", "SUCCESS"]
    for run in runs:
        assert run["url"] == f"{DAGSTER_UI}/runs/{run['run_id']}"
        started, ended = utc(run["started_at"]), utc(run["ended_at"])
        assert started and ended and ended >= started
        assert run["duration_s"] == pytest.approx((ended - started).total_seconds(), abs=0.002)
        assert run["duration_s"] > 0
    assert runs[1]["row_counts"] == expected_rows
    assert runs[0]["row_counts"] == {}
    assert [r["run_id"] for r in client.get(f"{BASE}/crm/runs?limit=1").json()] == [bad.run_id]
    error_body(client.get(f"{BASE}/crm/runs?limit=0"), 422, "ValidationError")
    error_body(client.get(f"{BASE}/crm/runs?limit=201"), 422, "ValidationError")
    assert client.get(f"{BASE}/other/runs").json() == []
    error_body(client.get(f"{BASE}/nope/runs"), 404, "IntegrationNotFoundError")

    # The list and the detail show the status: last run, last success, rows, next run.
    listed = {i["name"]: i for i in client.get(BASE).json()}
    status = listed["crm"]["status"]
    assert status["last_run"] == runs[0]
    assert utc(status["last_success_at"]) == utc(runs[1]["ended_at"])
    assert status["row_counts"] == expected_rows
    assert utc(status["next_run_at"]) > utc(runs[0]["ended_at"])
    assert listed["other"]["status"]["last_run"] is None
    shown = client.get(f"{BASE}/crm").json()
    assert shown["status"]["last_run"]["run_id"] == bad.run_id
    assert shown["status"]["row_counts"] == expected_rows
    client.post(f"{BASE}/crm/disable")
    assert client.get(f"{BASE}/crm").json()["status"]["next_run_at"] is None

    # Logs: every line of the run, redacted.
    response = client.get(f"{BASE}/crm/runs/{good.run_id}/logs")
    assert response.status_code == 200, response.text
    lines = response.json()
    assert len(lines) > 10
    assert {ln["level"] for ln in lines} <= {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    assert all(set(ln) == {"timestamp", "level", "step", "message"} for ln in lines)
    assert any(ln["step"] == "crm_sync" for ln in lines)
    assert any("crm_sync" in ln["message"] for ln in lines)
    response = client.get(f"{BASE}/crm/runs/{bad.run_id}/logs")
    assert response.status_code == 200, response.text
    assert any(ln["level"] == "ERROR" for ln in response.json())
    assert MASK in response.text  # the tap logged its token request, redacted
    assert canary not in response.text

    # The route redacts again (a second net): a line that reached the instance with the
    # integration's secret in clear, raw and URL-encoded, is masked in the answer.
    dagster_instance.report_engine_event(
        f"leaked client_secret={canary} and {quote(canary + '/x', safe='')}",
        dagster_instance.get_run_by_id(good.run_id),
    )
    response = client.get(f"{BASE}/crm/runs/{good.run_id}/logs")
    assert canary not in response.text
    assert any(
        ln["message"].startswith(f"leaked client_secret={MASK} and ") for ln in response.json()
    )

    # A run of another integration, or no run at all, is not this integration's.
    error = error_body(client.get(f"{BASE}/other/runs/{good.run_id}/logs"), 404)
    assert error["error"] == "IntegrationNotFoundError"
    assert good.run_id in error["detail"]
    error_body(client.get(f"{BASE}/crm/runs/not-a-run/logs"), 404, "IntegrationNotFoundError")
    error_body(client.get(f"{BASE}/nope/runs/{good.run_id}/logs"), 404)


# -- the canary: a secret that no response may ever carry ------------------------------


@pytest.mark.usefixtures("meltano_plugins")
def test_no_route_ever_returns_the_secret(
    platform, sandbox, canary, dagster_home, dagster_instance, make_client
):
    """Every route, successes and failures, around a good run and a failed one."""
    client = make_client(dagster_home=dagster_home)
    public = make_client(authenticated=False, dagster_home=dagster_home)
    seen: list[httpx.Response] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append(response)

    for c in (client, public):
        c.event_hooks = {"request": [], "response": [record]}

    good_config = salesforce_config(sandbox)  # client_secret and refresh_token: the canary
    wrong_config = salesforce_config(sandbox, refresh_token=f"{canary}-wrong")
    assert good_config["client_secret"] == canary and good_config["refresh_token"] == canary

    # Public routes, and the same routes refused for a missing or wrong token.
    public.get("/healthz")
    public.get(f"{CONNECTORS}/salesforce/logo")
    public.get(BASE)
    public.post(BASE, json={"name": "crm", "connector": "salesforce", "config": good_config})
    public.post(f"{CONNECTORS}/salesforce/test", json={"config": good_config}, headers=auth(canary))
    public.get(f"{BASE}/crm", headers=auth(canary))

    # The catalog.
    client.get(CONNECTORS, params={"q": "crm"})
    client.get(f"{CONNECTORS}/salesforce")
    client.post(f"{CONNECTORS}/salesforce/test", json={"config": good_config})
    client.post(f"{CONNECTORS}/salesforce/test", json={"config": wrong_config})
    client.post(f"{CONNECTORS}/salesforce/test", json={"config": {**good_config, "x": canary}})
    client.post(
        f"{CONNECTORS}/salesforce/test", json={"config": {**good_config, "client_secret": [canary]}}
    )

    # Creation: tested, refused, duplicate, invalid.
    assert (
        client.post(
            BASE,
            params={"test": "true"},
            json={
                "name": "crm",
                "connector": "salesforce",
                "config": good_config,
                "start_date": START,
            },
        ).status_code
        == 201
    )
    assert (
        client.post(
            BASE,
            params={"test": "true"},
            json={"name": "crm_wrong", "connector": "salesforce", "config": wrong_config},
        ).status_code
        == 422
    )
    assert (
        client.post(
            BASE,
            json={
                "name": "crm_wrong",
                "connector": "salesforce",
                "config": wrong_config,
                "start_date": START,
            },
        ).status_code
        == 201
    )
    assert (
        client.post(
            BASE, json={"name": "crm", "connector": "salesforce", "config": good_config}
        ).status_code
        == 409
    )
    client.post(
        BASE,
        json={
            "name": "crm2",
            "connector": "salesforce",
            "config": {**good_config, "refresh_token": {"t": canary}},
        },
    )

    # Reads, tests, updates.
    client.get(BASE)
    client.get(f"{BASE}/crm")
    client.get(f"{BASE}/crm_wrong")
    client.post(f"{BASE}/crm/test")
    client.post(f"{BASE}/crm_wrong/test")
    client.get(f"{BASE}/crm/discovery")  # never discovered: 404
    client.post(f"{BASE}/crm/discover")
    client.post(f"{BASE}/crm_wrong/discover")
    client.get(f"{BASE}/crm/discovery")
    client.get(f"{BASE}/crm/schema")
    client.post(f"{BASE}/crm/schema/approve", json={"stream": "Account"})  # nothing: 422
    client.post(f"{CONNECTORS}/salesforce/discover", json={"config": wrong_config})
    client.post(f"{CONNECTORS}/salesforce/discover", json={"config": {**good_config, "x": canary}})
    client.patch(f"{BASE}/crm", json={"description": "CRM", "config": {"client_secret": ""}})
    client.patch(f"{BASE}/crm", json={"description": "stale", "version": 1})
    client.patch(f"{BASE}/crm", json={"config": {"client_secret": 5}}, headers={"If-Match": "W/1"})
    client.patch(f"{BASE}/crm", json={"config": {"client_secret": canary, "is_sandbox": False}})

    # Runs: a good one and a failed one (wrong refresh token), seen by the real sensors.
    sensors = SensorHarness(dagster_instance, [])
    good = materialize(platform, "crm", dagster_instance)
    bad = materialize(platform, "crm_wrong", dagster_instance, raise_on_error=False)
    assert good.success and not bad.success
    sensors.tick()
    reset_notification_runtime()
    [note] = client.get(NOTIFICATIONS, params={"integration": "crm_wrong"}).json()
    assert note["category"] == "authentication"
    assert [n["id"] for n in client.get(f"{BASE}/crm_wrong").json()["notifications"]] == [
        note["id"]
    ]
    client.get(f"{NOTIFICATIONS}/{note['id']}")
    client.get(f"{NOTIFICATIONS}/no-such-id")  # 404
    client.post(f"{NOTIFICATIONS}/{note['id']}/acknowledge")
    client.post(f"{NOTIFICATIONS}/{note['id']}/resolve")
    client.post(f"{NOTIFICATIONS}/check")
    for name, run in (("crm", good), ("crm_wrong", bad)):
        assert client.get(f"{BASE}/{name}/runs").status_code == 200
        logs = client.get(f"{BASE}/{name}/runs/{run.run_id}/logs")
        assert logs.status_code == 200
        assert MASK in logs.text  # the secret was there, and was masked
    client.get(f"{BASE}/crm/runs/{bad.run_id}/logs")  # another integration's run: 404
    client.get(BASE)
    client.get(f"{BASE}/crm_wrong")

    # Sync, enable / disable, bulk, delete.
    client.post(f"{BASE}/crm/sync", json={"streams": ["Account"]})
    client.post(f"{BASE}/crm_wrong/disable")
    client.post(f"{BASE}/crm_wrong/sync")
    client.post(f"{BASE}/crm_wrong/enable")
    client.get(f"{BASE}/crm/state")
    client.post(f"{BASE}/crm/reset", json={"stream": "Account"})  # not confirmed: 422
    client.post(f"{BASE}/crm/reset", json={"stream": "Account", "confirm": True})
    client.post(f"{BASE}/crm/sync", json={"from_date": day(1), "to_date": day(2)})
    client.post(f"{BASE}/bulk", json={"action": "disable", "names": ["crm_wrong", "ghost"]})
    client.post(f"{BASE}/bulk", json={"action": "enable", "names": ["crm_wrong"]})
    client.post(f"{BASE}/bulk", json={"action": "sync", "names": ["crm", "crm_wrong"]})
    client.delete(f"{BASE}/crm_wrong")
    client.post(f"{BASE}/bulk", json={"action": "delete", "names": ["crm", "crm_wrong"]})
    client.get(BASE)

    # Destinations: one whose password is the canary, shown, edited, tested, removed.
    warehouse = {"host": "127.0.0.1", "port": 1, "user": "u", "password": canary, "database": "d"}
    client.get("/api/v1/destination-connectors")
    client.get("/api/v1/destination-connectors/postgres")
    client.get("/api/v1/destination-connectors/postgres/logo")
    client.post("/api/v1/destination-connectors/postgres/test", json={"config": warehouse})
    client.post(DESTINATIONS, json={"name": "wh", "connector": "postgres", "config": warehouse})
    client.post(DESTINATIONS, json={"name": "wh", "connector": "postgres", "config": warehouse})
    client.get(DESTINATIONS)
    client.get(f"{DESTINATIONS}/wh")
    client.patch(f"{DESTINATIONS}/wh", json={"config": {"password": "", "port": "x"}})
    client.patch(f"{DESTINATIONS}/wh", json={"config": {"password": canary + "2"}})
    client.post(f"{DESTINATIONS}/wh/test")
    client.post(f"{DESTINATIONS}/wh/test", json={"config": {"password": canary}})
    client.delete(f"{DESTINATIONS}/wh")
    client.get(f"{DESTINATIONS}/wh")  # 404

    # People: a user whose password is the canary, a token, the audit trail (which names
    # the fields the changes above set, never their values), sign-in and sign-out.
    client.post("/api/v1/users", json={"name": "dana", "role": "editor", "password": canary})
    client.post("/api/v1/auth/login", json={"name": "dana", "password": canary})
    client.post("/api/v1/auth/login", json={"name": "dana", "password": canary + "x"})  # 401
    client.get("/api/v1/me")
    client.get("/api/v1/auth/check")
    client.get("/api/v1/users")
    client.patch("/api/v1/users/dana", json={"role": "viewer", "password": canary + "2"})
    issued = client.post("/api/v1/tokens", json={"user": "dana", "name": "ci"}).json()
    client.get("/api/v1/tokens")
    client.delete(f"/api/v1/tokens/{issued['id']}")
    assert client.get("/api/v1/audit", params={"limit": 1000}).status_code == 200
    client.delete("/api/v1/users/dana")
    client.post("/api/v1/auth/logout")

    # Every operation was called, and the canary is in no body and no header.
    documented = operations(client.app)
    called = {
        (r.request.method, template_of(r.request.method, r.request.url.path, documented))
        for r in seen
    }
    assert called == documented, documented - called
    statuses = {r.status_code for r in seen}
    assert {200, 201, 401, 404, 409, 422, 503} <= statuses
    leaks = [
        f"{r.request.method} {r.request.url.path} -> {r.status_code}"
        for r in seen
        if canary in r.text or any(canary in f"{k}: {v}" for k, v in r.headers.items())
    ]
    assert leaks == []
