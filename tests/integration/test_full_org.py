"""The whole Salesforce org: 300+ objects discovered by the real tap, any of them synced
from the stored catalog, and the sandbox served over HTTPS to an unmodified client."""

import dagster as dg
import pytest
from simple_salesforce import Salesforce

from integrations_platform.integration import StreamSelection
from integrations_platform.sandbox import SalesforceSandbox, SandboxCredentials
from integrations_platform.sandbox.data import FieldSpec
from tests.conftest import DATA_START, START, salesforce_config
from tests.integration.helpers import jsonl_rows, materialize, rows_by_asset

pytestmark = pytest.mark.usefixtures("meltano_plugins")


@pytest.fixture
def org(canary, monkeypatch):
    """The sandbox's full org (HTTP and HTTPS), the canary as its secrets."""
    credentials = SandboxCredentials(
        client_id="sandbox-client", client_secret=canary, refresh_token=canary
    )
    with SalesforceSandbox(credentials, start=DATA_START, org="full", https=True) as server:
        monkeypatch.setenv("INTEGRATIONS_SALESFORCE_LOGIN_URL", server.url)
        yield server


def test_any_queryable_object_of_the_org_is_discovered_and_synced_from_the_stored_catalog(
    platform, org, dagster_home, canary
):
    platform.service.add(
        "salesforce", "crm", salesforce_config(org), streams=["Account"], start_date=START
    )
    result = platform.service.discover("crm")
    assert result.ok, result.outcome
    found = result.discovery
    names = {s.name for s in found.streams}
    assert len(names) >= 300
    assert {"Lead", "Project_01__c", "AccountHistory", "AccountShare", "Holiday"} <= names
    # Objects the API cannot query are not offered.
    assert not names & {"AggregateResult", "OpenActivity", "NoteAndAttachment"}
    assert "AggregateResult" in result.outcome.details["not_queryable"]
    # The replication key follows what each object has.
    keys = {n: found.stream(n).default_replication_key for n in ("Lead", "AccountHistory")}
    assert keys == {"Lead": "SystemModstamp", "AccountHistory": "CreatedDate"}
    assert found.stream("AccountShare").default_replication_key == "LastModifiedDate"
    assert found.stream("Holiday").default_replication_key is None  # synced whole
    account = found.stream("Account")
    assert account.column("BillingAddress").type == "object"  # a compound field
    assert found.stream("Project_01__c").column("Amount__c").type == "number"

    platform.service.update(
        "crm",
        streams=[
            StreamSelection("Lead"),
            StreamSelection("Project_01__c"),
            StreamSelection("Account", excluded_columns=("Phone",)),
        ],
    )
    before = len(org.request_log)
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        first = materialize(platform, "crm", instance)
        expected = {s: len(org.records(s)) for s in ("Lead", "Project_01__c", "Account")}
        assert rows_by_asset(first) == expected
        accounts = jsonl_rows(platform, "crm", "Account")
        assert accounts and all("Phone" not in r and r["BillingAddress"] for r in accounts)
        org.add_records("Lead", 2)
        second = materialize(platform, "crm", instance)
    # Incremental: the new leads and the bookmark's record; one record for the others.
    assert rows_by_asset(second) == {"Lead": 3, "Project_01__c": 1, "Account": 1}
    # No discovery during the syncs: only the schema check's describe of each selected
    # object, once per sync; no other object, no global describe.
    during = [path for _, path in org.request_log[before:]]
    described = sorted(p for p in during if p.endswith(("/describe", "/sobjects")))
    assert described == sorted(
        f"/services/data/v61.0/sobjects/{name}/describe"
        for name in ("Lead", "Project_01__c", "Account")
        for _ in range(2)
    ), during

    # A field added while the org runs shows in the next discovery.
    org.add_field("Lead", FieldSpec("Rating__c", "string", "Rating", custom=True))
    org.add_object("Warranty__c", [FieldSpec("Months__c", "double", custom=True)])
    again = platform.service.discover("crm").discovery
    assert again.stream("Lead").column("Rating__c") is not None
    assert again.stream("Warranty__c") is not None
    [lead] = [s for s in platform.service.get("crm").streams if s.name == "Lead"]
    assert "Rating__c" in dict(lead.columns)  # the selection's columns follow
    assert canary not in str(result.as_dict()) + str(again)


def test_an_unmodified_client_queries_the_sandbox_over_https(org, canary, monkeypatch):
    # Trusting the certificate is the client's usual setting, nothing of ours.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(org.ca_file))
    session = Salesforce(
        instance_url=org.https_url,
        session_id=_login(org, canary),
        version="61.0",
    )
    leads = session.query_all("SELECT Id, Email FROM Lead")
    assert leads["totalSize"] == len(org.records("Lead"))
    described = session.Account.describe()
    assert "BillingAddress" in {f["name"] for f in described["fields"]}


def _login(org: SalesforceSandbox, canary: str) -> str:
    import httpx

    token = httpx.post(
        f"{org.https_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "sandbox-client",
            "client_secret": canary,
            "refresh_token": canary,
        },
        verify=str(org.ca_file),
    )
    assert token.status_code == 200, token.text
    return token.json()["access_token"]
