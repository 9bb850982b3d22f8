"""Sign-in, roles, per-user tokens, CSRF and the audit trail, through the real API over a
real SQLite config store."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from integrations_platform.people import Accounts
from tests.unit.api.support import PUBLIC_ROUTES, TOKEN, auth, operations, template_of
from tests.unit.api.test_api import PROTECTED, SF_CONFIG

PASSWORD = "correct horse battery staple"
ADMIN_ONLY = ("/api/v1/users", "/api/v1/tokens", "/api/v1/audit")
SELF = {("GET", "/api/v1/me"), ("POST", "/api/v1/auth/logout")}
RANK = {"viewer": 0, "editor": 1, "admin": 2}


def expected_role(method: str, template: str) -> str | None:
    """The policy, written out: admins manage people and read the trail, editors change,
    viewers read; anyone signed in sees themselves and signs out."""
    if (method, template) in SELF:
        return None
    if template.startswith(ADMIN_ONLY):
        return "admin"
    if template == "/api/v1/auth/check":  # the Dagster UI proxy's question: may edit
        return "editor"
    return "viewer" if method == "GET" else "editor"


@pytest.fixture
def accounts(platform: Any) -> Accounts:
    return Accounts(platform.service.store)


@pytest.fixture
def people(accounts: Accounts) -> dict[str, str]:
    """A user of each role (with a password) and their API tokens: role → token."""
    tokens = {}
    for role in ("admin", "editor", "viewer"):
        accounts.add_user(f"{role}1", role, PASSWORD)
        tokens[role] = accounts.create_token(f"{role}1", "tests").token
    return tokens


def login(client: Any, name: str, password: str = PASSWORD, **kw: Any) -> Any:
    return client.post("/api/v1/auth/login", json={"name": name, "password": password}, **kw)


def _restore(platform: Any, accounts: Accounts) -> None:
    """What the requests of the matrix act on: integration crm, user someone."""
    names = {i.name for i in platform.service.store.list_all()}
    if "crm" not in names:
        platform.service.add("salesforce", "crm", SF_CONFIG)
    if "someone" not in {u["name"] for u in accounts.list_users()}:
        accounts.add_user("someone", "viewer", PASSWORD)


def test_role_by_route_matrix_from_the_openapi_schema(make_client, platform, accounts, people):
    """Every documented operation x (no credentials, viewer, editor, admin): 401 without
    credentials, 403 below the route's role, and neither at or above it."""
    client = make_client(authenticated=False)
    documented = operations(client.app) - PUBLIC_ROUTES
    requests = {(m, template_of(m, p, documented)): (m, p, b) for m, p, b in PROTECTED}
    assert set(requests) == documented, "a route is missing from the matrix"
    cells: dict[tuple[str, str, str], int] = {}
    for (method, template), (_, path, body) in sorted(requests.items()):
        needed = expected_role(method, template)
        for who in ("none", "viewer", "editor", "admin"):
            _restore(platform, accounts)
            headers = auth(people[who]) if who != "none" else {}
            response = client.request(method, path, json=body, headers=headers)
            cells[(method, template, who)] = response.status_code
            where = f"{method} {template} as {who}: {response.status_code} {response.text[:200]}"
            if who == "none":
                assert response.status_code == 401, where
            elif needed is not None and RANK[who] < RANK[needed]:
                assert response.status_code == 403, where
                assert response.json()["error"] == "Forbidden", where
            else:
                assert response.status_code not in (401, 403), where
                # Past the role check the route answers as it does for anyone: Dagster is
                # not running here, so launching a sync says so (503).
                dagster_down = response.status_code == 503 and (
                    response.json()["error"] == "DagsterUnavailableError"
                )
                assert response.status_code < 500 or dagster_down, where
    # The reads every role may make answer 2xx for each role that may make them.
    for (method, template, who), code in cells.items():
        if method == "GET" and who != "none" and "{" not in template:
            needed = expected_role(method, template)
            if needed is None or RANK[who] >= RANK[needed]:
                assert 200 <= code < 300, (method, template, who, code)


