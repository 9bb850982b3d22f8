"""The wizard page's server side: the static page and its headers, and what the API
gives the page (the setting a notification points at, testing edits before saving)."""

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from integrations_platform.api.routes.notifications import settings_field
from integrations_platform.notifications import NotificationService, NotificationSettings
from integrations_platform.notifications.store import NotificationStore, Raised
from integrations_platform.web import STATIC_DIR
from tests.conftest import salesforce_config
from tests.unit.api.support import DAGSTER_UI, PUBLIC_ROUTES, operations

BASE = "/api/v1/integrations"
SF_CONFIG: dict[str, Any] = {
    "client_id": "sf-client-id",
    "client_secret": "sf-client-secret-value",
    "refresh_token": "sf-refresh-token-value",
}
INVALID_GRANT = (
    "Errors:\n[tap-salesforce] CRITICAL 400 Client Error: Bad Request for url: "
    'http://127.0.0.1:1/services/oauth2/token, Response from Salesforce: {"error": "invalid_grant"}'
)


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> / <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._inside = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside and data.strip():
            self.inline.append(data)


# -- the page ---------------------------------------------------------------------------


def _policy(response: Any) -> dict[str, str]:
    return dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )


def test_the_page_is_served_without_a_token_with_a_strict_policy(make_client):
    client = make_client(authenticated=False)
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    policy = _policy(response)
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "<title" in response.text and "Integrations</title>" in response.text

    redirect = client.get("/ui", follow_redirects=False)
    assert redirect.status_code == 307 and redirect.headers["location"] == "/"


def test_styles_are_only_from_the_page_or_carry_this_responses_nonce(client):
    first, second = client.get("/"), client.get("/")
    nonces = []
    for response in (first, second):
        style = _policy(response)["style-src"].split()
        assert style[0] == "'self'" and "'unsafe-inline'" not in style
        (nonce,) = re.findall(r"'nonce-([A-Za-z0-9_-]{20,})'", " ".join(style))
        assert f'<meta name="csp-nonce" content="{nonce}"/>' in response.text
        nonces.append(nonce)
    assert nonces[0] != nonces[1]  # one per response, never reused


def test_the_page_has_no_inline_script_or_style(client):
    page = _Tags()
    page.feed(client.get("/").text)
    executable = [
        text
        for (tag, attrs), text in zip(
            [t for t in page.tags if t[0] in ("script", "style") and "src" not in t[1]],
            page.inline,
            strict=False,
        )
        if tag == "style" or attrs.get("type") != "application/json"
    ]
    assert executable == []
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    data = [a for a in scripts if "src" not in a]
    assert data == [{"id": "__NEXT_DATA__", "type": "application/json"}]  # data, never run
    sources = [a["src"] for a in scripts if "src" in a]
    assert sources and all(s.startswith("/ui/static/_next/static/") for s in sources)
    for tag, attrs in page.tags:
        assert "style" not in attrs, tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)


def test_every_file_the_page_loads_is_served_with_its_type(make_client):
    client = make_client(authenticated=False)
    page = _Tags()
    page.feed(client.get("/").text)
    urls = [a["src"] for t, a in page.tags if t == "script" and a.get("src")]
    urls += [a["href"] for t, a in page.tags if t == "link" and a.get("rel") == "stylesheet"]
    assert any(u.endswith(".css") for u in urls)
    for url in urls:
        response = client.get(url or "")
        assert response.status_code == 200, url
        expected = "text/css" if (url or "").endswith(".css") else "text/javascript"
        assert response.headers["content-type"].startswith(expected), url
        # Content-hashed and free of data: cached for good, under the same strict policy.
        assert "immutable" in response.headers["cache-control"], url
        assert _policy(response)["default-src"] == "'none'"
    html_sinks = re.compile(r"document\.write\(|\beval\(")
    for name in STATIC_DIR.rglob("*.js"):
        assert not html_sinks.search(name.read_text()), name


def test_without_a_built_page_the_root_says_how_to_build_it(client, monkeypatch, tmp_path):
    from integrations_platform.web import routes

    monkeypatch.setattr(routes, "STATIC_DIR", tmp_path)
    response = client.get("/")
    assert response.status_code == 503
    assert "integrations page build" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/ui/static/nope.js",
        "/ui/static/",
        "/ui/static/%2e%2e/package.json",
        # An existing file of a served type, outside the folder.
        "/ui/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/connector_catalog/logos/salesforce.svg",
        "/ui/static/..%2f..%2f..%2f..%2fconnector_catalog/logos/salesforce.svg",
    ],
)
def test_nothing_outside_the_static_files_is_served(client, path):
    assert (STATIC_DIR / "../../../../connector_catalog/logos/salesforce.svg").resolve().is_file()
    response = client.get(path)
    assert response.status_code == 404, path
    assert "<svg" not in response.text


def test_the_page_routes_are_not_part_of_the_api(client):
    documented = operations(client.app)
    assert not [path for _, path in documented if not path.startswith(("/api/", "/healthz"))]
    assert PUBLIC_ROUTES <= documented


# -- the setting a notification points at ----------------------------------------------


def _notes(platform: Any) -> NotificationService:
    settings = NotificationSettings(dagster_url=DAGSTER_UI, api_url="http://api.example.test")
    return NotificationService(NotificationStore(platform.service.store.engine), settings)


