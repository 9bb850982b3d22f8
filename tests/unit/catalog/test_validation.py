"""validate_config and effective_config: field-by-field errors, canonical values."""

import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from integrations_platform.catalog import ConnectorSpec, load_catalog, validate_config
from integrations_platform.catalog.validation import effective_config
from integrations_platform.errors import ConfigurationError
from integrations_platform.settings import PROJECT_ROOT

CATALOG = load_catalog(PROJECT_ROOT / "connector_catalog")
SALESFORCE = CATALOG.get("salesforce")
POSTGRES = CATALOG.get("postgres")

# A connector with one setting of every type, for the types the catalog does not use.
EVERY_TYPE = ConnectorSpec.model_validate(
    {
        "id": "every_type",
        "label": "Every Type",
        "category": "Test",
        "description": "One setting of each type.",
        "docs_url": "https://example.com",
        "logo": "logos/x.svg",
        "extractor": {
            "name": "tap-every",
            "namespace": "tap_every",
            "pip_url": "tap-every==1.0.0",
            "executable": "tap-every",
        },
        "settings": [
            {"name": "token", "label": "Token", "required": True, "secret": True},
            {"name": "text", "label": "Text"},
            {"name": "count", "label": "Count", "type": "integer", "minimum": 0, "maximum": 10},
            {"name": "ratio", "label": "Ratio", "type": "number", "minimum": 0.5},
            {"name": "flag", "label": "Flag", "type": "boolean"},
            {"name": "since", "label": "Since", "type": "datetime"},
            {"name": "day", "label": "Day", "type": "date"},
            {"name": "tags", "label": "Tags", "type": "array"},
            {"name": "email", "label": "Email", "format": "email"},
            {"name": "mode", "label": "Mode", "choices": ["a", "b"], "default": "a"},
        ],
        "streams": [{"name": "things"}],
    }
)

SF_VALID = {"client_id": "cid", "client_secret": "csecret-value", "refresh_token": "rtoken-value"}
PG_VALID = {"host": "db", "user": "u", "password": "pw-secret", "database": "d"}


def field_errors(connector: ConnectorSpec, values: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ConfigurationError) as info:
        validate_config(connector, values, **kwargs)
    return info.value.field_errors


# -- valid configs ---------------------------------------------------------------------


def test_valid_salesforce_config_is_returned_unchanged() -> None:
    values = {
        **SF_VALID,
        "instance_url": "https://acme.my.salesforce.com",
        "is_sandbox": True,
        "api_type": "BULK",
        "quota_percent_total": 50.5,
        "lookback_window": 60,
    }
    assert validate_config(SALESFORCE, values) == values


def test_valid_postgres_config() -> None:
    values = {**PG_VALID, "port": 6543, "filter_schemas": ["public", "sales"]}
    assert validate_config(POSTGRES, values) == values


def test_validate_config_does_not_mutate_inputs() -> None:
    values = {**SF_VALID, "instance_url": None}
    existing = {**SF_VALID, "instance_url": "https://a.example.com"}
    snapshot_values, snapshot_existing = dict(values), dict(existing)
    validate_config(SALESFORCE, values, existing=existing)
    assert values == snapshot_values and existing == snapshot_existing


def test_whole_float_is_accepted_as_integer() -> None:
    result = validate_config(SALESFORCE, {**SF_VALID, "lookback_window": 30.0})
    assert result["lookback_window"] == 30 and isinstance(result["lookback_window"], int)


# -- field-by-field errors -------------------------------------------------------------


def test_unknown_field_lists_known_settings() -> None:
    errors = field_errors(SALESFORCE, {**SF_VALID, "password": "x"})
    assert set(errors) == {"password"}
    assert "unknown setting" in errors["password"]
    assert "client_id" in errors["password"] and "refresh_token" in errors["password"]


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("text", 12, "expected text"),
        ("text", ["a"], "expected text"),
        ("count", "3", "expected a number"),
        ("count", True, "expected a number"),  # a bool is not a number
        ("count", 2.5, "whole number"),
        ("ratio", "0.7", "expected a number"),
        ("ratio", False, "expected a number"),
        ("flag", "true", "true or false"),
        ("flag", 1, "true or false"),
        ("since", "yesterday", "ISO 8601"),
        ("since", "2024-13-01", "ISO 8601"),
        ("since", 1700000000, "expected a date"),
        ("day", "01/02/2024", "ISO 8601"),
        ("tags", "a,b", "list of text"),
        ("tags", ["a", 1], "list of text"),
        ("email", "not-an-address", "email"),
        ("mode", "c", "must be one of a, b"),
        ("mode", "A", "must be one of a, b"),  # choices are case-sensitive
        ("count", -1, "at least 0"),
        ("count", 11, "at most 10"),
        ("ratio", 0.25, "at least 0.5"),
    ],
)
def test_wrong_value_is_reported_on_its_field(name: str, value: Any, fragment: str) -> None:
    errors = field_errors(EVERY_TYPE, {"token": "token-value", name: value})
    assert set(errors) == {name}
    assert fragment in errors[name]


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("client_id", 123, "expected text"),
        ("client_id", "   ", "must not be empty"),
        ("instance_url", "acme.my.salesforce.com", "expected a URL"),
        ("instance_url", "ftp://acme.example.com", "expected a URL"),
        ("is_sandbox", "false", "true or false"),
        ("api_type", "SOAP", "must be one of REST, BULK"),
        ("quota_percent_total", 0, "at least 1"),
        ("quota_percent_total", 101, "at most 100"),
        ("quota_percent_per_run", "25", "expected a number"),
        ("lookback_window", -5, "at least 0"),
    ],
)
def test_salesforce_field_errors(name: str, value: Any, fragment: str) -> None:
    errors = field_errors(SALESFORCE, {**SF_VALID, name: value})
    assert set(errors) == {name}
    assert fragment in errors[name]


