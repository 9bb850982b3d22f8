"""The connector catalog: the committed files load, broken files fail clearly."""

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from integrations_platform.catalog import Catalog, ConnectorSpec, load_catalog, load_connector
from integrations_platform.errors import CatalogError, ConnectorNotFoundError
from integrations_platform.settings import PROJECT_ROOT

CATALOG_DIR = PROJECT_ROOT / "connector_catalog"
CATALOG_FILES = sorted(CATALOG_DIR.glob("*.yaml"))
# The sources synced end to end in this project's tests; community files (imported from
# the plugins' own descriptions) come and go beside them.
VERIFIED = ["files", "mysql", "postgres", "rest_api", "s3_csv", "salesforce"]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


def settings_by_name(connector: ConnectorSpec) -> dict[str, Any]:
    return {s.name: s for s in connector.settings}


def copy_catalog(tmp_path: Path) -> Path:
    """A writable copy of the committed catalog (YAML files and logos)."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target)
    return target


def broken_copy(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of salesforce.yaml with ``mutate`` applied to its data."""
    directory = copy_catalog(tmp_path)
    path = directory / "salesforce.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def setting(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in data["settings"] if s["name"] == name)


# -- the committed catalog -------------------------------------------------------------


def test_catalog_directory_has_the_expected_connectors() -> None:
    tiers = {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8")).get("tier") for p in CATALOG_FILES
    }
    assert sorted(stem for stem, tier in tiers.items() if tier == "verified") == VERIFIED


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: p.name)
def test_every_catalog_file_loads(path: Path) -> None:
    spec = load_connector(path)
    assert spec.id == path.stem
    assert (path.parent / spec.logo).is_file()
    assert spec.settings, "a connector without settings cannot be configured"
    assert "==" in spec.extractor.pip_url.split()[0]


def test_load_catalog_holds_every_file(catalog: Catalog) -> None:
    assert len(catalog) == len(CATALOG_FILES)
    assert [c.id for c in catalog] == sorted(p.stem for p in CATALOG_FILES)
    assert "salesforce" in catalog and "postgres" in catalog and "mysql" in catalog
    assert "no_such_connector" not in catalog
    assert catalog.logo_path(catalog.get("salesforce")).is_file()


def test_salesforce_has_the_product_plan_settings(catalog: Catalog) -> None:
    sf = catalog.get("salesforce")
    by_name = settings_by_name(sf)

    client_id = by_name["client_id"]
    assert client_id.type == "string" and client_id.required and not client_id.secret
    for name in ("client_secret", "refresh_token"):
        assert by_name[name].secret, name
        assert by_name[name].required, name
        assert by_name[name].type == "string", name
        assert not by_name[name].advanced, name
    instance_url = by_name["instance_url"]
    assert instance_url.format == "uri"
    assert not instance_url.secret and not instance_url.advanced

    for name in ("is_sandbox", "api_type", "quota_percent_total", "quota_percent_per_run"):
        assert by_name[name].advanced, name
        assert not by_name[name].required, name
    assert by_name["is_sandbox"].type == "boolean"
    assert by_name["api_type"].choices == ("REST", "BULK")
    assert by_name["quota_percent_total"].type == "number"
    assert sf.secret_names == frozenset({"client_secret", "refresh_token"})
    assert sf.default_streams == ["Account", "Contact", "Opportunity"]
    assert sf.local_login is not None
    assert sf.local_login.env == "INTEGRATIONS_SALESFORCE_LOGIN_URL"


def test_postgres_has_connection_settings(catalog: Catalog) -> None:
    pg = catalog.get("postgres")
    by_name = settings_by_name(pg)
    assert {"host", "port", "user", "password", "database"} <= set(by_name)
    assert by_name["password"].secret and by_name["password"].required
    assert pg.secret_names == frozenset({"password"})
    assert by_name["port"].type == "integer" and by_name["port"].default == 5432
    for name in ("host", "user", "database"):
        assert by_name[name].required and not by_name[name].secret, name
    assert pg.dynamic_streams and pg.stream_name_pattern


