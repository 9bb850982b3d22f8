"""Schema changes with real taps: the Salesforce sandbox changed while it serves, and
PostgreSQL tables altered between syncs; the policy, the checks and the notifications."""

import hashlib
import os
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from integrations_platform.cli import main
from integrations_platform.errors import ConfigurationError
from integrations_platform.integration import StreamSelection
from integrations_platform.notifications.service import NotificationService
from integrations_platform.notifications.settings import NotificationSettings
from integrations_platform.sandbox.data import FieldSpec
from integrations_platform.store.schema import hash_salt
from tests.conftest import START, salesforce_config
from tests.integration.helpers import files_containing, jsonl_rows, materialize, source_config

pytestmark = pytest.mark.usefixtures("meltano_plugins")

RATING = FieldSpec("Rating__c", "string", "Rating", custom=True)


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=dict(os.environ))
    return result.exit_code, result.output


def _checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """Each check evaluation of the run by (stream, check name)."""
    return {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}


def _materialization(result: dg.ExecuteInProcessResult, stream: str) -> dg.AssetMaterialization:
    [found] = [
        e.step_materialization_data.materialization
        for e in result.get_asset_materialization_events()
        if e.step_materialization_data.materialization.asset_key.path[-1] == stream
        and "rows" in e.step_materialization_data.materialization.metadata
    ]
    return found


def _notifications(platform, integration: str) -> list:  # noqa: ANN001
    service = NotificationService.open(platform.settings.database_url, NotificationSettings())
    return service.list_notifications(integration=integration, status="open")


def test_salesforce_new_field_is_synced_under_allow_columns_and_announced(
    platform, sandbox, dagster_home
):
    platform.service.add(
        "salesforce", "crm", salesforce_config(sandbox), streams=["Account"], start_date=START
    )
    platform.service.discover("crm")
    with platform.dagster_instance(dagster_home) as instance:
        first = materialize(platform, "crm", instance)
        assert first.success
        checks = _checks(first)
        assert checks[("Account", "schema")].passed
        assert checks[("Account", "freshness")].passed
        assert checks[("Account", "volume")].passed

        sandbox.add_field("Account", RATING)
        [added] = sandbox.add_records("Account", 1)
        second = materialize(platform, "crm", instance)
        assert second.success
        # In the output, in Dagster's column schema, as a WARN check, in a notification.
        [row] = [r for r in jsonl_rows(platform, "crm", "Account") if r["Id"] == added["Id"]]
        assert row["Rating__c"] == added["Rating__c"] is not None
        schema = _materialization(second, "Account").metadata["dagster/column_schema"].value
        assert "Rating__c" in [c.name for c in schema.columns]
        check = _checks(second)[("Account", "schema")]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
        assert "Rating__c: column added" in (check.description or "")
        [note] = _notifications(platform, "crm")
        assert note.title.startswith("1 new column(s) in Account of 'crm': Rating__c")
        assert note.settings_url.endswith("#/integrations/crm?step=streams&stream=Account")
        # The record and the history say when.
        assert "Rating__c" in dict(platform.service.get("crm").streams[0].columns)
        code, output = _cli("schema", "crm", "--changes")
        assert code == 0, output
        assert "Account.Rating__c: column added (string) [applied]" in output

        # A removed field: ERROR check, a warning notification, the other fields synced.
        sandbox.remove_field("Account", "Rating__c")
        sandbox.add_records("Account", 2)
        third = materialize(platform, "crm", instance)
        assert third.success
        check = _checks(third)[("Account", "schema")]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
        assert "Rating__c: column removed" in (check.description or "")
        removed = [n for n in _notifications(platform, "crm") if n.category == "column_removed"]
        assert removed and removed[0].severity == "warning"
        assert "Rating__c" not in jsonl_rows(platform, "crm", "Account")[-1]
        # Nothing changed since: the next sync's schema check passes, with no discovery.
        describes = len(sandbox.queries)
        fourth = materialize(platform, "crm", instance)
        assert _checks(fourth)[("Account", "schema")].passed
        assert len(sandbox.queries) - describes <= 2  # the sync's own query, no discovery


