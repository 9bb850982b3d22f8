"""`integrations catalog import` against real plugins from PyPI: installed, asked for their
own description, written as catalog files; the bad cases fail naming the package."""

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from integrations_platform.catalog import load_catalog, validate_config
from integrations_platform.catalog.form_schema import connector_form_schema
from integrations_platform.catalog.importer import import_connector
from integrations_platform.catalog.sensitive import looks_secret
from integrations_platform.cli import main
from integrations_platform.errors import CatalogError
from integrations_platform.settings import PROJECT_ROOT, get_settings

REST = "tap-rest-api-msdk==1.4.2"
# Its credentials, none of which the plugin flags as secret (DESIGN.md).
REST_CREDENTIALS = {"password", "bearer_token", "api_keys", "client_secret", "refresh_token"}


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    shutil.copytree(PROJECT_ROOT / "connector_catalog" / "logos", folder / "logos")
    return folder


def test_a_plugin_that_flags_no_secrets_gets_its_credentials_secret(
    catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTEGRATIONS_CATALOG_DIR", str(catalog_dir))
    get_settings.cache_clear()
    try:
        imported = CliRunner().invoke(main, ["catalog", "import", REST, "--no-install"])
    finally:
        get_settings.cache_clear()
    assert imported.exit_code == 0, (imported.stdout, imported.stderr)
    assert f"Wrote {catalog_dir / 'rest_api_msdk.yaml'}" in imported.stdout
    assert "Secret although the plugin does not say so" in imported.stdout

    spec = load_catalog(catalog_dir).get("rest_api_msdk")
    assert REST_CREDENTIALS <= spec.secret_names
    in_clear = [s.name for s in spec.settings if looks_secret(s.name, s.help) and not s.secret]
    assert in_clear == []
    assert spec.tier == "community"
    # It imports pkg_resources, which setuptools 81 removed: the import pinned an older one.
    assert spec.extractor.pip_url == f"{REST} setuptools==80.9.0"
    assert "adding setuptools==80.9.0" in imported.stdout
    # Its streams are a list of objects, with their own schema in the form.
    streams = spec.setting("streams")
    assert streams is not None and streams.type == "array"
    item = connector_form_schema(spec)["properties"]["streams"]["items"]
    assert {"name", "path"} <= set(item["properties"])
    # A stored value of each credential: every part of it is a value to redact.
    config = validate_config(
        spec,
        {
            "api_url": "http://127.0.0.1:1/api",
            "streams": [{"name": "users", "path": "/users"}],
            "password": "canary-password-1",
            "api_keys": {"X-Api-Key": "canary-api-key-2"},
        },
    )
    assert {"canary-password-1", "canary-api-key-2"} <= set(spec.secret_values(config))

    # Hand edits survive a re-import (the same version: no change to report).
    path = catalog_dir / "rest_api_msdk.yaml"
    data = yaml.safe_load(path.read_text())
    data["label"] = "Any REST API"
    data["category"] = "API"
    next(s for s in data["settings"] if s["name"] == "api_url")["help"] = "The API's base URL."
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    again = import_connector(REST, catalog_dir, log=lambda _m: None)
    assert not again.created and again.changes == []
    reloaded = load_catalog(catalog_dir).get("rest_api_msdk")
    assert (reloaded.label, reloaded.category) == ("Any REST API", "API")
    assert reloaded.setting("api_url").help == "The API's base URL."


def test_a_package_that_will_not_install_is_named(catalog_dir: Path) -> None:
    with pytest.raises(CatalogError) as failed:
        import_connector("tap-no-such-plugin-9f3k==1.0.0", catalog_dir, log=lambda _m: None)
    assert "tap-no-such-plugin-9f3k==1.0.0 could not be installed" in str(failed.value)
    assert list(catalog_dir.glob("*.yaml")) == []


def test_a_plugin_without_a_json_description_is_named(catalog_dir: Path) -> None:
    # target-jsonl predates the SDK: it has no --about.
    with pytest.raises(CatalogError) as failed:
        import_connector(
            "target-jsonl==0.1.4", catalog_dir, executable="target-jsonl", log=lambda _m: None
        )
    message = str(failed.value)
    assert "target-jsonl==0.1.4: `target-jsonl --about --format=json` did not print JSON" in message
    assert "write the catalog file by hand" in message
    assert list(catalog_dir.glob("*.yaml")) == []