def test_mysql_has_connection_settings_and_the_taps_stream_names(catalog: Catalog) -> None:
    my = catalog.get("mysql")
    by_name = settings_by_name(my)
    assert {"host", "port", "user", "password", "database", "filter_schemas"} <= set(by_name)
    assert my.secret_names == frozenset({"password"})
    assert by_name["port"].type == "integer" and by_name["port"].default == 3306
    assert by_name["filter_schemas"].type == "array"
    assert my.tier == "verified" and my.category == "Database"
    assert my.dynamic_streams and my.stream_name_pattern
    # tap-mysql names a stream <database>-<table>; MySQL allows names starting with digits.
    for name in ("shop-orders", "it_0a1b2c-orders", "2024_sales-q1$archive"):
        assert re.fullmatch(my.stream_name_pattern, name), name
    for name in ("orders", "shop.orders", "shop-"):
        assert not re.fullmatch(my.stream_name_pattern, name), name


# -- broken catalog files --------------------------------------------------------------


def assert_catalog_error(path: Path, *fragments: str) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        load_connector(path)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_invalid_yaml_names_the_file_and_the_line(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path)
    path = directory / "salesforce.yaml"
    path.write_text("id: salesforce\nlabel: [unclosed\ncategory: CRM\n", encoding="utf-8")
    error = assert_catalog_error(path, "not valid YAML", "line")
    # load_catalog fails the same way for the whole directory.
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    assert str(info.value) == str(error)


def test_a_file_that_is_not_a_mapping_fails(tmp_path: Path) -> None:
    path = tmp_path / "salesforce.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    assert_catalog_error(path, "mapping")


def test_wrong_setting_type_names_the_field(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, lambda d: setting(d, "client_id").update(type="text"))
    assert_catalog_error(path, "settings[client_id].type")


def test_missing_label_names_the_field(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, lambda d: setting(d, "refresh_token").pop("label"))
    assert_catalog_error(path, "settings[refresh_token].label", "required")


def test_unknown_setting_key_names_the_field(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, lambda d: setting(d, "client_id").update(colour="red"))
    assert_catalog_error(path, "settings[client_id].colour")


def test_unknown_top_level_key_names_the_field(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, lambda d: d.update(vendor="Salesforce Inc."))
    assert_catalog_error(path, "vendor")


def test_unpinned_pip_url_names_the_field(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, lambda d: d["extractor"].update(pip_url="tap-salesforce"))
    assert_catalog_error(path, "extractor.pip_url", "pin")


def test_unpinned_local_login_pip_url_names_the_field(tmp_path: Path) -> None:
    path = broken_copy(
        tmp_path, lambda d: d["local_login"]["extractor"].update(pip_url="tap-salesforce>=2")
    )
    assert_catalog_error(path, "local_login.extractor.pip_url")


def test_empty_pip_url_is_a_catalog_error(tmp_path: Path) -> None:
    # BUG (models.py ExtractorSpec._pinned): `value.split()[0]` raises IndexError on an
    # empty pip_url, which escapes as a bare IndexError instead of a CatalogError.
    path = broken_copy(tmp_path, lambda d: d["extractor"].update(pip_url=""))
    assert_catalog_error(path, "extractor.pip_url")


