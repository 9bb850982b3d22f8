"""Every community destination of the catalog (imported from its plugin's own
description, not synced in these tests): its loader is installed in the Meltano project
and describes itself, its form asks for what the plugin requires with every credential
write-only, and its connection test, with valid-looking settings and a canary as every
secret, fails offline with reason ``network`` without showing the canary.

The settings are made up from the catalog file itself (see ``_dummy_config``), so a
destination imported later is covered without editing this file."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from integrations_platform.catalog import load_catalog
from integrations_platform.catalog.form_schema import connector_form_schema
from integrations_platform.catalog.models import DestinationConnectorSpec, SettingSpec
from integrations_platform.catalog.sensitive import looks_secret
from integrations_platform.settings import PROJECT_ROOT

COMMUNITY = [
    d
    for d in load_catalog(PROJECT_ROOT / "connector_catalog").destinations.values()
    if d.tier == "community"
]
# Never resolves (RFC 2606), wherever the tests run.
OFFLINE_HOST = "integrations-test.invalid"
_HOSTS = ("host", "hostname", "server", "server_hostname", "address")


def test_the_catalog_has_community_destinations() -> None:
    assert len(COMMUNITY) >= 5, [d.id for d in COMMUNITY]


def _dummy(setting: SettingSpec, canary: str) -> Any:
    if setting.secret:
        return canary
    if setting.default is not None:
        return setting.default
    if setting.choices:
        return setting.choices[0]
    if setting.type in ("integer", "number"):
        return int(setting.minimum or 1)
    if setting.type == "boolean":
        return False
    if setting.name in _HOSTS:
        return OFFLINE_HOST
    if setting.format == "uri":
        return f"https://{OFFLINE_HOST}"
    # e.g. a Snowflake account: acme-xy12345.snowflakecomputing.com does not resolve here.
    return f"integrations-test-{setting.name.replace('_', '-')}"


def _dummy_config(spec: DestinationConnectorSpec, canary: str) -> dict[str, Any]:
    """Every required setting, every secret (the canary) and every host setting."""
    return {
        s.name: _dummy(s, canary)
        for s in spec.settings
        if s.required or s.secret or s.name in _HOSTS
    }


@pytest.mark.usefixtures("meltano_plugins")
@pytest.mark.parametrize("spec", COMMUNITY, ids=[d.id for d in COMMUNITY])
def test_the_loader_is_installed_and_describes_itself(
    spec: DestinationConnectorSpec, meltano_plugins: Path
) -> None:
    executable = (
        meltano_plugins / ".meltano" / "loaders" / spec.loader.name / "venv" / "bin"
    ) / spec.loader.executable
    assert executable.is_file(), f"{spec.loader.name} is not installed"
    about = subprocess.run(
        [str(executable), "--about", "--format=json"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert about.returncode == 0, about.stderr[-2000:]
    properties = json.loads(about.stdout)["settings"]["properties"]
    # Each setting of the form, and each the platform sets, is one the plugin takes.
    options = spec.destination
    ours = {s.name for s in spec.settings} | set(options.per_integration) | set(options.fixed)
    assert {n.split(".")[0] for n in ours} <= set(properties), ours - set(properties)


@pytest.mark.parametrize("spec", COMMUNITY, ids=[d.id for d in COMMUNITY])
def test_the_form_asks_for_what_is_required_and_hides_every_credential(
    spec: DestinationConnectorSpec,
) -> None:
    schema = connector_form_schema(spec)
    required = {s.name for s in spec.settings if s.required and s.default is None}
    assert set(schema["required"]) == required
    assert required or any(s.required for s in spec.settings), "the form requires nothing"
    for setting in spec.settings:
        prop = schema["properties"][setting.name]
        credential = looks_secret(setting.name, setting.help)
        assert setting.secret or not credential, f"{setting.name} looks like a credential"
        assert bool(prop.get("writeOnly")) == setting.secret, setting.name
    assert spec.secret_names, "a community destination without any credential"
    # Settings the platform sets per integration are never asked for twice.
    for name in spec.destination.per_integration:
        assert (
            name not in schema["properties"]
            or "{value}" in (spec.destination.per_integration[name])
        )


@pytest.mark.parametrize("spec", COMMUNITY, ids=[d.id for d in COMMUNITY])
def test_the_connection_test_fails_offline_without_showing_a_secret(
    spec: DestinationConnectorSpec, platform, canary: str
) -> None:
    assert spec.destination.connection_test == "reachability"
    config = _dummy_config(spec, canary)
    result = platform.service.test_destination(connector_id=spec.id, config=config, timeout_s=10)
    shown = json.dumps(result.as_dict())
    assert not result.ok and result.reason == "network", shown
    assert canary not in shown
    assert result.details["check"] == "reachability" and result.hint, shown
