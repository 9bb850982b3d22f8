"""Real tap-salesforce runs with awkward secrets: no spelling of them survives anywhere,
and a secret that looks like log structure cannot corrupt the row counts."""

import base64
import json
import re
import uuid
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import dagster as dg
import pytest
import sqlalchemy as sa

from integrations_platform.notifications import (
    NotificationService,
    NotificationSettings,
    NotificationStore,
)
from integrations_platform.orchestration.sensors import notification_redactor
from integrations_platform.runner.redaction import MASK
from integrations_platform.sandbox import SalesforceSandbox, SandboxCredentials
from integrations_platform.settings import PROJECT_ROOT
from tests.conftest import DATA_START, START, salesforce_config
from tests.integration.helpers import files_containing, materialize, rows_by_asset

pytestmark = pytest.mark.usefixtures("meltano_plugins")


def spellings(secret: str) -> dict[str, str]:
    """How a program may print ``secret`` (computed here, not by the redactor)."""
    data = secret.encode()
    forms = {
        "raw": secret,
        "url": quote(secret, safe=""),
        "url-lower": re.sub("%..", lambda m: m.group(0).lower(), quote(secret, safe="")),
        "form": quote_plus(secret),
        "json": json.dumps(secret)[1:-1],
        "json-unicode": json.dumps(secret, ensure_ascii=False)[1:-1],
        "repr": repr(secret)[1:-1],
        "ascii": ascii(secret)[1:-1],
        "bytes": repr(data)[2:-1],
        "base64": base64.b64encode(data).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(data).decode().rstrip("="),
        "hex": data.hex(),
    }
    # A spelling equal to the raw value adds nothing; keep the list honest.
    return {name: form for name, form in forms.items() if name == "raw" or form != secret}


@pytest.fixture
def awkward(monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceSandbox]:
    """The sandbox with secrets full of quotes, backslashes, newlines and non-ASCII."""
    unique = uuid.uuid4().hex[:12]
    credentials = SandboxCredentials(
        client_id="sandbox-client",
        client_secret=f"ab'c\"d\\e-{unique}",
        refresh_token=f"xü\nz-{unique}-é\"'\\n",
    )
    with SalesforceSandbox(credentials, start=DATA_START) as server:
        monkeypatch.setenv("INTEGRATIONS_SALESFORCE_LOGIN_URL", server.url)
        yield server


def test_awkward_secrets_appear_in_no_spelling_after_good_and_failed_runs(
    platform, awkward, dagster_home
):
    creds = awkward.credentials
    platform.service.add("salesforce", "crm", salesforce_config(awkward), start_date=START)
    # The same secret with one letter wrong: the tap logs its (failing) token request.
    wrong = creds.refresh_token + "-wrong"
    platform.service.add(
        "salesforce",
        "crm_wrong",
        salesforce_config(awkward, refresh_token=wrong),
        start_date=START,
    )
    with platform.dagster_instance(dagster_home) as instance:
        good = materialize(platform, "crm", instance)
        assert good.success and rows_by_asset(good) == {
            "Account": 30,
            "Contact": 30,
            "Opportunity": 30,
        }
        bad = materialize(platform, "crm_wrong", instance, raise_on_error=False)
        assert not bad.success
        failure = next(e for e in bad.all_events if e.is_step_failure)
        error_text = failure.step_failure_data.error.to_string()
        assert "invalid_grant" in error_text
        records = [e for run in (good.run_id, bad.run_id) for e in instance.all_logs(run)]
        logs = "\n".join(dg.serialize_value(r) for r in records)
        run_configs = "\n".join(
            dg.serialize_value(instance.get_run_by_id(r).run_config)
            for r in (good.run_id, bad.run_id)
        )
    # The tap's own log of its token request is there, masked.
    assert MASK in logs
    # A notification raised from the failure, as the failure sensor does.
    notifications = NotificationService(
        NotificationStore(platform.service.store.engine), NotificationSettings()
    )
    notifications.record_run_failure(
        "crm_wrong",
        bad.run_id,
        error_text,
        notification_redactor(platform.settings, platform.service.store.engine, "crm_wrong"),
    )
    engine = sa.create_engine(platform.settings.database_url)
    with engine.connect() as conn:
        stored_notifications = json.dumps(
            [list(map(str, r)) for r in conn.execute(sa.text("SELECT * FROM notifications"))]
        )
    engine.dispose()
    assert "crm_wrong" in stored_notifications

    for secret in (creds.client_secret, creds.refresh_token, wrong):
        for name, form in spellings(secret).items():
            where = f"{name} of {secret!r}"
            assert form not in error_text, where
            assert form not in logs, where
            assert form not in run_configs, where
            assert form not in stored_notifications, where
            for root in (dagster_home, platform.home, PROJECT_ROOT / "meltano"):
                assert files_containing(root, form) == [], (where, root)


def test_a_secret_spelled_like_the_metrics_keeps_the_row_counts(
    platform, monkeypatch, dagster_home
):
    """Counts are read from the output before it is masked: a client secret that is the
    very word of Singer's metric lines must not turn 30 rows into none."""
    credentials = SandboxCredentials(
        client_id="sandbox-client", client_secret="record_count", refresh_token="endpoint-token"
    )
    with SalesforceSandbox(credentials, start=DATA_START) as sandbox:
        monkeypatch.setenv("INTEGRATIONS_SALESFORCE_LOGIN_URL", sandbox.url)
        platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
        with platform.dagster_instance(dagster_home) as instance:
            result = materialize(platform, "crm", instance)
            logs = "\n".join(e.message for e in instance.all_logs(result.run_id) if e.message)
    assert rows_by_asset(result) == {"Account": 30, "Contact": 30, "Opportunity": 30}
    assert "record_count" not in logs