def test_postgres_port_range() -> None:
    assert "at most 65535" in field_errors(POSTGRES, {**PG_VALID, "port": 70000})["port"]
    assert "at least 1" in field_errors(POSTGRES, {**PG_VALID, "port": 0})["port"]


def test_nan_is_not_accepted_for_a_bounded_number() -> None:
    # BUG (validation.py _coerce): NaN compares False with both bounds, so
    # quota_percent_total=NaN (valid in YAML `.nan` and Python's json) passes the
    # 1..100 range check and is stored; it should be rejected on its field.
    errors = field_errors(SALESFORCE, {**SF_VALID, "quota_percent_total": math.nan})
    assert set(errors) == {"quota_percent_total"}


@pytest.mark.parametrize("missing", ["client_id", "client_secret", "refresh_token"])
def test_missing_required_setting(missing: str) -> None:
    values = {k: v for k, v in SF_VALID.items() if k != missing}
    errors = field_errors(SALESFORCE, values)
    assert set(errors) == {missing}
    expected = "required secret is not set" if missing != "client_id" else "required setting"
    assert expected in errors[missing]


def test_blank_required_secret_on_create_is_missing() -> None:
    errors = field_errors(SALESFORCE, {**SF_VALID, "client_secret": ""})
    assert errors == {"client_secret": "required secret is not set"}


def test_several_errors_at_once_in_one_error() -> None:
    values = {
        "client_id": 5,
        "api_type": "SOAP",
        "quota_percent_total": 500,
        "colour": "red",
        "is_sandbox": "yes",
    }
    with pytest.raises(ConfigurationError) as info:
        validate_config(SALESFORCE, values)
    errors = info.value.field_errors
    assert set(errors) == {
        "client_id",
        "api_type",
        "quota_percent_total",
        "colour",
        "is_sandbox",
        "client_secret",
        "refresh_token",
    }
    assert "expected text" in errors["client_id"]  # the type error wins over "missing"
    message = str(info.value)
    for name in errors:
        assert name in message


def test_a_config_that_is_not_a_mapping() -> None:
    with pytest.raises(ConfigurationError, match="mapping"):
        validate_config(SALESFORCE, ["client_id", "x"])  # type: ignore[arg-type]


# -- canonical forms -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
        ("2024-01-01T00:00:00z", "2024-01-01T00:00:00Z"),
        ("2024-01-01", "2024-01-01T00:00:00Z"),
        ("2024-01-01T12:30:00", "2024-01-01T12:30:00Z"),  # naive is UTC
        ("2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00Z"),
        ("2023-12-31T23:00:00-05:00", "2024-01-01T04:00:00Z"),
        ("2024-01-01T00:00:00.987654Z", "2024-01-01T00:00:00Z"),
        (" 2024-06-30T10:00:00Z ", "2024-06-30T10:00:00Z"),
        (datetime(2024, 3, 1, 8, 15), "2024-03-01T08:15:00Z"),
        (datetime(2024, 3, 1, 8, 15, tzinfo=timezone(timedelta(hours=1))), "2024-03-01T07:15:00Z"),
        (date(2024, 3, 1), "2024-03-01T00:00:00Z"),
    ],
)
def test_datetimes_are_normalised(given: Any, stored: str) -> None:
    result = validate_config(EVERY_TYPE, {"token": "token-value", "since": given})
    assert result["since"] == stored


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-03-01", "2024-03-01"),
        ("2024-03-01T10:00:00Z", "2024-03-01"),
        (datetime(2024, 3, 1, 1, tzinfo=UTC), "2024-03-01"),
    ],
)
def test_dates_are_normalised(given: Any, stored: str) -> None:
    assert validate_config(EVERY_TYPE, {"token": "token-value", "day": given})["day"] == stored


# -- updates (existing=) ---------------------------------------------------------------

EXISTING = {
    **SF_VALID,
    "instance_url": "https://acme.my.salesforce.com",
    "api_type": "BULK",
    "lookback_window": 60,
}


def test_update_omitted_keys_keep_their_value() -> None:
    result = validate_config(SALESFORCE, {"api_type": "REST"}, existing=EXISTING)
    assert result == {**EXISTING, "api_type": "REST"}


def test_update_with_nothing_keeps_everything() -> None:
    assert validate_config(SALESFORCE, {}, existing=EXISTING) == EXISTING


