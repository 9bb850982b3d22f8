"""Tests of the Salesforce sandbox over real HTTP."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations_platform.sandbox import SalesforceSandbox, SandboxCredentials

ROOT = Path(__file__).resolve().parents[3]
CREDS = SandboxCredentials()
TOKEN_FORM = {
    "grant_type": "refresh_token",
    "client_id": CREDS.client_id,
    "client_secret": CREDS.client_secret,
    "refresh_token": CREDS.refresh_token,
}
ACCOUNT_FIELDS = "Id,IsDeleted,Name,CreatedDate,LastModifiedDate,SystemModstamp"


@pytest.fixture
def sandbox() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(page_size=7) as sb:
        yield sb


@pytest.fixture
def client(sandbox: SalesforceSandbox) -> Iterator[httpx.Client]:
    """An httpx client already logged in, like the tap after ``login()``."""
    with httpx.Client(base_url=sandbox.url, timeout=10) as c:
        token = c.post("/services/oauth2/token", data=TOKEN_FORM).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def soql(client: httpx.Client, query: str, endpoint: str = "queryAll") -> httpx.Response:
    return client.get(f"/services/data/v61.0/{endpoint}", params={"q": query})


def query_all_pages(client: httpx.Client, query: str) -> list[dict[str, Any]]:
    """Follow nextRecordsUrl exactly the way tap-salesforce's Rest._sync_records does."""
    page = soql(client, query).raise_for_status().json()
    records = list(page["records"])
    while "nextRecordsUrl" in page:
        assert not page["done"]
        page = client.get(page["nextRecordsUrl"]).raise_for_status().json()
        records += page["records"]
    assert page["done"]
    return records


# -- OAuth ---------------------------------------------------------------------------


def test_token_success_has_no_refresh_token(sandbox: SalesforceSandbox) -> None:
    resp = httpx.post(f"{sandbox.url}/services/oauth2/token", data=TOKEN_FORM)
    assert resp.status_code == 200
    body = resp.json()
    assert body["instance_url"] == sandbox.url and body["token_type"] == "Bearer"
    assert {"access_token", "id", "issued_at", "signature"} <= body.keys()
    assert "refresh_token" not in body  # otherwise the tap rewrites its config file
    assert "Sforce-Limit-Info" not in resp.headers


@pytest.mark.parametrize(
    ("override", "error", "description"),
    [
        ({"refresh_token": "stale"}, "invalid_grant", "expired access/refresh token"),
        ({"client_id": "nope"}, "invalid_client_id", "client identifier invalid"),
        ({"client_secret": "nope"}, "invalid_client", "invalid client credentials"),
        ({"grant_type": "password"}, "unsupported_grant_type", "grant type not supported"),
    ],
)
def test_token_errors(
    sandbox: SalesforceSandbox, override: dict[str, str], error: str, description: str
) -> None:
    resp = httpx.post(f"{sandbox.url}/services/oauth2/token", data={**TOKEN_FORM, **override})
    assert resp.status_code == 400
    assert resp.json() == {"error": error, "error_description": description}


def test_custom_credentials() -> None:
    creds = SandboxCredentials("cid", "secret", "refresh")
    with SalesforceSandbox(creds) as sb:
        form = {
            "grant_type": "refresh_token",
            "client_id": "cid",
            "client_secret": "secret",
            "refresh_token": "refresh",
        }
        assert httpx.post(f"{sb.url}/services/oauth2/token", data=form).status_code == 200
        assert (
            httpx.post(f"{sb.url}/services/oauth2/token", data=TOKEN_FORM).json()["error"]
            == "invalid_client_id"
        )


def test_data_api_requires_issued_token(sandbox: SalesforceSandbox, client: httpx.Client) -> None:
    invalid = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    for headers in ({}, {"Authorization": "Bearer forged"}):
        resp = httpx.get(f"{sandbox.url}/services/data/v61.0/sobjects", headers=headers)
        assert (resp.status_code, resp.json()) == (401, invalid)
    assert client.get("/services/data/v61.0/sobjects").status_code == 200
    sandbox.expire_sessions()
    assert client.get("/services/data/v61.0/sobjects").status_code == 401


# -- describe and limits -----------------------------------------------------------------


def test_global_describe(client: httpx.Client) -> None:
    body = client.get("/services/data/v61.0/sobjects").json()
    assert body["encoding"] == "UTF-8" and body["maxBatchSize"] == 200
    by_name = {o["name"]: o for o in body["sobjects"]}
    assert set(by_name) == {"Account", "Contact", "Opportunity"}
    assert all(
        o["queryable"] and not o["custom"] and not o["customSetting"] for o in by_name.values()
    )
    assert client.get("/services/data/v58.0/sobjects").status_code == 200  # any version