def test_salesforce_block_all_holds_a_new_field_back_until_approved(
    platform, sandbox, dagster_home
):
    platform.service.add(
        "salesforce",
        "crm",
        salesforce_config(sandbox),
        streams=["Account"],
        start_date=START,
        schema_policy="block_all",
    )
    platform.service.discover("crm")
    with platform.dagster_instance(dagster_home) as instance:
        assert materialize(platform, "crm", instance).success
        sandbox.add_field("Account", RATING)
        sandbox.add_records("Account", 1)
        blocked = materialize(platform, "crm", instance)
        assert blocked.success
        assert all("Rating__c" not in r for r in jsonl_rows(platform, "crm", "Account"))
        [pending] = platform.service.schema("crm")["pending"]
        assert (pending["stream"], pending["column"], pending["status"]) == (
            "Account",
            "Rating__c",
            "pending",
        )
        [note] = _notifications(platform, "crm")
        assert "left out of Account until someone approves them" in note.message

        # Approving a change that does not exist is refused and changes nothing.
        before = platform.service.get("crm")
        with pytest.raises(ConfigurationError, match="No change of Account.Name"):
            platform.service.approve("crm", "Account", "Name")
        code, output = _cli("schema", "approve", "crm", "--stream", "Contact")
        assert code == 1 and "Waiting: Account.Rating__c" in output
        assert platform.service.get("crm") == before

        code, output = _cli("schema", "approve", "crm", "--stream", "Account")
        assert code == 0, output
        assert "Approved: Account.Rating__c: column added" in output
        assert _notifications(platform, "crm") == []
        [added] = sandbox.add_records("Account", 1)
        assert materialize(platform, "crm", instance).success
        [row] = [r for r in jsonl_rows(platform, "crm", "Account") if r["Id"] == added["Id"]]
        assert row["Rating__c"] == added["Rating__c"] is not None


def test_postgres_add_drop_and_retype_columns(platform, source_url, dagster_home):
    platform.service.add(
        "postgres",
        "shop",
        source_config(source_url),
        streams=[StreamSelection("public-orders", "updated_at")],
        start_date=START,
    )
    engine = sa.create_engine(source_url)
    try:
        with platform.dagster_instance(dagster_home) as instance:
            assert materialize(platform, "shop", instance).success
            # The first sync discovered the source once and stored it for later syncs.
            assert platform.service.discovery("shop").stream("public-orders") is not None
            with engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE public.orders ADD COLUMN channel text"))
                conn.execute(
                    sa.text("INSERT INTO public.orders VALUES (1001, now(), 9.5, 'new', 'web')")
                )
            added = materialize(platform, "shop", instance)
            check = _checks(added)[("public_orders", "schema")]
            assert check.severity == dg.AssetCheckSeverity.WARN and not check.passed
            # Computed from the stored catalog and the one the probe's difference asked for.
            assert check.description == "public-orders.channel: column added (string)"
            assert jsonl_rows(platform, "shop", "public-orders")[-1]["channel"] == "web"

            with engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE public.orders DROP COLUMN note"))
                conn.execute(sa.text("ALTER TABLE public.orders ALTER COLUMN amount TYPE text"))
                conn.execute(
                    sa.text("INSERT INTO public.orders VALUES (1002, now(), 'ten', 'app')")
                )
            changed = materialize(platform, "shop", instance)
            assert changed.success
            check = _checks(changed)[("public_orders", "schema")]
            assert check.severity == dg.AssetCheckSeverity.ERROR and not check.passed
            assert "note: column removed" in (check.description or "")
            assert "amount: type changed from number to string" in (check.description or "")
            last = jsonl_rows(platform, "shop", "public-orders")[-1]
            assert last["amount"] == "ten" and "note" not in last
            kinds = {c.kind for c in platform.service.schema_changes("shop")}
            assert kinds == {"column_added", "column_removed", "type_changed"}
            notes = {n.category: n for n in _notifications(platform, "shop")}
            assert set(notes) == kinds
            assert notes["column_added"].severity == "info"
            assert notes["column_removed"].severity == notes["type_changed"].severity == "warning"
            assert "amount: number → string" in notes["type_changed"].title
    finally:
        engine.dispose()


