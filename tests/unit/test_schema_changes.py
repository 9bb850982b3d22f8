"""Schema changes without a source: diffs, policies, the checks' rules, and bad input
through the API (the saved record unchanged)."""

from datetime import UTC, datetime

import dagster as dg
import pytest

from integrations_platform.discovery import Discovery, parse_catalog
from integrations_platform.integration import StreamSelection
from integrations_platform.orchestration.checks import schema_result, volume_result
from integrations_platform.runner.meltano import hash_maps
from integrations_platform.schema_changes import (
    PENDING,
    SchemaChange,
    apply_policy,
    approve_in_selection,
    check_policy,
    diff_discoveries,
)


def _entry(name: str, columns: dict[str, dict], key: tuple[str, ...] = ("Id",)) -> dict:
    return {
        "tap_stream_id": name,
        "schema": {"type": "object", "properties": columns},
        "key_properties": list(key),
        "metadata": [{"breadcrumb": [], "metadata": {"valid-replication-keys": ["Stamp"]}}],
    }


def _discovery(*entries: dict) -> Discovery:
    catalog = {"streams": list(entries)}
    return Discovery(parse_catalog(catalog), datetime.now(UTC), 0.1, catalog)


STRING = {"type": ["null", "string"]}
STAMP = {"type": ["null", "string"], "format": "date-time"}
NUMBER = {"type": ["null", "number"]}
BEFORE = _discovery(
    _entry("Account", {"Id": STRING, "Stamp": STAMP, "Amount": NUMBER, "Old": STRING}),
    _entry("Gone", {"Id": STRING}),
)
AFTER = _discovery(
    _entry("Account", {"Id": STRING, "Stamp": STAMP, "Amount": STRING, "Rating": STRING}),
    _entry("Fresh", {"Id": STRING, "Stamp": STAMP}),
)
ACCOUNT = StreamSelection("Account", "Stamp", ("Id",))


def test_every_kind_of_change_is_found():
    found = {(c.kind, c.stream, c.column, c.old, c.new) for c in diff_discoveries(BEFORE, AFTER)}
    assert found == {
        ("stream_added", "Fresh", None, None, None),
        ("stream_removed", "Gone", None, None, None),
        ("column_added", "Account", "Rating", None, "string"),
        ("column_removed", "Account", "Old", "string", None),
        ("type_changed", "Account", "Amount", "number", "string"),
    }
    moved = _discovery(_entry("Account", {"Id": STRING, "Stamp": STAMP}, key=("Stamp",)))
    same = _discovery(_entry("Account", {"Id": STRING, "Stamp": STAMP}))
    [key] = diff_discoveries(same, moved)
    assert (key.kind, key.old, key.new) == ("key_changed", "Id", "Stamp")
    assert diff_discoveries(same, same) == []


@pytest.mark.parametrize(
    ("policy", "selected", "rating_pending", "fresh_pending"),
    [
        ("allow_all", ["Account", "Fresh"], False, False),
        ("allow_columns", ["Account"], False, True),
        ("block_all", ["Account"], True, True),
    ],
)
def test_each_policy_decides_new_columns_and_streams(
    policy, selected, rating_pending, fresh_pending
):
    outcome = apply_policy(policy, [ACCOUNT], diff_discoveries(BEFORE, AFTER), AFTER)
    assert [s.name for s in outcome.streams] == selected
    status = {(c.stream, c.column): c.status for c in outcome.changes}
    assert (status[("Account", "Rating")] == PENDING) is rating_pending
    assert (status[("Fresh", None)] == PENDING) is fresh_pending
    # Removals and type changes are never held: the sync goes on with what exists.
    assert status[("Account", "Old")] == status[("Account", "Amount")] == "applied"
    account = outcome.streams[0]
    assert ("Rating" in account.excluded_columns) is rating_pending
    # Approving brings what was held back.
    for change in (c for c in outcome.changes if c.status == PENDING):
        streams = approve_in_selection(outcome.streams, change, AFTER)
        if change.column:
            assert "Rating" not in streams[0].excluded_columns
        else:
            assert [s.name for s in streams] == ["Account", "Fresh"]


def test_an_unknown_policy_names_the_valid_ones():
    errors: dict[str, str] = {}
    assert check_policy("allow_everything", errors) == "allow_columns"
    assert "unknown schema policy 'allow_everything'" in errors["schema_policy"]
    assert "allow_all" in errors["schema_policy"] and "block_all" in errors["schema_policy"]
    assert check_policy(None, {}) == "allow_columns"


def test_the_schema_check_warns_for_additions_and_errs_for_removals():
    key = dg.AssetKey(["crm", "Account"])
    assert schema_result(key, []).passed
    added = schema_result(key, [SchemaChange("Account", "column_added", "Rating", None, "string")])
    assert not added.passed and added.severity == dg.AssetCheckSeverity.WARN
    removed = schema_result(
        key,
        [
            SchemaChange("Account", "column_added", "Rating", None, "string"),
            SchemaChange("Account", "column_removed", "Old", "string", None),
        ],
    )
    assert not removed.passed and removed.severity == dg.AssetCheckSeverity.ERROR
    assert removed.description == "Account.Old: column removed (string)"


@pytest.mark.parametrize(
    ("rows", "history", "passed"),
    [
        (0, [3000, 2800, 3100, 2950], False),  # zero rows after thousands
        (2900, [3000, 2800, 3100, 2950], True),
        (500_000, [3000, 2800, 3100], False),  # far above
        (0, [0, 1, 0, 2], True),  # a quiet stream stays quiet
        (0, [3000, 2800], True),  # too little history for a band
    ],
)
def test_the_volume_band(rows, history, passed):
    result = volume_result(dg.AssetKey(["crm", "Account"]), rows, history)
    assert result.passed is passed
    assert result.severity == dg.AssetCheckSeverity.WARN


def test_hash_maps_are_sdk_stream_map_expressions():
    maps = hash_maps({"public-users": ["email", "phone"]})
    assert set(maps["public-users"]) == {"email", "phone"}
    assert all(
        e.startswith("str(sha256(config['hash_salt']") for e in maps["public-users"].values()
    )