def test_sign_in_sets_a_strict_httponly_cookie_and_me_tells_the_role(make_client, people):
    client = make_client(authenticated=False)
    response = login(client, "editor1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "editor1" and body["role"] == "editor" and body["auth"] == "session"
    cookie = response.headers["set-cookie"]
    assert "integrations_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=43200" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the HTTPS test
    me = client.get("/api/v1/me").json()
    assert me["name"] == "editor1" and me["csrf_token"] == body["csrf_token"]
    # The question a reverse proxy asks before letting this browser into Dagster's UI.
    check = client.get("/api/v1/auth/check")
    assert check.status_code == 204 and check.headers["x-integrations-user"] == "editor1"
    # An editor may create an integration with the cookie and the CSRF token ...
    created = client.post(
        "/api/v1/integrations",
        json={"name": "crm", "connector": "salesforce", "config": SF_CONFIG},
        headers={"X-CSRF-Token": body["csrf_token"]},
    )
    assert created.status_code == 201, created.text
    # ... may not manage people ...
    assert client.get("/api/v1/users").status_code == 403
    # ... and after signing out the cookie is worth nothing.
    out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204
    client.cookies.clear()
    client.cookies.set("integrations_session", cookie.split("=", 1)[1].split(";", 1)[0])
    assert client.get("/api/v1/me").status_code == 401


def test_the_cookie_is_secure_behind_https(make_client, people):
    client = make_client(authenticated=False)
    response = login(client, "viewer1", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert "Secure" in response.headers["set-cookie"]


def test_a_change_with_the_cookie_but_without_the_csrf_token_fails(make_client, platform, people):
    client = make_client(authenticated=False)
    token = login(client, "admin1").json()["csrf_token"]
    body = {"name": "crm", "connector": "salesforce", "config": SF_CONFIG}
    for headers in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": token[:-1]}):
        refused = client.post("/api/v1/integrations", json=body, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "CsrfError"
    assert platform.service.store.list_all() == []
    # Reads need no token; the same change with it passes.
    assert client.get("/api/v1/integrations").status_code == 200
    ok = client.post("/api/v1/integrations", json=body, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201, ok.text


def test_failed_sign_ins_are_slowed_then_limited_per_account(make_client, people):
    client = make_client(authenticated=False)
    for _ in range(5):
        wrong = login(client, "viewer1", "not the password at all")
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "SignInFailed"
        assert wrong.json()["detail"] == "Wrong name or password"
    limited = login(client, "viewer1")  # even the right password now waits
    assert limited.status_code == 429
    assert limited.json()["error"] == "TooManySignIns"
    assert int(limited.headers["retry-after"]) > 0
    # Another account from the same address is not locked by this one's failures.
    assert login(client, "editor1").status_code == 200
    # An unknown account fails like a wrong password, and the name typed (perhaps a
    # password typed in the wrong field) is not kept in the trail.
    typed = "correct horse battery staple-typed-as-name"
    unknown = login(client, typed, PASSWORD)
    assert unknown.status_code == 401 and unknown.json()["detail"] == "Wrong name or password"
    trail = client.get("/api/v1/audit", headers=auth(people["admin"]))
    assert typed not in trail.text and "(unknown name)" in trail.text


def test_failed_sign_ins_are_limited_per_address(make_client, people):
    client = make_client(authenticated=False)
    # Spread over many names (unknown ones fail like wrong passwords) so that no single
    # account reaches its own limit: the address does.
    for n in range(20):
        assert login(client, f"guess{n}", "wrong password here").status_code == 401
    assert login(client, "viewer1", PASSWORD).status_code == 429


def test_a_one_time_link_signs_in_once(make_client, accounts, people):
    client = make_client(authenticated=False)
    link = accounts.create_link("admin1")
    first = client.post("/api/v1/auth/login", json={"link": link})
    assert first.status_code == 200 and first.json()["role"] == "admin"
    again = make_client(authenticated=False).post("/api/v1/auth/login", json={"link": link})
    assert again.status_code == 401
    assert again.json()["detail"] == "This sign-in link was used or has expired"
    expired = accounts.create_link("admin1", ttl=timedelta(seconds=-1))
    late = make_client(authenticated=False).post("/api/v1/auth/login", json={"link": expired})
    assert late.status_code == 401


def test_user_tokens_act_with_the_users_role_until_revoked_or_expired(
    make_client, accounts, people
):
    client = make_client(authenticated=False)
    viewer = auth(people["viewer"])
    assert client.get("/api/v1/me", headers=viewer).json()["role"] == "viewer"
    assert (
        client.post(
            "/api/v1/integrations/bulk", headers=viewer, json={"action": "delete", "names": ["x"]}
        ).status_code
        == 403
    )
    listed = client.get("/api/v1/tokens", headers=auth(people["admin"])).json()
    mine = next(t for t in listed if t["user"] == "viewer1")
    assert mine["last_used_at"] is not None and "token" not in mine
    revoked = client.delete(f"/api/v1/tokens/{mine['id']}", headers=auth(people["admin"]))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/api/v1/me", headers=viewer).status_code == 401
    short = accounts.create_token("editor1", "short", datetime.now(UTC) + timedelta(seconds=1))
    assert client.get("/api/v1/me", headers=auth(short.token)).status_code == 200
    with pytest.raises(Exception, match="in the past"):
        accounts.create_token("editor1", "past", datetime.now(UTC) - timedelta(days=1))
    # The service token still works, as an admin.
    me = client.get("/api/v1/me", headers=auth(TOKEN)).json()
    assert me == {**me, "name": "service", "role": "admin", "auth": "service"}


def test_a_role_change_applies_to_open_sessions_and_the_last_admin_stays(
    make_client, accounts, people
):
    client = make_client(authenticated=False)
    csrf = login(client, "editor1").json()["csrf_token"]
    admin = auth(people["admin"])
    changed = client.patch("/api/v1/users/editor1", json={"role": "viewer"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["role"] == "viewer"
    refused = client.post("/api/v1/notifications/check", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    last = client.patch("/api/v1/users/admin1", json={"role": "editor"}, headers=admin)
    assert last.status_code == 422 and "last admin" in last.json()["detail"]
    assert client.delete("/api/v1/users/admin1", headers=admin).status_code == 422
    weak = client.post(
        "/api/v1/users", json={"name": "x", "role": "viewer", "password": "short"}, headers=admin
    )
    assert weak.status_code == 422 and "password" in weak.json()["field_errors"]


def test_passwords_and_tokens_are_never_stored_or_logged_in_clear(
    make_client, platform, accounts, people, caplog
):
    caplog.set_level("DEBUG")
    client = make_client(authenticated=False)
    password = 'canary-password-Ω-"quoted"-\\back'
    created = client.post(
        "/api/v1/users",
        json={"name": "carol", "role": "editor", "password": password},
        headers=auth(people["admin"]),
    )
    assert created.status_code == 201 and password not in created.text
    issued = client.post(
        "/api/v1/tokens", json={"user": "carol", "name": "ci"}, headers=auth(people["admin"])
    ).json()
    session = login(client, "carol", password)
    assert session.status_code == 200
    cookie = session.cookies["integrations_session"]
    link = accounts.create_link("carol")
    secrets = [password, issued["token"], cookie, link, *people.values()]
    database = (platform.home / "integrations.db").read_bytes()
    for value in secrets:
        for form in (value, value.encode().hex()):
            assert form.encode() not in database
    audit = client.get("/api/v1/audit", headers=auth(people["admin"]))
    logs = caplog.text + audit.text
    for value in secrets:
        assert value not in logs


def test_the_audit_trail_names_fields_never_values_and_is_append_only(
    make_client, platform, people
):
    client = make_client(authenticated=False)
    editor = auth(people["editor"])
    client.post(
        "/api/v1/integrations",
        json={"name": "crm", "connector": "salesforce", "config": SF_CONFIG},
        headers=editor,
    )
    client.patch(
        "/api/v1/integrations/crm",
        json={"description": "nightly", "config": {"client_secret": "rotated-canary-value"}},
        headers=editor,
    )
    client.delete("/api/v1/integrations/crm", headers=auth(people["viewer"]))  # denied
    login(client, "viewer1", "wrong wrong wrong")
    events = client.get(
        "/api/v1/audit", params={"integration": "crm"}, headers=auth(people["admin"])
    ).json()
    actions = [(e["actor"], e["action"], e["result"], e["source"]) for e in events]
    assert actions == [
        ("viewer1", "delete", "denied", "api"),
        ("editor1", "update", "ok", "api"),
        ("editor1", "create", "ok", "api"),
    ]
    update = events[1]
    assert update["fields"] == ["config.client_secret", "description"]
    failed = client.get(
        "/api/v1/audit",
        params={"actor": "viewer1", "action": "sign-in"},
        headers=auth(people["admin"]),
    ).json()
    assert [(e["result"], e["detail"]) for e in failed] == [("failed", "wrong name or password")]
    everything = client.get("/api/v1/audit", headers=auth(people["admin"])).text
    assert "rotated-canary-value" not in everything and "nightly" not in everything
    with platform.service.store.engine.begin() as connection, pytest.raises(DatabaseError):
        connection.execute(text("UPDATE audit_events SET actor = 'someone-else'"))
    with platform.service.store.engine.begin() as connection, pytest.raises(DatabaseError):
        connection.execute(text("DELETE FROM audit_events"))
