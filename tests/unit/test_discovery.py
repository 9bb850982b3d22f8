"""Reading a Singer catalog as typed streams, and storing it."""

from datetime import UTC, datetime

import pytest

from integrations_platform.catalog import load_catalog
from integrations_platform.discovery import (
    Discovery,
    pack_catalog,
    parse_catalog,
    parse_column,
    select_catalog,
    unpack_catalog,
)
from integrations_platform.errors import ConfigurationError, NotDiscoveredError
from integrations_platform.integration import StreamSelection
from integrations_platform.service.selection import check_against_discovery
from integrations_platform.settings import PROJECT_ROOT
from integrations_platform.store.discoveries import (
    delete_discovery,
    load_discovery,
    save_discovery,
)

# As tap-salesforce prints an object: its key and replication key chosen by the tap.
ACCOUNT = {
    "stream": "Account",
    "tap_stream_id": "Account",
    "schema": {
        "type": "object",
        "properties": {
            "Id": {"type": "string"},
            "Name": {"type": ["null", "string"]},
            "SystemModstamp": {
                "anyOf": [{"type": "string", "format": "date-time"}, {"type": ["string", "null"]}]
            },
            "BillingAddress": {
                "type": ["null", "object"],
                "properties": {"city": {"type": ["null", "string"]}},
            },
            "NumberOfEmployees": {"type": ["null", "integer"]},
            "AnnualRevenue": {"type": ["null", "number"]},
        },
    },
    "metadata": [
        {
            "breadcrumb": [],
            "metadata": {
                "valid-replication-keys": ["SystemModstamp"],
                "table-key-properties": ["Id"],
            },
        },
        {"breadcrumb": ["properties", "Id"], "metadata": {"inclusion": "automatic"}},
        {"breadcrumb": ["properties", "SystemModstamp"], "metadata": {"inclusion": "automatic"}},
    ],
}
# An object the tap can only read whole.
FORCED = {
    "tap_stream_id": "AccountHistory",
    "schema": {
        "properties": {
            "Id": {"type": "string"},
            "CreatedDate": {"type": "string", "format": "date-time"},
        }
    },
    "metadata": [{"breadcrumb": [], "metadata": {"forced-replication-method": "FULL_TABLE"}}],
}
# As an SDK database tap prints a table: no replication key named.
ORDERS = {
    "tap_stream_id": "public-orders",
    "key_properties": ["id"],
    "schema": {
        "properties": {
            "id": {"type": ["integer"]},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
            "amount": {"type": ["number", "null"]},
            "note": {"type": ["string", "null"]},
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        }
    },
    "metadata": [{"breadcrumb": [], "metadata": {"table-key-properties": ["id"]}}],
}


def test_a_catalog_becomes_typed_streams_sorted_by_name():
    streams = parse_catalog({"streams": [ORDERS, ACCOUNT, FORCED]})
    assert [s.name for s in streams] == ["Account", "AccountHistory", "public-orders"]
    account, history, orders = streams

    assert account.primary_key == ("Id",)
    assert account.replication_keys == ("SystemModstamp",)
    assert account.incremental and account.default_replication_key == "SystemModstamp"
    types = {c.name: (c.type, c.format, c.nullable, c.inclusion) for c in account.columns}
    assert types == {
        "Id": ("string", None, False, "automatic"),
        "Name": ("string", None, True, "available"),
        "SystemModstamp": ("string", "date-time", True, "automatic"),
        "BillingAddress": ("object", None, True, "available"),
        "NumberOfEmployees": ("integer", None, True, "available"),
        "AnnualRevenue": ("number", None, True, "available"),
    }

    # Forced to full table: no key offered, even with a timestamp column.
    assert not history.incremental and history.replication_keys == ()
    assert history.default_replication_key is None

    # A database table: every timestamp or integer column is a candidate, none chosen
    # for the user but the first; the key comes from key_properties.
    assert orders.primary_key == ("id",)
    assert orders.replication_keys == ("id", "updated_at")
    assert orders.column("tags").type == "array"
    assert orders.column("missing") is None


def test_a_column_typed_several_ways_is_reported_as_what_every_value_fits():
    assert parse_column("x", {"type": ["null", "integer", "string"]}, "available").type == "string"
    assert parse_column("x", {"type": ["integer", "number"]}, "available").type == "number"
    assert parse_column("x", {}, "available").type == "string"  # no type: anything
    assert parse_column("x", {"properties": {}}, "available").type == "object"