def test_invalid_stream_name_pattern_is_a_catalog_error(tmp_path: Path) -> None:
    # BUG (models.py ConnectorSpec._consistent): re.compile raises re.error, which is not
    # a ValueError, so pydantic does not wrap it and it escapes as a bare re.error.
    directory = copy_catalog(tmp_path)
    path = directory / "postgres.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["stream_name_pattern"] = "^([a-z]+$"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert_catalog_error(path, "stream_name_pattern")


def test_inconsistent_setting_names_the_setting(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, lambda d: setting(d, "client_secret").update(default="x"))
    assert_catalog_error(path, "settings[client_secret]", "secret setting cannot have a default")


def test_duplicate_setting_fails(tmp_path: Path) -> None:
    def duplicate(data: dict[str, Any]) -> None:
        data["settings"].append(dict(setting(data, "client_id")))

    path = broken_copy(tmp_path, duplicate)
    assert_catalog_error(path, "client_id", "twice")


def test_missing_logo_fails(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path)
    (directory / "logos" / "salesforce.svg").unlink()
    assert_catalog_error(directory / "salesforce.yaml", "logo", "logos/salesforce.svg")
    with pytest.raises(CatalogError, match="logo"):
        load_catalog(directory)


def test_file_name_must_match_id(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path)
    renamed = directory / "sfdc.yaml"
    (directory / "salesforce.yaml").rename(renamed)
    assert_catalog_error(renamed, "id 'salesforce'", "file name")


def test_non_utf8_catalog_file_is_a_catalog_error(tmp_path: Path) -> None:
    # BUG (loader.py load_connector): read_text raises UnicodeDecodeError (a ValueError,
    # not an OSError), which escapes instead of a CatalogError naming the file.
    directory = copy_catalog(tmp_path)
    path = directory / "salesforce.yaml"
    path.write_bytes(path.read_bytes().replace(b"Accounts", b"Acc\xffounts"))
    assert_catalog_error(path)


def test_missing_catalog_directory_fails(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="INTEGRATIONS_CATALOG_DIR"):
        load_catalog(tmp_path / "nowhere")


# -- lookups ---------------------------------------------------------------------------


def test_get_unknown_connector_lists_the_known_ids(catalog: Catalog) -> None:
    with pytest.raises(ConnectorNotFoundError) as info:
        catalog.get("no_such_connector")
    message = str(info.value)
    assert "'no_such_connector'" in message
    assert all(f"{known}," in message or f"{known} (" in message for known in VERIFIED)


def test_get_unknown_connector_in_an_empty_catalog(tmp_path: Path) -> None:
    empty = load_catalog(tmp_path)
    assert len(empty) == 0
    with pytest.raises(ConnectorNotFoundError, match="none"):
        empty.get("salesforce")


@pytest.mark.parametrize(
    ("query", "category", "expected"),
    [
        (None, None, VERIFIED),
        ("", None, VERIFIED),
        ("salesforce", None, ["salesforce"]),
        ("SALESFORCE", None, ["salesforce"]),
        ("opportunity", None, ["salesforce"]),  # a stream name
        ("crm", None, ["salesforce"]),  # the category is searchable text
        ("tables incrementally", None, ["mysql", "postgres"]),  # every word must match
        ("tables mariadb", None, ["mysql"]),
        ("postgresql", None, ["postgres"]),
        ("tables salesforce", None, []),
        ("zendesk", None, []),
        (None, "CRM", ["salesforce"]),
        (None, "database", ["mysql", "postgres"]),
        ("salesforce", "Database", []),
        (None, "Marketing", []),
        ("csv", None, ["files", "s3_csv"]),
        ("excel", "files", ["files", "s3_csv"]),
        ("s3", None, ["s3_csv"]),
    ],
)
def test_search(
    catalog: Catalog, query: str | None, category: str | None, expected: list[str]
) -> None:
    # Among the verified sources: the community files are not this test's to list.
    assert [c.id for c in catalog.search(query, category, tier="verified")] == expected


def test_categories(catalog: Catalog) -> None:
    assert catalog.categories == sorted(catalog.categories)
    assert set(catalog.categories) >= {"API", "CRM", "Database", "Files"}


def test_ordered_settings_required_first_advanced_last(catalog: Catalog) -> None:
    sf = catalog.get("salesforce")
    names = [s.name for s in sf.ordered_settings]
    assert names == [
        "client_id",
        "client_secret",
        "refresh_token",
        "instance_url",
        "is_sandbox",
        "api_type",
        "select_fields_by_default",
        "quota_percent_total",
        "quota_percent_per_run",
        "lookback_window",
    ]
    pg_names = [s.name for s in catalog.get("postgres").ordered_settings]
    # port (order 2, optional) comes after every required setting.
    assert pg_names == ["host", "user", "password", "database", "port", "filter_schemas"]


@pytest.mark.parametrize("connector_id", ["salesforce", "postgres"])
def test_ordered_settings_invariants(catalog: Catalog, connector_id: str) -> None:
    ordered = catalog.get(connector_id).ordered_settings
    flags = [(s.advanced, not s.required) for s in ordered]
    assert flags == sorted(flags)
    first_advanced = next(i for i, s in enumerate(ordered) if s.advanced)
    assert all(s.advanced for s in ordered[first_advanced:])
    required = [i for i, s in enumerate(ordered) if s.required]
    optional = [i for i, s in enumerate(ordered) if not s.required]
    assert max(required) < min(optional)
