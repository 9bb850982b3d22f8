"""From a plugin's --about JSON to a catalog file, and re-imports that keep hand edits
(the real install and --about are in tests/integration/test_catalog_import.py)."""

import copy

import pytest

from integrations_platform.catalog.importer import _package, generate, merge
from integrations_platform.catalog.loader import connector_from_data
from integrations_platform.errors import CatalogError
from integrations_platform.settings import PROJECT_ROOT

# The shape of a Singer SDK plugin's `--about --format=json`, secrets unflagged.
ABOUT = {
    "name": "tap-example",
    "description": "Example REST source",
    "version": "1.0.0",
    "capabilities": ["catalog", "discover", "state", "about", "stream-maps"],
    "settings": {
        "type": "object",
        "properties": {
            "api_url": {"type": "string", "description": "The base URL"},
            "auth_method": {"type": "string", "enum": ["no_auth", "basic", "bearer_token"]},
            "password": {"type": ["string", "null"], "description": "Basic auth password"},
            "bearer_token": {"type": "string"},
            "api_keys": {"type": "object", "description": "Headers with API keys"},
            "page_size": {"type": "integer", "default": 100},
            "start_date": {"type": "string", "format": "date-time"},
            "stream_maps": {"type": "object"},
            "streams": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "path": {"type": "string"}},
                    "required": ["name"],
                },
            },
        },
        "required": ["api_url", "streams"],
    },
}


def test_every_setting_gets_its_type_and_credentials_are_secret():
    data, made_secret = generate(ABOUT, "tap-example==1.0.0", "tap-example", "example")
    spec = connector_from_data(data, PROJECT_ROOT / "connector_catalog" / "example.yaml")
    by_name = {s.name: s for s in spec.settings}
    assert set(by_name) == {
        "api_url",
        "auth_method",
        "password",
        "bearer_token",
        "api_keys",
        "page_size",
        "streams",
    }
    assert made_secret == ["password", "bearer_token", "api_keys"]
    assert spec.secret_names == {"password", "bearer_token", "api_keys"}
    assert by_name["auth_method"].choices == ("no_auth", "basic", "bearer_token")
    assert by_name["page_size"].type == "integer" and by_name["page_size"].default == 100
    assert by_name["api_keys"].type == "object"
    streams = by_name["streams"]
    assert streams.type == "array" and streams.required
    assert streams.value_schema["items"]["required"] == ["name"]
    assert spec.extractor.start_date_setting == "start_date"
    assert spec.tier == "community" and spec.dynamic_streams


def test_reimporting_keeps_hand_edits_and_lists_changes():
    first, _ = generate(ABOUT, "tap-example==1.0.0", "tap-example", "example")
    edited = copy.deepcopy(first)
    edited["label"] = "Example API"
    edited["category"] = "Marketing"
    api_url = next(s for s in edited["settings"] if s["name"] == "api_url")
    api_url.update(label="Base URL", help="Where the API lives.", order=1)
    newer = copy.deepcopy(ABOUT)
    newer["settings"]["properties"]["timeout"] = {"type": "integer"}
    del newer["settings"]["properties"]["page_size"]
    newer["settings"]["properties"]["api_url"]["description"] = "Changed upstream"
    second, _ = generate(newer, "tap-example==1.1.0", "tap-example", "example")
    merged, changes = merge(edited, second)
    assert merged["label"] == "Example API" and merged["category"] == "Marketing"
    kept = next(s for s in merged["settings"] if s["name"] == "api_url")
    assert (kept["label"], kept["help"], kept["order"]) == ("Base URL", "Where the API lives.", 1)
    assert changes == [
        "package: tap-example==1.0.0 → tap-example==1.1.0",
        "setting added: timeout",
        "setting removed: page_size",
    ]
    assert merge(merged, second)[1] == []  # nothing new the second time


@pytest.mark.parametrize("spec", ["tap-example", "tap-example>=1.0", "==1.0", "tap example==1"])
def test_an_unpinned_package_is_refused(spec):
    with pytest.raises(CatalogError, match="not a pinned package"):
        _package(spec)


def test_a_default_of_the_moment_of_the_import_is_left_to_the_plugin():
    """A plugin that answers `--about` with end_date = now would freeze that day into
    every sync; an ordinary date default is kept."""
    from datetime import UTC, datetime

    about = copy.deepcopy(ABOUT)
    now = datetime.now(UTC).isoformat()
    about["settings"]["properties"]["end_date"] = {"type": "string", "default": now}
    about["settings"]["properties"]["since"] = {"type": "string", "default": "2020-01-01"}
    data, _ = generate(about, "tap-example==1.0.0", "tap-example", "example")
    by_name = {s["name"]: s for s in data["settings"]}
    assert "default" not in by_name["end_date"]
    assert by_name["since"]["default"] == "2020-01-01"


# A target's description: default_target_schema is set per integration, not asked for.
TARGET_ABOUT = {
    "name": "target-example",
    "description": "Example warehouse loader",
    "capabilities": ["about", "stream-maps"],
    "settings": {
        "type": "object",
        "properties": {
            "host": {"type": "string"},
            "port": {"type": "integer", "default": 5439},
            "user": {"type": "string"},
            "password": {"type": "string"},
            "default_target_schema": {"type": "string"},
            "stream_maps": {"type": "object"},
        },
        "required": ["host", "user", "password"],
    },
}


def test_a_destination_is_imported_as_a_destination_catalog_file():
    data, made_secret = generate(
        TARGET_ABOUT, "target-example==1.0.0", "target-example", "example", "destination"
    )
    path = PROJECT_ROOT / "connector_catalog" / "destinations" / "example.yaml"
    spec = connector_from_data(data, path)
    assert spec.kind == "destination"
    assert spec.loader.name == "target-example"
    assert [s.name for s in spec.settings] == ["host", "port", "user", "password"]
    assert made_secret == ["password"]
    assert spec.destination.per_integration == {"default_target_schema": "{integration}"}
    assert spec.destination.connection_test == "reachability"
    assert spec.table_name("shop", "public-orders") == "shop.orders"
    merged, changes = merge(data, data)
    assert changes == []