@pytest.mark.parametrize(
    "catalog, words",
    [
        ({}, "no 'streams' list"),
        ({"streams": {"a": 1}}, "no 'streams' list"),
        ({"streams": [{"schema": {}}]}, "neither tap_stream_id nor stream"),
    ],
)
def test_what_is_not_a_singer_catalog_is_refused_clearly(catalog, words):
    with pytest.raises(ConfigurationError, match=words):
        parse_catalog(catalog)


def test_the_store_keeps_one_discovery_per_integration_compressed(platform):
    catalog = {"streams": [ACCOUNT, ORDERS] * 1}
    assert unpack_catalog(pack_catalog(catalog)) == catalog
    big = {"streams": [dict(ACCOUNT, tap_stream_id=f"Object{i}__c") for i in range(500)]}
    assert len(pack_catalog(big)) < len(str(big)) / 10

    store = platform.service.store
    first = Discovery(parse_catalog(catalog), datetime(2026, 1, 1, tzinfo=UTC), 1.5, catalog)
    save_discovery(store, "id-1", first)
    second = Discovery(parse_catalog(big), datetime(2026, 1, 2, tzinfo=UTC), 9.0, big)
    save_discovery(store, "id-1", second)
    loaded = load_discovery(store, "id-1")
    assert loaded is not None
    assert loaded.discovered_at == second.discovered_at and loaded.duration_s == 9.0
    assert len(loaded.streams) == 500 and loaded.catalog == big
    assert load_discovery(store, "id-2") is None
    delete_discovery(store, "id-1")
    assert load_discovery(store, "id-1") is None


def test_an_integration_never_discovered_says_how_to_discover_it(platform):
    config = {"client_id": "a", "client_secret": "b" * 12, "refresh_token": "c" * 12}
    platform.service.add("salesforce", "crm", config)
    with pytest.raises(NotDiscoveredError, match="integrations discover crm"):
        platform.service.discovery("crm")


def test_the_catalog_a_sync_hands_the_tap_carries_the_selection():
    catalog = {"streams": [ACCOUNT, ORDERS, FORCED]}
    selected = select_catalog(
        catalog,
        [
            StreamSelection("Account", "SystemModstamp", excluded_columns=("Name",)),
            StreamSelection("public-orders"),
        ],
    )
    assert [e["tap_stream_id"] for e in selected["streams"]] == ["Account", "public-orders"]
    account, orders = (
        {tuple(m["breadcrumb"]): m["metadata"] for m in e["metadata"]} for e in selected["streams"]
    )
    assert account[()]["selected"] and account[()]["replication-method"] == "INCREMENTAL"
    assert account[()]["replication-key"] == "SystemModstamp"
    assert account[("properties", "Name")] == {"selected": False}
    assert account[("properties", "Id")] == {"inclusion": "automatic", "selected": True}
    assert orders[()]["replication-method"] == "FULL_TABLE" and "replication-key" not in orders[()]
    # The same at the stream's top level, where older SDK taps (tap-mysql's) read it.
    first, second = selected["streams"]
    assert (first["replication_method"], first["replication_key"]) == (
        "INCREMENTAL",
        "SystemModstamp",
    )
    assert (second["replication_method"], second["replication_key"]) == ("FULL_TABLE", None)
    assert catalog["streams"][0] is ACCOUNT and "selected" not in ACCOUNT["metadata"][0]["metadata"]


def test_a_pattern_selects_every_discovered_stream_it_matches_once():
    catalog = {
        "streams": [dict(ACCOUNT, tap_stream_id=n) for n in ("Project_01__c", "Project_02__c")]
        + [ACCOUNT, ORDERS]
    }
    discovery = Discovery(parse_catalog(catalog), datetime(2026, 1, 1, tzinfo=UTC), 1.0, catalog)
    connector = load_catalog(PROJECT_ROOT / "connector_catalog").get("salesforce")
    errors: dict[str, str] = {}
    chosen = check_against_discovery(
        connector,
        errors,
        [
            StreamSelection("Project_02__c"),
            StreamSelection("Project_*__c", excluded_columns=("Name",)),
            StreamSelection("Nothing_*"),
        ],
        discovery,
    )
    assert [s.name for s in chosen] == ["Project_02__c", "Project_01__c"]
    assert chosen[0].excluded_columns == () and chosen[1].excluded_columns == ("Name",)
    assert chosen[1].replication_key == "SystemModstamp"
    assert errors == {"streams": "no discovered stream matches Nothing_*"}
