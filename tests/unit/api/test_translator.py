"""A translator that prefixes every asset key: syncs, status and notifications follow it."""

from typing import Any

import dagster as dg
import pytest

from integrations_platform.orchestration.definitions import build_definitions
from integrations_platform.orchestration.resources import MeltanoResource
from integrations_platform.orchestration.sensors import (
    reset_notification_runtime,
)
from integrations_platform.orchestration.translator import (
    IntegrationsTranslator,
    IntegrationStreamProps,
    load_translator,
)
from tests.conftest import START, salesforce_config
from tests.notification_support import tick_run_status_sensors

BASE = "/api/v1/integrations"
NOTIFICATIONS = "/api/v1/notifications"
STREAMS = ("Account", "Contact")


class RawPrefix(IntegrationsTranslator):
    """The docstring's example: every key under ``raw``."""

    def get_asset_spec(self, props: IntegrationStreamProps) -> dg.AssetSpec:
        spec = super().get_asset_spec(props)
        return spec.replace_attributes(key=spec.key.with_prefix("raw"))


@pytest.fixture
def prefixed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before ``platform`` reads the settings."""
    monkeypatch.setenv("INTEGRATIONS_TRANSLATOR", f"{__name__}:RawPrefix")


def _definitions(platform: Any) -> dg.Definitions:
    integrations = [i.for_orchestration() for i in platform.service.store.list_all()]
    translator = load_translator(platform.settings.translator)
    return build_definitions(platform.catalog, integrations, translator)


def _sync(
    platform: Any, instance: dg.DagsterInstance, tags: dict[str, str] | None = None
) -> dg.ExecuteInProcessResult:
    """Materialize the assets by key; without ``tags`` as from the asset graph (no
    integration tag on the run), with them as the sync job, the API and the CLI do."""
    defs = _definitions(platform)
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    return dg.materialize(
        assets,
        selection=[key for a in assets for key in a.keys],
        instance=instance,
        resources={
            "meltano": MeltanoResource(encryption_keys=dg.EnvVar("INTEGRATIONS_ENCRYPTION_KEYS"))
        },
        raise_on_error=False,
        tags=tags,
    )


@pytest.mark.usefixtures("meltano_plugins")
def test_a_prefixing_translator_syncs_shows_status_and_raises_and_resolves_notifications(
    prefixed, platform, sandbox, dagster_home, dagster_instance, make_client, canary
):
    assert platform.settings.translator == f"{__name__}:RawPrefix"
    client = make_client(dagster_home=dagster_home)
    client.app.state.platform.status_reader().ttl_s = 0
    body = {
        "name": "crm",
        "connector": "salesforce",
        "config": salesforce_config(sandbox),
        "streams": [{"name": s} for s in STREAMS],
        "start_date": START,
    }
    assert client.post(BASE, json=body).status_code == 201
    integration = platform.service.get("crm")
    keys = {s: dg.AssetKey(["raw", "crm", s]) for s in STREAMS}
    assert platform.service.asset_keys(integration) == keys
    defs = _definitions(platform)
    assert set(defs.resolve_asset_graph().get_all_asset_keys()) == set(keys.values())
    reset_notification_runtime()
    cursors: dict[str, Any] = {}
    # The first tick only places the cursors.
    tick_run_status_sensors(dagster_instance, defs, cursors)

    # A failed sync (a revoked refresh token) opens a notification for 'crm'.
    patched = client.patch(f"{BASE}/crm", json={"config": {"refresh_token": f"{canary}-x"}})
    assert patched.status_code == 200, patched.text
    failed = _sync(platform, dagster_instance)
    assert not failed.success
    # Launched without tags (as `dagster asset materialize` launches): the step tagged it.
    assert failed.dagster_run.tags["integration"] == "crm"
    tick_run_status_sensors(dagster_instance, defs, cursors)
    [note] = client.get(NOTIFICATIONS, params={"integration": "crm"}).json()
    assert (note["status"], note["category"]) == ("open", "authentication")
    assert note["run_id"] == failed.run_id

    # The fix, then a good sync: materialized at the prefixed keys, shown in the status,
    # and the notification resolved.
    fixed = {"config": {"refresh_token": salesforce_config(sandbox)["refresh_token"]}}
    assert client.patch(f"{BASE}/crm", json=fixed).status_code == 200
    good = _sync(platform, dagster_instance, {"integration": "crm"})
    assert good.success
    materialized = {e.asset_key for e in good.get_asset_materialization_events()}
    assert materialized == set(keys.values())
    status = client.get(f"{BASE}/crm").json()["status"]
    assert status["row_counts"] == {s: len(sandbox.records(s)) for s in STREAMS}
    assert status["last_run"]["run_id"] == good.run_id
    tick_run_status_sensors(dagster_instance, defs, cursors)
    [note] = client.get(NOTIFICATIONS, params={"integration": "crm"}).json()
    assert note["status"] == "resolved"
    reset_notification_runtime()


def test_a_translator_that_cannot_be_loaded_says_how_to_fix_it():
    from integrations_platform.errors import PlatformError

    for reference, says in (
        ("no_such_module:Thing", "cannot be loaded"),
        (f"{__name__}:Nothing", "cannot be loaded"),
        (f"{__name__}:STREAMS", "is not an IntegrationsTranslator"),
    ):
        with pytest.raises(PlatformError) as info:
            load_translator(reference)
        assert says in str(info.value) and "INTEGRATIONS_TRANSLATOR" in str(info.value)
    assert type(load_translator(f"{__name__}:RawPrefix")) is RawPrefix
    assert type(load_translator(None)) is IntegrationsTranslator
