"""Discovery with real taps through Meltano: Salesforce (the sandbox) and PostgreSQL."""

import json
import os

import dagster as dg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from integrations_platform.cli import main
from integrations_platform.errors import ConfigurationError
from integrations_platform.integration import StreamSelection
from tests.conftest import START, salesforce_config
from tests.integration.helpers import (
    ORDERS,
    integration_assets,
    jsonl_rows,
    materialize,
    rows_by_asset,
    source_config,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=dict(os.environ))
    return result.exit_code, result.output


def test_salesforce_discovery_from_the_cli_stores_it_and_leaves_nothing_behind(
    platform, sandbox, canary
):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    runs = platform.settings.home / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()

    code, output = _cli("discover", "crm")
    assert code == 0, output
    assert "Discovered 3 stream(s)" in output
    assert "Account" in output and "SystemModstamp" in output

    code, output = _cli("discover", "crm", "--stored", "--json")
    assert code == 0, output
    stored = json.loads(output)
    assert [s["name"] for s in stored["streams"]] == ["Account", "Contact", "Opportunity"]
    # The sandbox's queries during discovery: describes only, no records read.
    assert not [q for q in sandbox.queries if " FROM " in q.upper()]
    # Columns are left out by STREAM.COLUMN; one the source does not have is refused.
    code, output = _cli("update", "crm", "--streams", "Contact", "--exclude", "Contact.Email")
    assert code == 0, output
    [contact] = platform.service.get("crm").streams
    assert contact.excluded_columns == ("Email",) and "Email" not in dict(contact.columns)
    code, output = _cli("update", "crm", "--exclude", "Contact.Emails")
    assert code == 1 and "unknown column(s) Emails (did you mean Email?)" in output
    code, output = _cli("update", "crm", "--exclude", "Lead.Email")
    assert code == 1 and "names no selected stream" in output
    assert platform.service.get("crm").streams == (contact,)

    # Nothing of the run is left on disk, and no output holds the secret.
    after = set(runs.iterdir()) if runs.exists() else set()
    assert after == before
    assert canary not in output


def test_a_failed_discovery_exits_1_with_its_reason_and_keeps_the_stored_one(
    platform, sandbox, canary
):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    first = platform.service.discover("crm")
    assert first.ok, first.outcome
    platform.service.update("crm", config={"client_secret": "not-the-secret-at-all"})

    code, output = _cli("discover", "crm")
    assert code == 1
    assert "failed (authentication)" in output and "hint:" in output
    assert canary not in output
    assert platform.service.discovery("crm").discovered_at == first.discovery.discovered_at


@pytest.mark.parametrize("platform", ["postgres"], indirect=True)
def test_postgres_discovery_lists_tables_and_views_with_keys_and_candidates(
    platform, source_url, warehouse_url, dagster_home
):
    engine = sa.create_engine(source_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE VIEW public.big_orders AS SELECT * FROM public.orders"))
    engine.dispose()
    platform.service.add(
        "postgres", "shop", source_config(source_url), streams=["public-orders"], start_date=START
    )
    result = platform.service.discover("shop")
    assert result.ok, result.outcome
    streams = {s.name: s for s in result.discovery.streams}
    assert {"public-orders", "public-ignored", "public-big_orders"} <= set(streams)
    orders = streams["public-orders"]
    assert orders.primary_key == ("id",)
    assert "updated_at" in orders.replication_keys
    assert orders.column("updated_at").format == "date-time"
    assert orders.column("amount").type == "number"
    assert [c.name for c in streams["public-big_orders"].columns] == [
        c.name for c in orders.columns
    ]

    # A selection leaving a column out, into the warehouse: the column never arrives.
    platform.service.update(
        "shop",
        streams=[StreamSelection("public-orders", "updated_at", excluded_columns=("note",))],
        destination="postgres",
    )
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        result_rows = rows_by_asset(materialize(platform, "shop", instance))
    assert result_rows == {"public_orders": ORDERS}
    engine = sa.create_engine(warehouse_url)
    with engine.connect() as conn:
        columns = set(
            conn.execute(
                sa.text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'shop' AND table_name = 'orders'"
                )
            ).scalars()
        )
        loaded = conn.execute(sa.text("SELECT count(*) FROM shop.orders")).scalar()
    engine.dispose()
    assert {"id", "updated_at", "amount"} <= columns and "note" not in columns
    assert loaded == ORDERS
    spec = integration_assets(platform, "shop").specs_by_key[dg.AssetKey(["shop", "public_orders"])]
    assert spec.metadata["dagster/table_name"] == "shop.orders"

    # A discovery that outlives its timeout is stopped, with the typed reason.
    timed_out = platform.service.discover("shop", timeout_s=0.3)
    assert timed_out.outcome.reason == "timeout"
    assert "discovery did not finish within 0.3 s" in timed_out.outcome.message

    # A wrong port: the typed reason of a connection test, nothing stored.
    platform.service.update("shop", config={"port": 1})
    failed = platform.service.discover("shop", timeout_s=60)
    assert not failed.ok and failed.outcome.reason == "network", failed.outcome
    assert platform.service.discovery("shop").discovered_at == result.discovery.discovered_at