def test_object_describe(client: httpx.Client) -> None:
    fields = {
        f["name"]: f
        for f in client.get("/services/data/v61.0/sobjects/Opportunity/describe").json()["fields"]
    }
    types = {name: f["type"] for name, f in fields.items()}
    assert types == {
        "Id": "id",
        "IsDeleted": "boolean",
        "Name": "string",
        "CreatedDate": "datetime",
        "LastModifiedDate": "datetime",
        "SystemModstamp": "datetime",
        "AccountId": "reference",
        "Amount": "currency",
        "StageName": "picklist",
        "CloseDate": "date",
    }
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    assert "Closed Won" in {p["value"] for p in fields["StageName"]["picklistValues"]}
    assert fields["Id"]["nillable"] is False and fields["Amount"]["nillable"] is True
    contact = client.get("/services/data/v61.0/sobjects/Contact/describe").json()
    assert {f["name"]: f["type"] for f in contact["fields"]}["Email"] == "email"
    assert client.get("/services/data/v61.0/sobjects/Lead/describe").status_code == 404


def test_limit_header_counts_requests(sandbox: SalesforceSandbox, client: httpx.Client) -> None:
    usage = [
        client.get("/services/data/v61.0/sobjects").headers["Sforce-Limit-Info"] for _ in range(3)
    ]
    assert usage == ["api-usage=1/15000", "api-usage=2/15000", "api-usage=3/15000"]
    sandbox.set_api_usage(12000, 20000)
    resp = client.get("/services/data/v61.0/limits")
    assert resp.headers["Sforce-Limit-Info"] == "api-usage=12001/20000"
    assert resp.json()["DailyApiRequests"] == {"Max": 20000, "Remaining": 7999}


# -- data --------------------------------------------------------------------------------


def test_generated_data_is_deterministic_and_well_formed() -> None:
    a, b = SalesforceSandbox(), SalesforceSandbox()
    assert all(a.records(o) == b.records(o) for o in ("Account", "Contact", "Opportunity"))
    assert SalesforceSandbox(seed=7).records("Account") != a.records("Account")
    accounts = a.records("Account")
    account_ids = {r["Id"] for r in accounts}
    assert len(accounts) == 30 and len(account_ids) == 30
    for sobject, prefix in (("Account", "001"), ("Contact", "003"), ("Opportunity", "006")):
        for r in a.records(sobject):
            assert re.fullmatch(rf"{prefix}[0-9A-Za-z]{{12}}[A-Z0-5]{{3}}", r["Id"])
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", r["SystemModstamp"])
            assert r["CreatedDate"] <= r["LastModifiedDate"] == r["SystemModstamp"]
            assert r["IsDeleted"] is False
    for r in a.records("Opportunity"):
        assert r["AccountId"] in account_ids and isinstance(r["Amount"], float)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", r["CloseDate"])
    assert all(r["AccountId"] in account_ids and "@" in r["Email"] for r in a.records("Contact"))
    # One record every 8 hours from 2024-01-01: every one of the 10 days has records.
    stamps = [r["SystemModstamp"] for r in accounts]
    assert stamps[:2] == ["2024-01-01T00:00:00.000+0000", "2024-01-01T08:00:00.000+0000"]
    assert {s[:10] for s in stamps} == {f"2024-01-{d:02d}" for d in range(1, 11)}


def test_records_returns_copies() -> None:
    sb = SalesforceSandbox()
    sb.records("Account")[0]["Name"] = "mutated"
    assert sb.records("Account")[0]["Name"] != "mutated"
    with pytest.raises(ValueError):
        sb.records("Lead")


def test_query_returns_selected_fields_with_attributes(client: httpx.Client) -> None:
    page = soql(client, "SELECT Id,Name FROM Account").json()
    assert page["totalSize"] == 30 and page["done"] is False and len(page["records"]) == 7
    first = page["records"][0]
    assert list(first) == ["attributes", "Id", "Name"]
    assert first["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v61.0/sobjects/Account/{first['Id']}",
    }
    assert re.fullmatch(r"/services/data/v61\.0/query/[\w]+-7", page["nextRecordsUrl"])