@pytest.mark.parametrize(
    ("error", "field"),
    [
        (INVALID_GRANT, "refresh_token"),
        (
            "Errors:\n[tap-salesforce] CRITICAL invalid_client_id: client identifier invalid",
            "client_id",
        ),
        (
            "Errors:\n[tap-salesforce] CRITICAL invalid_client: invalid client credentials",
            "client_secret",
        ),
        # No credential named: the connector's first secret.
        ("Errors:\n[tap-salesforce] CRITICAL 401 Unauthorized", "client_secret"),
        # Not a credential problem, no setting named: none.
        ("Errors:\n[tap-salesforce] CRITICAL Traceback: ZeroDivisionError", None),
    ],
)
def test_a_failure_notification_names_the_setting_to_fix(client, platform, error, field):
    platform.service.add("salesforce", "crm", SF_CONFIG)
    recorded, _ = _notes(platform).record_run_failure("crm", "run-1", error)
    listed = client.get("/api/v1/notifications").json()
    assert [n["settings_field"] for n in listed] == [field]
    one = client.get(f"/api/v1/notifications/{recorded.notification.id}").json()
    assert one["settings_field"] == field
    shown = client.get(f"{BASE}/crm").json()["notifications"]
    assert [n["settings_field"] for n in shown] == [field]
    assert client.get(BASE).json()[0]["notifications"][0]["settings_field"] == field
    acknowledged = client.post(f"/api/v1/notifications/{recorded.notification.id}/acknowledge")
    assert acknowledged.json()["settings_field"] == field


def _raised(integration: str, kind: str, category: str, message: str) -> Raised:
    return Raised(
        integration=integration,
        kind=kind,
        category=category,
        dedup_key=f"{kind}:{integration}:{category}",
        title=f"'{integration}' is misconfigured: {message}",
        message=message,
        action="Update the listed settings.",
        settings_url=f"/#/integrations/{integration}",
    )


def test_a_misconfiguration_names_the_first_setting_it_lists(client, platform):
    platform.service.add("salesforce", "crm", SF_CONFIG)
    message = (
        "its config no longer validates against the Salesforce connector "
        "(instance_url, lookback_window)"
    )
    raised = _raised("crm", "misconfiguration", "invalid_config", message)
    notification = _notes(platform).store.record(raised).notification
    one = client.get(f"/api/v1/notifications/{notification.id}").json()
    assert one["settings_field"] == "instance_url"


def test_settings_field_is_none_without_a_connector_or_for_other_kinds(platform):
    connector = platform.catalog.get("salesforce")
    notes = _notes(platform)
    platform.service.add("salesforce", "crm", SF_CONFIG)
    recorded, _ = notes.record_run_failure("crm", "run-1", INVALID_GRANT)
    failure = recorded.notification
    assert settings_field(failure, connector) == "refresh_token"
    assert settings_field(failure, None) is None
    stale = notes.store.record(_raised("crm", "stale", "stale", "refresh token")).notification
    assert settings_field(stale, connector) is None
    # A label is found whatever its case; the earliest mention wins.
    text = _raised("crm", "misconfiguration", "invalid_config", "the INSTANCE URL and client_id")
    named = notes.store.record(text).notification
    assert settings_field(named, connector) == "instance_url"


def test_notifications_of_a_removed_integration_name_no_setting(client, platform):
    platform.service.add("salesforce", "crm", SF_CONFIG)
    recorded, _ = _notes(platform).record_run_failure("crm", "run-1", INVALID_GRANT)
    platform.service.remove("crm")
    one = client.get(f"/api/v1/notifications/{recorded.notification.id}").json()
    assert one["settings_field"] is None


# -- testing edits before saving them --------------------------------------------------


def test_a_saved_integration_is_tested_with_edits_merged_and_nothing_saved(
    sandbox_client, sandbox, platform, canary
):
    created = sandbox_client.post(
        BASE, json={"name": "crm", "connector": "salesforce", "config": salesforce_config(sandbox)}
    )
    assert created.status_code == 201, created.text
    stored = platform.service.get("crm")
    path = f"{BASE}/crm/test"

    # Blank secrets keep the stored ones (as a PATCH would), with another setting edited.
    for config in ({}, {"client_secret": "", "refresh_token": None, "api_type": "BULK"}):
        response = sandbox_client.post(path, json={"config": config})
        assert response.status_code == 200, response.text
        assert response.json()["ok"] is True, response.json()
    # An edited secret is the one tested.
    response = sandbox_client.post(path, json={"config": {"refresh_token": f"{canary}-new"}})
    result = response.json()
    assert (result["ok"], result["reason"]) == (False, "authentication")
    assert canary not in response.text
    # An invalid edit is a 422 at its field, before any test.
    response = sandbox_client.post(path, json={"config": {"lookback_window": -1}})
    assert response.status_code == 422
    assert set(response.json()["field_errors"]) == {"lookback_window"}
    assert "-1" not in response.json()["detail"]
    # Without a body: the saved config, as before.
    assert sandbox_client.post(path).json()["ok"] is True

    after = platform.service.get("crm")
    assert after.version == stored.version
    assert after.sealed.ciphertext == stored.sealed.ciphertext
