"""The community sources (``tier: community`` in connector_catalog/, imported with
`integrations catalog import` from their plugins' own description), every one of them:
the pinned plugin is installed in the Meltano project and still describes the settings
its catalog file holds; its form asks for every required setting and never shows a
secret; and, offline (this machine and CI reach no source), a connection test through
the service's stored config fails with the reason ``network``, naming no secret.

A new community file is covered without a change here, when dummy values of its
required settings (below) make it contact its source; otherwise give it an entry in
OVERRIDES.
"""

import json
import os
import re
import socket
import subprocess
from typing import Any

import pytest

from integrations_platform.catalog import ConnectorSpec, load_catalog
from integrations_platform.catalog.form_schema import connector_form_schema
from integrations_platform.catalog.importer import PLATFORM_SETTINGS, START_DATE
from integrations_platform.runner import connection_test as ct
from integrations_platform.settings import PROJECT_ROOT
from tests.integration.helpers import files_containing

pytestmark = pytest.mark.usefixtures("meltano_plugins")

CATALOG_DIR = PROJECT_ROOT / "connector_catalog"
MELTANO_PROJECT = PROJECT_ROOT / "meltano"
COMMUNITY = [c for c in load_catalog(CATALOG_DIR) if c.tier == "community"]
# The Singer SDK's taps retry an unreachable host for about half a minute: a test that
# runs out of time while retrying is classified by what it said (see connection_test).
TIMEOUT_S = 12.0
DUMMY: dict[str, Any] = {
    "string": "example",
    "integer": 1,
    "number": 1.5,
    "boolean": False,
    "datetime": "2020-01-01T00:00:00Z",
    "date": "2020-01-01",
    "array": ["example"],
    "object": {},
}


def _overrides(connector_id: str, canary: str) -> dict[str, Any]:
    """Values that a source needs besides its required settings to reach for its host:
    a credential the plugin does not mark required, a host, a shorter server wait."""
    overrides: dict[str, dict[str, Any]] = {
        "hubspot": {"access_token": canary},
        "github": {"auth_token": canary, "repositories": ["example/example"]},
        "mongodb": {
            "mongodb_connection_string": f"mongodb://reader:{canary}@db.example.invalid:27017/"
            "?serverSelectionTimeoutMS=3000"
        },
        "snowflake": {"account": "example-invalid", "password": canary},
    }
    return overrides.get(connector_id, {})


def offline_config(connector: ConnectorSpec, canary: str) -> dict[str, Any]:
    """Dummy but valid values of the required settings (secrets: the canary)."""
    config: dict[str, Any] = {}
    for setting in connector.settings:
        if not setting.required or setting.default is not None:
            continue
        if setting.secret and setting.type == "string":
            config[setting.name] = canary
        elif setting.type == "string" and (
            setting.format == "uri" or re.search(r"(^|_)(url|uri|host|endpoint)$", setting.name)
        ):
            config[setting.name] = "https://source.example.invalid"
        else:
            config[setting.name] = DUMMY[setting.type]
    return config | _overrides(connector.id, canary)


@pytest.fixture(scope="module", autouse=True)
def offline() -> None:
    """The network test means something only where no source's name resolves: these
    machines (and CI) reach the package registries only. Elsewhere it fails, never skips."""
    try:
        socket.getaddrinfo("api.github.com", 443)
    except OSError:
        return
    pytest.fail(
        "this machine resolves public host names: run the offline connection tests on a "
        "machine that reaches only the package registries (as CI does)"
    )


def test_there_are_community_sources() -> None:
    assert len(COMMUNITY) >= 12, [c.id for c in COMMUNITY]


def _distribution(pip_url: str) -> tuple[str, str]:
    name, version = pip_url.split()[0].split("==")
    return re.sub(r"[-_.]+", "_", name).lower(), version


@pytest.mark.parametrize("connector", COMMUNITY, ids=lambda c: c.id)
def test_the_pinned_plugin_is_installed_and_describes_these_settings(
    connector: ConnectorSpec,
) -> None:
    venv = MELTANO_PROJECT / ".meltano" / "extractors" / connector.extractor.name / "venv"
    executable = venv / "bin" / connector.extractor.executable
    assert executable.is_file() and os.access(executable, os.X_OK), executable
    name, version = _distribution(connector.extractor.pip_url)
    installed = {
        p.name.lower().removesuffix(".dist-info")
        for p in venv.glob("lib/python*/site-packages/*.dist-info")
    }
    assert f"{name}-{version}" in installed, f"{connector.extractor.pip_url} is not installed"

    about = json.loads(
        subprocess.run(
            [str(executable), "--about", "--format=json"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=True,
        ).stdout
    )
    properties = about["settings"].get("properties") or {}
    plugin_required = set(about["settings"].get("required") or [])
    described = set(properties) - PLATFORM_SETTINGS - {START_DATE}
    assert {s.name for s in connector.settings} == described
    for setting in connector.settings:
        assert setting.required == (setting.name in plugin_required), setting.name
        if properties[setting.name].get("secret") or properties[setting.name].get("writeOnly"):
            assert setting.secret, f"{setting.name}: the plugin says it is secret"
    if START_DATE in properties:
        assert connector.extractor.start_date_setting == START_DATE


@pytest.mark.parametrize("connector", COMMUNITY, ids=lambda c: c.id)
def test_the_form_asks_for_every_required_setting_and_hides_secrets(
    connector: ConnectorSpec,
) -> None:
    form = connector_form_schema(connector)
    properties = form["properties"]
    assert list(properties) == [s.name for s in connector.ordered_settings]
    assert set(form["required"]) == {
        s.name for s in connector.settings if s.required and s.default is None
    }
    for setting in connector.settings:
        field = properties[setting.name]
        if setting.required and setting.default is None:
            assert field.get("description"), f"{setting.name}: a required field needs help"
        if setting.secret:
            assert field["writeOnly"] is True and field["x-secret"] is True, setting.name
            if setting.type == "string":
                assert field["format"] == "password", setting.name
        else:
            assert not field.get("writeOnly") and field.get("format") != "password"
    assert connector.secret_names, "a source without a credential is not a community API"
    # The hand-written parts of the file.
    assert connector.category != "Other" and connector.description
    assert (CATALOG_DIR / connector.logo).is_file()
    assert connector.docs_url.startswith("https://pypi.org/project/")


@pytest.mark.parametrize("connector", COMMUNITY, ids=lambda c: c.id)
def test_offline_the_connection_test_fails_for_the_network_and_names_no_secret(
    platform: Any, connector: ConnectorSpec, canary: str
) -> None:
    config = offline_config(connector, canary)
    # Any name the source's discovery could list: checking it needs no discovery.
    platform.service.add(connector.id, "offline", config, streams=["example"])
    stored_connector, stored = platform.service.config_to_test("offline")
    secrets = stored_connector.secret_values(stored)
    assert any(canary in value for value in secrets), "no secret holds the canary"

    result = ct.test_connection(
        stored_connector, stored, platform.settings, dict(os.environ), timeout_s=TIMEOUT_S
    )

    said = json.dumps(result.as_dict())
    print(f"\n{connector.id}: {result.duration_s:.1f} s {result.reason}: {result.message}")
    assert not result.ok
    assert result.reason == "network", said
    assert not result.message.startswith("{"), "a raw log record is no message"
    assert result.hint.startswith("Check the host and port")
    assert canary not in said
    runs = platform.settings.home / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []
    assert files_containing(platform.home, canary) == []
