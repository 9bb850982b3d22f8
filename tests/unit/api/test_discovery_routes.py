"""Discovery through the API: a saved integration, a config not saved yet, the stored one."""

import json

import pytest

from tests.conftest import salesforce_config

pytestmark = pytest.mark.usefixtures("meltano_plugins")
BASE = "/api/v1/integrations"


def test_discover_store_and_read_back_then_a_failure_keeps_what_was_stored(
    sandbox_client, sandbox, canary
):
    client = sandbox_client
    created = client.post(
        BASE, json={"name": "crm", "connector": "salesforce", "config": salesforce_config(sandbox)}
    )
    assert created.status_code == 201, created.text
    missing = client.get(f"{BASE}/crm/discovery")
    assert missing.status_code == 404
    assert "integrations discover crm" in missing.json()["instruction"]

    found = client.post(f"{BASE}/crm/discover")
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["ok"] and body["reason"] == "ok" and body["stream_count"] == 3
    account = next(s for s in body["streams"] if s["name"] == "Account")
    assert account["primary_key"] == ["Id"]
    assert account["default_replication_key"] == "SystemModstamp" and account["incremental"]
    assert {"Id", "Name", "SystemModstamp"} <= {c["name"] for c in account["columns"]}

    stored = client.get(f"{BASE}/crm/discovery").json()
    assert stored["discovered_at"] == body["discovered_at"]
    assert stored["streams"] == body["streams"]

    # A selection checked against it, field by field; the columns shown per integration.
    bad = client.patch(
        f"{BASE}/crm", json={"streams": [{"name": "Contact", "excluded_columns": ["Id"]}]}
    )
    assert bad.status_code == 422
    assert "Id cannot be left out" in bad.json()["field_errors"]["streams.Contact.excluded_columns"]
    good = client.patch(
        f"{BASE}/crm", json={"streams": [{"name": "Contact", "excluded_columns": ["Email"]}]}
    )
    assert good.status_code == 200, good.text
    [contact] = client.get(f"{BASE}/crm").json()["streams"]
    assert contact["excluded_columns"] == ["Email"]
    assert ["FirstName", "string"] in contact["columns"]
    assert "Email" not in {name for name, _ in contact["columns"]}
    [listed] = client.get(BASE).json()
    assert listed["streams"][0]["columns"] == []  # the list leaves them out

    # A refused login: the typed reason, and the stored discovery as it was.
    patched = client.patch(f"{BASE}/crm", json={"config": {"refresh_token": "not-the-token-1"}})
    assert patched.status_code == 200, patched.text
    failed = client.post(f"{BASE}/crm/discover").json()
    assert not failed["ok"] and failed["reason"] == "authentication", failed
    assert failed["hint"] and failed.get("streams") is None
    assert client.get(f"{BASE}/crm/discovery").json()["discovered_at"] == body["discovered_at"]
    assert canary not in found.text + json.dumps(failed)


def test_discover_a_config_before_saving_it(sandbox_client, sandbox, canary):
    client = sandbox_client
    config = salesforce_config(sandbox)
    ok = client.post("/api/v1/connectors/salesforce/discover", json={"config": config})
    assert ok.status_code == 200 and ok.json()["stream_count"] == 3
    assert client.get(BASE).json() == []  # nothing stored

    invalid = client.post(
        "/api/v1/connectors/salesforce/discover", json={"config": {**config, "client_id": ""}}
    )
    refused = invalid.json()
    assert (
        refused["reason"] == "configuration" and "client_id" in refused["details"]["field_errors"]
    )
    unknown = client.post("/api/v1/connectors/no-such/discover", json={"config": config})
    assert unknown.status_code == 404
    slow = client.post(
        "/api/v1/connectors/salesforce/discover", params={"timeout_s": 0}, json={"config": config}
    )
    assert slow.status_code == 422  # at least one second
    for response in (ok, invalid, unknown, slow):
        assert canary not in response.text