def test_paging_returns_every_record_once(sandbox: SalesforceSandbox, client: httpx.Client) -> None:
    rows = query_all_pages(client, f"SELECT {ACCOUNT_FIELDS} FROM Account")
    expected = sandbox.records("Account")
    assert [{k: v for k, v in r.items() if k != "attributes"} for r in rows] == expected


def test_tap_style_window_query(sandbox: SalesforceSandbox, client: httpx.Client) -> None:
    start, end = datetime(2024, 1, 3, tzinfo=UTC), datetime(2024, 1, 6, 8, tzinfo=UTC)
    # Exactly what Salesforce._build_query_string produces, double space included.
    query = (
        "SELECT Id,SystemModstamp FROM Contact WHERE SystemModstamp >= "
        "2024-01-03T00:00:00.000000Z  AND SystemModstamp < 2024-01-06T08:00:00Z "
        "ORDER BY SystemModstamp ASC"
    )
    rows = query_all_pages(client, query)
    expected = sandbox.records_between("Contact", start, end)
    assert [r["Id"] for r in rows] == [r["Id"] for r in expected]
    assert len(expected) == 10  # 3 days and 1 record, inclusive start, exclusive end


@pytest.mark.parametrize(
    "literal",
    [
        "2024-01-05T00:00:00Z",
        "2024-01-05T00:00:00.000000Z",
        "2024-01-05T01:00:00+01:00",
        "2024-01-05T00:00:00.000+0000",
    ],
)
def test_datetime_literal_formats(
    sandbox: SalesforceSandbox, client: httpx.Client, literal: str
) -> None:
    query = f"  select   Id  from account\n where SystemModstamp>={literal} order by Id desc "
    rows = query_all_pages(client, query)
    expected = sandbox.records_between(
        "Account", datetime(2024, 1, 5, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    assert [r["Id"] for r in rows] == sorted((r["Id"] for r in expected), reverse=True)


def test_order_by_and_other_filters(client: httpx.Client) -> None:
    rows = query_all_pages(
        client,
        "SELECT Amount FROM Opportunity WHERE StageName = "
        "'Closed Won' AND CloseDate >= 2024-01-01 ORDER BY Amount",
    )
    amounts = [r["Amount"] for r in rows]
    assert amounts == sorted(amounts) and amounts
    assert len(query_all_pages(client, "SELECT Id FROM Account LIMIT 3")) == 3


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("SELECT Id FROM Lead", "INVALID_TYPE"),
        ("SELECT Id,Bogus FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE Bogus >= 2024-01-01T00:00:00Z", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE SystemModstamp >= 'yesterday'", "INVALID_FIELD"),
        ("SELECT FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id Account", "MALFORMED_QUERY"),
        ("SELECT Id,Id FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account ORDER BY", "MALFORMED_QUERY"),
    ],
)
def test_soql_errors(client: httpx.Client, query: str, code: str) -> None:
    resp = soql(client, query)
    assert resp.status_code == 400
    assert resp.json()[0]["errorCode"] == code
    if code == "INVALID_TYPE":
        assert resp.json()[0]["message"] == "sObject type 'Lead' is not supported."


def test_query_excludes_deleted_but_query_all_includes(
    sandbox: SalesforceSandbox, client: httpx.Client
) -> None:
    with sandbox._lock:  # no public delete API; flip a flag directly
        sandbox._data.records["Account"][0]["IsDeleted"] = True
    assert soql(client, "SELECT Id FROM Account", "queryAll").json()["totalSize"] == 30
    assert soql(client, "SELECT Id FROM Account", "query").json()["totalSize"] == 29


# -- mutation while running ----------------------------------------------------------------


def test_add_records_is_visible_and_thread_safe(
    sandbox: SalesforceSandbox, client: httpx.Client
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    threads = [threading.Thread(target=sandbox.add_records, args=("Contact", 5)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    contacts = sandbox.records("Contact")
    assert len(contacts) == 70 and len({r["Id"] for r in contacts}) == 70
    fresh = sandbox.records_between("Contact", before, datetime.now(UTC) + timedelta(seconds=1))
    assert len(fresh) == 40
    stamp = datetime(2024, 3, 1, 12, tzinfo=UTC)
    added = sandbox.add_records("Opportunity", 2, modstamp=stamp)
    assert [r["SystemModstamp"] for r in added] == ["2024-03-01T12:00:00.000+0000"] * 2
    rows = query_all_pages(
        client, "SELECT Id FROM Opportunity WHERE SystemModstamp >= 2024-02-01T00:00:00Z"
    )
    assert [r["Id"] for r in rows] == [r["Id"] for r in added]


def test_control_endpoint_adds_records(sandbox: SalesforceSandbox) -> None:
    resp = httpx.post(f"{sandbox.url}/sandbox/records/Account", params={"count": 3})
    assert resp.status_code == 201
    ids = resp.json()["ids"]
    assert len(ids) == 3 and [r["Id"] for r in sandbox.records("Account")[-3:]] == ids
    listed = httpx.get(f"{sandbox.url}/sandbox/records/Account").json()["records"]
    assert len(listed) == 33
    assert httpx.post(f"{sandbox.url}/sandbox/records/Lead?count=1").status_code == 400
    assert httpx.post(f"{sandbox.url}/sandbox/records/Account?count=x").status_code == 400


# -- fault injection and observability -------------------------------------------------------


def test_fail_requests_with(sandbox: SalesforceSandbox, client: httpx.Client) -> None:
    sandbox.fail_requests_with("REQUEST_LIMIT_EXCEEDED")
    resp = client.get("/services/data/v61.0/sobjects")
    assert resp.status_code == 403
    assert resp.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert resp.headers["Sforce-Limit-Info"].startswith("api-usage=")
    sandbox.fail_requests_with(None)
    assert client.get("/services/data/v61.0/sobjects").status_code == 200
    with pytest.raises(ValueError):
        sandbox.fail_requests_with("NOT_A_CODE")


def test_fail_object_only_affects_that_object(
    sandbox: SalesforceSandbox, client: httpx.Client
) -> None:
    first = soql(client, "SELECT Id FROM Contact").json()  # cursor opened before the fault
    sandbox.fail_object("Contact", "INVALID_TYPE")
    resp = soql(client, "SELECT Id FROM Contact")
    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "INVALID_TYPE"
    assert client.get(first["nextRecordsUrl"]).status_code == 400
    assert soql(client, "SELECT Id FROM Account").status_code == 200
    sandbox.fail_object("Contact", None)
    assert client.get(first["nextRecordsUrl"]).status_code == 200


def test_request_log_and_queries(sandbox: SalesforceSandbox, client: httpx.Client) -> None:
    soql(client, "SELECT Id FROM Account")
    assert sandbox.request_log == [
        ("POST", "/services/oauth2/token"),
        ("GET", "/services/data/v61.0/queryAll"),
    ]
    assert sandbox.queries == ["SELECT Id FROM Account"]


def test_server_never_prints_credentials(capfd: pytest.CaptureFixture[str]) -> None:
    creds = SandboxCredentials("cid-xyz", "very-secret-value", "refresh-abc")
    with SalesforceSandbox(creds) as sb:
        form = {
            "grant_type": "refresh_token",
            "client_id": "cid-xyz",
            "client_secret": "very-secret-value",
            "refresh_token": "refresh-abc",
        }
        httpx.post(f"{sb.url}/services/oauth2/token", data=form)
        httpx.post(f"{sb.url}/services/oauth2/token", data={**form, "refresh_token": "bad"})
        httpx.get(f"{sb.url}/nowhere")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_unknown_path_and_lifecycle() -> None:
    sb = SalesforceSandbox()
    with pytest.raises(RuntimeError):
        _ = sb.url
    with sb:
        resp = httpx.get(f"{sb.url}/services/unknown")
        assert resp.status_code == 404 and resp.json()[0]["errorCode"] == "NOT_FOUND"
        url = sb.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/services/oauth2/token")


def test_main_prints_url_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "integrations_platform.sandbox", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, line
        assert httpx.post(f"{url[0]}/services/oauth2/token", data=TOKEN_FORM).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and proc.stderr.read() == ""
    finally:
        proc.kill()


# -- launcher --------------------------------------------------------------------------------


def test_launcher_rewrites_only_login_hosts() -> None:
    path = ROOT / "meltano/plugins/tap-salesforce-sandbox/tap_salesforce_sandbox.py"
    spec = importlib.util.spec_from_file_location("tap_salesforce_sandbox", path)
    assert spec and spec.loader
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    base = "http://127.0.0.1:8765"
    rewrite = launcher.rewrite_login_url
    assert (
        rewrite("https://login.salesforce.com/services/oauth2/token", base)
        == f"{base}/services/oauth2/token"
    )
    assert (
        rewrite("https://test.salesforce.com/services/oauth2/token", base)
        == f"{base}/services/oauth2/token"
    )
    for untouched in (
        "http://127.0.0.1:9/services/data/v61.0/sobjects",
        "https://login.salesforce.com.example.org/x",
    ):
        assert rewrite(untouched, base) == untouched