def test_a_discovered_integration_syncs_its_stored_catalog_without_the_left_out_column(
    platform, sandbox, dagster_home
):
    platform.service.add(
        "salesforce", "crm", salesforce_config(sandbox), streams=["Contact"], start_date=START
    )
    assert platform.service.discover("crm").ok
    view = platform.service.update(
        "crm", streams=[StreamSelection("Contact", excluded_columns=("Email",))]
    )
    [contact] = view.integration.streams
    assert contact.excluded_columns == ("Email",)
    assert contact.replication_key == "SystemModstamp" and contact.primary_key == ("Id",)
    assert ("FirstName", "string") in contact.columns
    assert "Email" not in dict(contact.columns)

    before = len(sandbox.request_log)
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        result = materialize(platform, "crm", instance)
    assert rows_by_asset(result) == {"Contact": len(sandbox.records("Contact"))}
    rows = jsonl_rows(platform, "crm", "Contact")
    assert rows and all("FirstName" in r and "Email" not in r for r in rows)
    # The tap was handed the stored catalog: no discovery during the sync, only the
    # schema check's describe of the one selected object.
    during = [path for _, path in sandbox.request_log[before:]]
    assert [p for p in during if p.endswith(("/describe", "/sobjects"))] == [
        "/services/data/v61.0/sobjects/Contact/describe"
    ], during

    # The second sync is incremental from the bookmark (the tap re-reads its record).
    sandbox.add_records("Contact", 2)
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        second = materialize(platform, "crm", instance)
    assert rows_by_asset(second) == {"Contact": 3}

    # Dagster sees the synced columns, where they land and how many rows came.
    spec = integration_assets(platform, "crm").specs_by_key[dg.AssetKey(["crm", "Contact"])]
    schema = spec.metadata["dagster/column_schema"]
    assert [(c.name, c.type) for c in schema.columns] == list(contact.columns)
    assert spec.metadata["dagster/table_name"] == "crm/Contact.jsonl"
    [event] = [e for e in result.get_asset_materialization_events() if e.partition is None]
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["dagster/row_count"].value == len(rows)


@pytest.mark.parametrize(
    "selection, field, words",
    [
        (
            StreamSelection("Contacts"),
            "streams",
            "unknown stream(s) Contacts (did you mean Contact?)",
        ),
        (
            StreamSelection("Contact", excluded_columns=("Emial",)),
            "streams.Contact.excluded_columns",
            "unknown column(s) Emial (did you mean Email?)",
        ),
        (
            StreamSelection("Contact", excluded_columns=("Id",)),
            "streams.Contact.excluded_columns",
            "Id cannot be left out",
        ),
        (
            StreamSelection("Contact", replication_key="FirstName"),
            "streams.Contact.replication_key",
            "FirstName is not a valid replication key of Contact; valid: SystemModstamp",
        ),
    ],
)
def test_a_selection_the_discovery_refutes_is_refused_field_by_field_and_changes_nothing(
    platform, sandbox, selection, field, words
):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    assert platform.service.discover("crm").ok
    before = platform.service.get("crm")
    with pytest.raises(ConfigurationError) as raised:
        platform.service.update("crm", streams=[selection])
    assert words in raised.value.field_errors[field]
    assert platform.service.get("crm") == before
