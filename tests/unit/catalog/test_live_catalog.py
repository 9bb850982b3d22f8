"""The catalog reloads when its files change: a file added while the API runs shows in the
marketplace without a restart; a broken one leaves the catalog as it was."""

import logging
import shutil
from pathlib import Path

import pytest

from integrations_platform.catalog import load_catalog
from integrations_platform.service import IntegrationService, integrations
from integrations_platform.settings import PROJECT_ROOT
from integrations_platform.store import ConfigStore, KeyRing, generate_key


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> IntegrationService:
    monkeypatch.setattr(integrations, "CATALOG_CHECK_S", 0.0)
    folder = tmp_path / "catalog"
    shutil.copytree(PROJECT_ROOT / "connector_catalog", folder)
    store = ConfigStore.open(f"sqlite:///{tmp_path / 'store.db'}")
    key = generate_key()
    return IntegrationService(load_catalog(folder), store, lambda: KeyRing.from_value(key))


def test_a_new_catalog_file_is_seen_without_a_restart(service: IntegrationService) -> None:
    folder = service.catalog.directory
    assert "warehouse" not in service.catalog
    text = (folder / "postgres.yaml").read_text().replace("id: postgres", "id: warehouse", 1)
    (folder / "warehouse.yaml").write_text(text.replace("label: PostgreSQL", "label: Warehouse"))
    assert service.catalog.get("warehouse").label == "Warehouse"
    assert [c.id for c in service.catalog.search("warehouse")] == ["warehouse"]
    (folder / "warehouse.yaml").unlink()
    assert "warehouse" not in service.catalog


def test_a_broken_file_leaves_the_catalog_as_it_was(
    service: IntegrationService, caplog: pytest.LogCaptureFixture
) -> None:
    before = sorted(c.id for c in service.catalog)
    (service.catalog.directory / "broken.yaml").write_text("id: broken\nlabel: [unclosed\n")
    with caplog.at_level(logging.WARNING):
        assert sorted(c.id for c in service.catalog) == before
    assert "broken.yaml" in caplog.text and "not valid YAML" in caplog.text
