"""The sandbox's Bulk API over real HTTP: what a Bulk API 1.0 client sees."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import httpx
import pytest

from integrations_platform.sandbox import SalesforceSandbox
from tests.unit.sandbox.test_server import TOKEN_FORM

BULK = "/services/async/61.0"


@pytest.fixture
def sandbox() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(records_per_object=12) as sb:
        yield sb


@pytest.fixture
def client(sandbox: SalesforceSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=10) as c:
        token = c.post("/services/oauth2/token", data=TOKEN_FORM).json()["access_token"]
        c.headers["X-SFDC-Session"] = token
        yield c


def _job(client: httpx.Client, sobject: str = "Account", **headers: str) -> str:
    body = {"operation": "queryAll", "object": sobject, "contentType": "CSV"}
    resp = client.post(f"{BULK}/job", content=json.dumps(body), headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _batch(client: httpx.Client, job: str, soql: str) -> str:
    resp = client.post(
        f"{BULK}/job/{job}/batch", content=soql, headers={"Content-Type": "text/csv"}
    )
    assert resp.status_code == 201 and resp.headers["content-type"] == "application/xml"
    return resp.text.split("<id>")[1].split("</id>")[0]


def test_a_query_batch_gives_its_rows_as_quoted_csv(sandbox, client):
    job = _job(client)
    batch = _batch(client, job, "SELECT Id,Name,IsDeleted,SystemModstamp FROM Account")
    info = client.get(f"{BULK}/job/{job}/batch/{batch}").text
    assert "<state>Completed</state>" in info and "<numberRecordsProcessed>12<" in info
    listing = client.get(f"{BULK}/job/{job}/batch/{batch}/result").text
    (result,) = [part.split("</result>")[0] for part in listing.split("<result>")[1:]]
    text = client.get(f"{BULK}/job/{job}/batch/{batch}/result/{result}").text
    assert text.startswith('"Id","Name","IsDeleted","SystemModstamp"\n')
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["Id"] for r in rows] == [r["Id"] for r in sandbox.records("Account")]
    assert rows[0]["IsDeleted"] == "false" and rows[0]["SystemModstamp"].endswith(".000Z")
    closed = client.post(f"{BULK}/job/{job}", content=json.dumps({"state": "Closed"}))
    assert closed.json()["state"] == "Closed"


def test_no_rows_and_bad_queries_answer_as_salesforce_does(client):
    job = _job(client)
    empty = _batch(client, job, "SELECT Id FROM Account WHERE Name = 'nobody'")
    listing = client.get(f"{BULK}/job/{job}/batch/{empty}/result").text
    result = listing.split("<result>")[1].split("</result>")[0]
    answer = client.get(f"{BULK}/job/{job}/batch/{empty}/result/{result}").text
    assert answer == "Records not found for this query"
    bad = _batch(client, job, "SELECT Nope FROM Account")
    info = client.get(f"{BULK}/job/{job}/batch/{bad}").text
    assert "<state>Failed</state>" in info and "INVALID_FIELD" in info


def test_pk_chunking_splits_a_timed_out_query_by_id(sandbox, client):
    sandbox.time_out_bulk_queries("Account")
    plain = _job(client)
    batch = _batch(client, plain, "SELECT Id FROM Account")
    assert "QUERY_TIMEOUT" in client.get(f"{BULK}/job/{plain}/batch/{batch}").text
    chunked = _job(client, **{"Sforce-Enable-PKChunking": "true; chunkSize=5"})
    _batch(client, chunked, "SELECT Id FROM Account")
    listing = client.get(f"{BULK}/job/{chunked}/batch").text
    states = [p.split("</state>")[0] for p in listing.split("<state>")[1:]]
    assert states == ["NotProcessed", "Completed", "Completed", "Completed"]  # 12 rows by 5


def test_sessions_jobs_and_urls_are_checked(client):
    assert client.get(f"{BULK}/job/750000000000000AAA").json()["exceptionCode"] == "InvalidJob"
    anonymous = httpx.get(f"{client.base_url}{BULK}/job/750000000000000AAA")
    assert anonymous.status_code == 400
    assert anonymous.json()["exceptionCode"] == "InvalidSessionId"
    wrong = client.post(f"{BULK}/job", content=json.dumps({"operation": "insert", "object": "A"}))
    assert wrong.status_code == 400 and wrong.json()["exceptionCode"] == "InvalidJob"