@pytest.mark.parametrize("blank", [None, ""])
def test_update_blank_secret_keeps_the_stored_secret(blank: Any) -> None:
    result = validate_config(
        SALESFORCE, {"client_secret": blank, "refresh_token": blank}, existing=EXISTING
    )
    assert result["client_secret"] == "csecret-value"
    assert result["refresh_token"] == "rtoken-value"


def test_update_new_secret_replaces_the_stored_one() -> None:
    result = validate_config(SALESFORCE, {"client_secret": "new-secret"}, existing=EXISTING)
    assert result["client_secret"] == "new-secret"
    assert result["refresh_token"] == "rtoken-value"


def test_update_none_non_secret_is_removed() -> None:
    result = validate_config(
        SALESFORCE, {"instance_url": None, "lookback_window": None}, existing=EXISTING
    )
    assert "instance_url" not in result and "lookback_window" not in result
    assert result["api_type"] == "BULK"
    # ...and a sync then uses the catalog default where there is one.
    assert effective_config(SALESFORCE, result)["api_type"] == "BULK"
    reset = validate_config(SALESFORCE, {"api_type": None}, existing=EXISTING)
    assert effective_config(SALESFORCE, reset)["api_type"] == "REST"


def test_update_removing_a_required_setting_fails() -> None:
    errors = field_errors(SALESFORCE, {"client_id": None}, existing=EXISTING)
    assert errors == {"client_id": "required setting is missing"}


def test_update_errors_are_reported_field_by_field() -> None:
    errors = field_errors(
        SALESFORCE, {"api_type": "SOAP", "lookback_window": "1h"}, existing=EXISTING
    )
    assert set(errors) == {"api_type", "lookback_window"}


def test_update_blank_secret_without_a_stored_one_is_missing() -> None:
    existing = {k: v for k, v in EXISTING.items() if k != "refresh_token"}
    errors = field_errors(SALESFORCE, {"refresh_token": ""}, existing=existing)
    assert errors == {"refresh_token": "required secret is not set"}


# -- effective_config ------------------------------------------------------------------


def test_effective_config_fills_defaults() -> None:
    config = effective_config(SALESFORCE, SF_VALID)
    assert config == {
        **SF_VALID,
        "is_sandbox": False,
        "api_type": "REST",
        "select_fields_by_default": True,
        "quota_percent_total": 80,
        "quota_percent_per_run": 25,
    }
    assert "lookback_window" not in config  # no default
    assert "instance_url" not in config


def test_effective_config_stored_values_win_over_defaults() -> None:
    stored = {**SF_VALID, "api_type": "BULK", "is_sandbox": True, "quota_percent_total": 10}
    config = effective_config(SALESFORCE, stored)
    assert config["api_type"] == "BULK"
    assert config["is_sandbox"] is True
    assert config["quota_percent_total"] == 10
    assert config["quota_percent_per_run"] == 25


def test_effective_config_ignores_stored_none() -> None:
    config = effective_config(POSTGRES, {**PG_VALID, "port": None})
    assert config["port"] == 5432


# -- bounds every setting obeys ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ab", "is 2 characters long; a secret needs at least 8"),
        ("30", "is 2 characters long; a secret needs at least 8"),
        ("1234567", "is 7 characters long"),
        ("token\0value", "control character (U+0000) at position 6"),
        ("token\x1bvalue", "control character (U+001B)"),
        ("token-\ud800-value", "lone surrogate"),
        ("x" * (16 * 1024 + 1), "is 16,385 bytes long; a setting holds at most 16 KiB"),
        ("é" * (8 * 1024 + 1), "is 16,386 bytes long"),
    ],
    ids=["two-chars", "digits", "seven", "nul", "escape", "surrogate", "too-long", "too-long-utf8"],
)
def test_secret_values_out_of_bounds_are_refused(value: str, message: str) -> None:
    errors = field_errors(SALESFORCE, {**SF_VALID, "client_secret": value})
    assert set(errors) == {"client_secret"}
    assert message in errors["client_secret"]
    assert f"'{value}'" not in errors["client_secret"]  # never echoed
    if len(value) > 2:
        assert value not in errors["client_secret"]


@pytest.mark.parametrize(
    "value",
    ["12345678", "ab'c\"d\\e", "multi\nline\r\n\tkey-----", "x" * (16 * 1024), "xü😀-token"],
    ids=["digits-8", "quotes", "newlines", "at-the-limit", "unicode"],
)
def test_secrets_within_bounds_are_accepted(value: str) -> None:
    assert (
        validate_config(SALESFORCE, {**SF_VALID, "client_secret": value})["client_secret"] == value
    )


def test_the_same_bounds_hold_for_plain_settings_and_list_items() -> None:
    errors = field_errors(
        EVERY_TYPE, {"token": "token-value", "text": "a\0b", "tags": ["ok", "bad\x07"]}
    )
    assert "control character (U+0000)" in errors["text"]
    assert "control character (U+0007)" in errors["tags"]
    # A short plain (non-secret) value is fine: only secrets need the minimum length.
    assert validate_config(EVERY_TYPE, {"token": "token-value", "text": "ab"})["text"] == "ab"
