"""Secrets never leave a sync; failures say what went wrong, redacted."""

import os

import dagster as dg
import pytest
import sqlalchemy as sa

from integrations_platform.keys import state_id
from integrations_platform.runner.redaction import MASK
from integrations_platform.runner.state import get_state
from integrations_platform.settings import PROJECT_ROOT
from tests.conftest import START, salesforce_config
from tests.integration.helpers import (
    files_containing,
    materialize,
    postgres_tables_containing,
    rows_by_asset,
)
from tests.integration.test_awkward_secrets import spellings

pytestmark = pytest.mark.usefixtures("meltano_plugins")


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures, "the run should have failed"
    error = failures[0].step_failure_data.error
    assert error is not None
    return error.to_string()


def test_wrong_refresh_token_fails_with_a_clear_redacted_message(
    platform, sandbox, canary, dagster_home
):
    wrong = f"{canary}-wrong"
    platform.service.add(
        "salesforce",
        "crm",
        salesforce_config(sandbox, refresh_token=wrong),
        start_date=START,
    )
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        result = materialize(platform, "crm", instance, raise_on_error=False)
        assert not result.success
        text = _failure_text(result)
        logs = "\n".join(e.message for e in instance.all_logs(result.run_id) if e.message)
    assert "invalid_grant" in text
    assert "expired access/refresh token" in text
    assert wrong not in text and canary not in text
    assert MASK in logs  # the tap's own log of its token request, redacted
    assert canary not in logs


@pytest.mark.parametrize("platform", ["sqlite", "postgres"], indirect=True)
def test_canary_secret_appears_nowhere_after_good_and_failed_runs(
    platform, sandbox, canary, dagster_home
):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    with platform.dagster_instance(dagster_home) as instance:
        good = materialize(platform, "crm", instance)
        assert good.success and sum(rows_by_asset(good).values()) > 0
        sandbox.fail_requests_with("REQUEST_LIMIT_EXCEEDED")
        bad = materialize(platform, "crm", instance, raise_on_error=False)
        assert not bad.success
        # The tap reports a quota refusal during discovery as a bare 403.
        assert "403 Client Error: Forbidden" in _failure_text(bad)
        run_ids = [good.run_id, bad.run_id]
        records = [e for run_id in run_ids for e in instance.all_logs(run_id)]
        serialized = "\n".join(dg.serialize_value(r) for r in records)
        run_configs = [dg.serialize_value(instance.get_run_by_id(r).run_config) for r in run_ids]

    assert len(records) > 20
    assert canary not in serialized
    assert all(canary not in c for c in run_configs)
    # Files: Dagster's home (event log, compute logs), the platform's home (config
    # database, outputs, run scratch), the Meltano project (system dirs, state).
    for name, form in spellings(canary).items():
        assert form not in serialized, name
        assert all(form not in c for c in run_configs), name
        for root in (dagster_home, platform.home, PROJECT_ROOT / "meltano"):
            assert files_containing(root, form) == [], (name, root)
    # The config database holds the secret only encrypted.
    engine = sa.create_engine(platform.settings.database_url)
    with engine.connect() as conn:
        blob = conn.execute(sa.text("SELECT config_ciphertext FROM integrations")).scalar_one()
    engine.dispose()
    assert canary.encode() not in blob
    # In production mode: no table of the three stores' database holds it in clear.
    if platform.settings.dagster_database_url:
        assert postgres_tables_containing(platform.settings.database_url, canary) == []
    # No per-run Meltano directory (with its resolved config file) is left behind.
    assert list((platform.home / "runs").iterdir()) == []


def test_a_repaired_integration_keeps_its_id_and_bookmarks(platform, sandbox, dagster_home):
    platform.service.add("salesforce", "crm", salesforce_config(sandbox), start_date=START)
    with platform.dagster_instance(dagster_home) as instance:
        assert rows_by_asset(materialize(platform, "crm", instance))["Account"] == 30
        before = platform.service.get("crm")
        bookmarks = get_state(platform.settings, os.environ, state_id("crm", before.id))
        assert bookmarks.get("bookmarks")
        with platform.service.store.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE integrations SET config_ciphertext = :c WHERE name = 'crm'"),
                {"c": b"tampered"},
            )
        failed = materialize(platform, "crm", instance, raise_on_error=False)
        assert not failed.success

        platform.service.update("crm", salesforce_config(sandbox))

        after = platform.service.get("crm")
        assert after.id == before.id
        assert get_state(platform.settings, os.environ, state_id("crm", after.id)) == bookmarks
        again = materialize(platform, "crm", instance)
    # Incremental from the kept bookmark: only the record at the bookmark is read again.
    assert rows_by_asset(again) == {"Account": 1, "Contact": 1, "Opportunity": 1}