def test_a_hashed_email_reaches_the_destination_only_as_its_salted_digest(
    platform, postgres_database, dagster_home
):
    canary = "canary.person+schema@example.org"
    engine = sa.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE public.people (id int PRIMARY KEY, updated_at timestamptz, "
                "email text, city text)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO public.people VALUES (1, now(), :e, 'Lyon'), (2, now(), NULL, 'Graz')"
            ),
            {"e": canary},
        )
    engine.dispose()
    streams = [StreamSelection("public-people", "updated_at", hashed_columns=("email",))]
    # The replication key cannot be hashed; nothing is stored then.
    with pytest.raises(ConfigurationError) as refused:
        platform.service.add(
            "postgres",
            "hr",
            source_config(postgres_database),
            streams=[
                StreamSelection("public-people", "updated_at", hashed_columns=("updated_at",))
            ],
        )
    assert "updated_at cannot be hashed" in str(refused.value.field_errors)
    assert platform.service.store.list_all() == []

    platform.service.add("postgres", "hr", source_config(postgres_database), streams=streams)
    with platform.dagster_instance(dagster_home) as instance:
        result = materialize(platform, "hr", instance)
        assert result.success
        integration = platform.service.get("hr")
        salt = hash_salt(
            platform.service.store, platform.service.keyring, integration.id, "hr", create=False
        )
        rows = {r["id"]: r for r in jsonl_rows(platform, "hr", "public-people")}
        assert rows[1]["email"] == hashlib.sha256((salt + canary).encode()).hexdigest()
        assert rows[2]["email"] is None and rows[1]["city"] == "Lyon"
        # The raw address is nowhere: destination, logs, event log, files.
        logs = "".join(
            str(e.message) + str(e.dagster_event) for e in instance.all_logs(result.run_id)
        )
        assert canary not in logs
        assert salt not in logs
        assert files_containing(platform.home, canary) == []
        assert files_containing(dagster_home, canary) == []
        assert files_containing(platform.home, salt) == []


def test_volume_and_freshness_checks_on_a_real_instance(
    platform, source_url, dagster_home, monkeypatch
):
    from integrations_platform.orchestration.sensors import reset_notification_runtime, run_checks

    platform.service.add(
        "postgres",
        "shop",
        source_config(source_url),
        streams=[StreamSelection("public-orders", "updated_at")],
        start_date=START,
        schedule="*/5 * * * *",
    )
    engine = sa.create_engine(source_url)
    key = dg.AssetKey(["shop", "public_orders"])
    try:
        with platform.dagster_instance(dagster_home) as instance:
            for batch in range(3):
                with engine.begin() as conn:
                    conn.execute(
                        sa.text(
                            "INSERT INTO public.orders SELECT g, now() + g * interval '1 ms', "
                            "1, 'x' FROM generate_series(:a, :b) g"
                        ),
                        {"a": 5000 + batch * 100, "b": 5000 + batch * 100 + 99},
                    )
                result = materialize(platform, "shop", instance, full_refresh=batch == 0)
                assert _checks(result)[("public_orders", "volume")].passed
            # Nothing new: a sync of (nearly) zero rows after syncs of hundreds.
            quiet = materialize(platform, "shop", instance)
            volume = _checks(quiet)[("public_orders", "volume")]
            assert not volume.passed and volume.severity == dg.AssetCheckSeverity.WARN
            assert "below the band" in (volume.description or "")

            # Between syncs: overdue after 3 x 5 minutes, by the notification sensor's rule.
            monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
            reset_notification_runtime()
            later = datetime.now(UTC).replace(microsecond=0)
            from datetime import timedelta

            run_checks(instance, {"shop": {"public-orders": key}}, now=later + timedelta(hours=1))
            latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
                [dg.AssetCheckKey(key, "freshness")]
            )[dg.AssetCheckKey(key, "freshness")]
            evaluation = latest.event.dagster_event.event_specific_data
            assert evaluation.passed is False
            assert "Overdue" in (evaluation.description or "")
            # A sync makes it fresh again.
            fresh = materialize(platform, "shop", instance)
            assert _checks(fresh)[("public_orders", "freshness")].passed
            reset_notification_runtime()
    finally:
        engine.dispose()
