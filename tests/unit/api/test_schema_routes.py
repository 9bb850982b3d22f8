"""Schema changes through the API: bad input is refused and changes nothing; the
schema view of a discovered integration."""

import pytest

from tests.conftest import salesforce_config

pytestmark = pytest.mark.usefixtures("meltano_plugins")
BASE = "/api/v1/integrations"


def test_bad_schema_input_through_the_api_changes_nothing(sandbox_client, sandbox):
    client = sandbox_client
    body = {"name": "crm", "connector": "salesforce", "config": salesforce_config(sandbox)}
    refused = client.post(BASE, json={**body, "schema_policy": "sometimes"})
    assert refused.status_code == 422
    assert "unknown schema policy 'sometimes'" in refused.json()["field_errors"]["schema_policy"]
    assert client.get(BASE).json() == []

    created = client.post(BASE, json={**body, "schema_policy": "block_all"})
    assert created.status_code == 201, created.text
    assert created.json()["integration"]["schema_policy"] == "block_all"
    before = client.get(f"{BASE}/crm").json()
    bad = client.patch(f"{BASE}/crm", json={"schema_policy": "never"})
    assert bad.status_code == 422
    nothing = client.post(f"{BASE}/crm/schema/approve", json={"stream": "Account"})
    assert nothing.status_code == 422
    assert "No change of Account in 'crm' waits for approval" in nothing.json()["detail"]
    hashed = client.patch(
        f"{BASE}/crm", json={"streams": [{"name": "Contact", "hashed_columns": ["Email"]}]}
    )
    assert hashed.status_code == 422
    assert "cannot hash columns" in hashed.json()["field_errors"]["streams.Contact.hashed_columns"]
    assert client.get(f"{BASE}/crm").json() == before

    schema = client.get(f"{BASE}/crm/schema").json()
    assert schema["discovered_at"] is None and schema["streams"][0]["columns"] == []
    assert client.post(f"{BASE}/crm/discover").json()["ok"]
    schema = client.get(f"{BASE}/crm/schema").json()
    assert schema["schema_policy"] == "block_all" and schema["pending"] == []
    assert [s["name"] for s in schema["streams"]] == ["Account", "Contact", "Opportunity"]
    account = schema["streams"][0]
    assert {"name": "Id", "status": "synced"}.items() <= account["columns"][0].items()
