"""meltano/meltano.yml is generated from the catalog: one source of truth."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from integrations_platform.catalog import Catalog, load_catalog
from integrations_platform.cli import main
from integrations_platform.runner.meltano_project import (
    render_meltano_project,
    write_meltano_project,
)
from integrations_platform.settings import PROJECT_ROOT, get_settings

CATALOG_DIR = PROJECT_ROOT / "connector_catalog"
MELTANO_YML = PROJECT_ROOT / "meltano" / "meltano.yml"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return yaml.safe_load(MELTANO_YML.read_text(encoding="utf-8"))


def plugin(project: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    found = [p for p in project["plugins"][kind] if p["name"] == name]
    assert len(found) == 1, f"{kind} {name} declared {len(found)} times"
    return found[0]


def declared_kinds(plugin_data: dict[str, Any]) -> dict[str, str]:
    names = [s["name"] for s in plugin_data["settings"]]
    assert len(names) == len(set(names)), f"{plugin_data['name']} declares a setting twice"
    return {s["name"]: s["kind"] for s in plugin_data["settings"]}


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The default settings (the repository's catalog and Meltano project)."""
    for var in ("INTEGRATIONS_CATALOG_DIR", "INTEGRATIONS_MELTANO_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_committed_meltano_yml_equals_the_rendering(catalog: Catalog) -> None:
    assert MELTANO_YML.read_text(encoding="utf-8") == render_meltano_project(catalog), (
        "meltano/meltano.yml is out of date: run `integrations meltano-yml --write`"
    )


def test_rendering_is_deterministic(catalog: Catalog) -> None:
    assert render_meltano_project(catalog) == render_meltano_project(load_catalog(CATALOG_DIR))


def test_meltano_yml_has_no_anchors_and_no_values(project: dict[str, Any]) -> None:
    text = MELTANO_YML.read_text(encoding="utf-8")
    assert "&id" not in text and "*id" not in text
    assert "config:" not in text  # settings are declared, never valued
    assert project["default_environment"] == "prod"
    assert project["send_anonymous_usage_stats"] is False


def test_every_catalog_setting_is_declared_with_its_kind(
    catalog: Catalog, project: dict[str, Any]
) -> None:
    for connector in catalog:
        extractors = [connector.extractor]
        if connector.local_login:
            extractors.append(connector.local_login.extractor)
        for spec in extractors:
            declared = plugin(project, "extractors", spec.name)
            assert declared["pip_url"] == spec.pip_url
            assert declared["namespace"] == spec.namespace
            assert declared["executable"] == spec.executable
            kinds = declared_kinds(declared)
            for setting in connector.settings:
                assert kinds.get(setting.name) == setting.meltano_kind, (
                    f"{spec.name}.{setting.name}"
                )
                if setting.secret and setting.type == "string":
                    assert kinds[setting.name] == "password", f"{spec.name}.{setting.name}"
            if spec.start_date_setting:
                assert kinds[spec.start_date_setting] == "date_iso8601"


def test_salesforce_secrets_are_password_on_both_extractors(project: dict[str, Any]) -> None:
    for name in ("tap-salesforce", "tap-salesforce-sandbox"):
        kinds = declared_kinds(plugin(project, "extractors", name))
        assert kinds["client_secret"] == "password"
        assert kinds["refresh_token"] == "password"
        assert kinds["client_id"] == "string"
        assert kinds["is_sandbox"] == "boolean"
        assert kinds["start_date"] == "date_iso8601"
    assert declared_kinds(plugin(project, "extractors", "tap-postgres"))["password"] == "password"


def test_loaders_are_declared(project: dict[str, Any], catalog: Catalog) -> None:
    loaders = {p["name"] for p in project["plugins"]["loaders"]}
    assert loaders == {d.loader.name for d in catalog.destinations.values()}
    assert {"target-jsonl", "target-postgres", "target-csv", "target-s3"} <= loaders
    jsonl = declared_kinds(plugin(project, "loaders", "target-jsonl"))
    assert jsonl == {"destination_path": "string", "do_timestamp_file": "boolean"}
    postgres = plugin(project, "loaders", "target-postgres")
    assert "==" in postgres["pip_url"]
    kinds = declared_kinds(postgres)
    assert kinds["password"] == "password"
    assert kinds["port"] == "integer"
    assert {"host", "user", "database", "default_target_schema"} <= set(kinds)
    # Nested settings keep their dotted names: Meltano nests them for the plugin.
    s3 = declared_kinds(plugin(project, "loaders", "target-s3"))
    assert s3["cloud_provider.aws.aws_secret_access_key"] == "password"
    assert s3["cloud_provider.cloud_provider_type"] == "string"


def test_write_meltano_project(tmp_path: Path, catalog: Catalog) -> None:
    path = write_meltano_project(catalog, tmp_path)
    assert path == tmp_path / "meltano.yml"
    assert path.read_text(encoding="utf-8") == MELTANO_YML.read_text(encoding="utf-8")


def test_cli_check_passes_on_the_committed_file(clean_settings: None) -> None:
    before = MELTANO_YML.read_bytes()
    result = CliRunner().invoke(main, ["meltano-yml", "--check"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "matches the catalog" in result.stdout
    assert result.stderr == ""
    assert MELTANO_YML.read_bytes() == before


def test_cli_prints_the_rendering(clean_settings: None, catalog: Catalog) -> None:
    result = CliRunner().invoke(main, ["meltano-yml"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == render_meltano_project(catalog)


def test_cli_check_fails_when_the_catalog_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_settings: None
) -> None:
    changed = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, changed)
    path = changed / "salesforce.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("pip_url: tap-salesforce==2.8.1\n") == 1
    path.write_text(
        text.replace("pip_url: tap-salesforce==2.8.1\n", "pip_url: tap-salesforce==2.8.2\n"),
        encoding="utf-8",
    )
    monkeypatch.setenv("INTEGRATIONS_CATALOG_DIR", str(changed))
    get_settings.cache_clear()
    before = MELTANO_YML.read_bytes()

    result = CliRunner().invoke(main, ["meltano-yml", "--check"])

    assert result.exit_code == 1, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "out of date" in lines[0] and "meltano-yml --write" in lines[0]
    assert MELTANO_YML.read_bytes() == before  # --check never writes
    # ...and the rendering of the changed catalog is what differs.
    assert "tap-salesforce==2.8.2" in render_meltano_project(load_catalog(changed))


def test_cli_check_fails_when_meltano_yml_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_settings: None
) -> None:
    monkeypatch.setenv("INTEGRATIONS_MELTANO_PROJECT", str(tmp_path))
    get_settings.cache_clear()
    result = CliRunner().invoke(main, ["meltano-yml", "--check"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error:")
    assert not (tmp_path / "meltano.yml").exists()
