"""One open notification per problem; repeats count; successes and checks resolve."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from integrations_platform.errors import ConfigurationError
from integrations_platform.notifications import NotificationNotFoundError, NotificationSettings
from integrations_platform.notifications.service import Misconfiguration, Staleness
from tests.unit.notifications.conftest import API_URL, DAGSTER_UI, make_service

AUTH_ERROR = "Errors:\n[tap-salesforce] CRITICAL invalid_grant: expired access/refresh token"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_repeated_failures_update_one_notification_with_links_and_an_action(notes):
    for i in range(3):
        notes.record_run_failure("crm", f"run-{i}", AUTH_ERROR, failed_at=T0 + timedelta(minutes=i))
    [n] = notes.list_notifications()
    assert (n.status, n.count, n.category, n.kind) == ("open", 3, "authentication", "run_failure")
    assert n.first_seen_at == T0 and n.last_seen_at == T0 + timedelta(minutes=2)
    assert n.run_id == "run-2" and n.run_url == f"{DAGSTER_UI}/runs/run-2"
    assert n.settings_url == f"{API_URL}/#/integrations/crm"
    assert n.title == "Sync of 'crm' failed: authentication"
    assert "invalid_grant" in n.message and "integrations test crm" in n.action


def test_the_same_run_is_counted_once(notes):
    notes.record_run_failure("crm", "run-1", AUTH_ERROR)
    recorded, _ = notes.record_run_failure("crm", "run-1", AUTH_ERROR)
    assert recorded.duplicate and recorded.notification.count == 1


def test_a_success_resolves_and_the_next_failure_opens_a_new_one(notes):
    notes.record_run_failure("crm", "run-1", AUTH_ERROR, failed_at=T0)
    notes.record_run_failure("other", "run-2", AUTH_ERROR, failed_at=T0)
    [resolved] = notes.record_run_success("crm", "run-3", T0 + timedelta(minutes=1))
    assert resolved.status == "resolved" and resolved.resolved_by == "run run-3 succeeded"
    notes.record_run_failure("crm", "run-4", AUTH_ERROR, failed_at=T0 + timedelta(minutes=2))
    crm = notes.list_notifications(integration="crm")
    assert [(n.status, n.run_id) for n in crm] == [("open", "run-4"), ("resolved", "run-1")]
    assert notes.list_notifications(status="open", integration="other")[0].count == 1


def test_an_older_success_seen_late_does_not_resolve_a_newer_failure(notes):
    notes.record_run_failure("crm", "run-2", AUTH_ERROR, failed_at=T0 + timedelta(minutes=5))
    assert notes.record_run_success("crm", "run-1", T0) == []
    assert notes.list_notifications(status="open")[0].run_id == "run-2"


def test_acknowledged_stays_unresolved_and_keeps_counting_until_resolved(notes):
    notes.record_run_failure("crm", "run-1", AUTH_ERROR)
    [n] = notes.list_notifications()
    acked = notes.acknowledge(n.id, "alice")
    assert (acked.status, acked.acknowledged_by) == ("acknowledged", "alice")
    notes.record_run_failure("crm", "run-2", AUTH_ERROR)
    assert notes.list_notifications(status="unresolved")[0].count == 2
    resolved = notes.resolve(n.id, "bob")
    assert (resolved.status, resolved.resolved_by) == ("resolved", "bob")
    assert notes.list_notifications(status="unresolved") == []
    with pytest.raises(NotificationNotFoundError) as error:
        notes.resolve("nope")
    assert "integrations notifications list" in error.value.instruction


def test_open_notifications_of_many_integrations_in_one_query(notes, platform):
    for name in ("a", "b"):
        notes.record_run_failure(name, f"{name}-1", AUTH_ERROR)
    statements: list[str] = []
    engine = platform.service.store.engine
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    found = notes.open_by_integration(["a", "b", "c"])
    assert len(statements) == 1
    assert {k: len(v) for k, v in found.items()} == {"a": 1, "b": 1, "c": 0}


def test_misconfigurations_open_once_and_resolve_when_fixed(notes):
    problem = Misconfiguration(
        "crm", "undecryptable", "cannot be decrypted", "Re-enter the secrets"
    )
    for _ in range(3):
        notes.sync_misconfigurations([problem], ["crm", "shop"])
    [n] = notes.list_notifications(status="open")
    assert (n.kind, n.category, n.count) == ("misconfiguration", "undecryptable", 1)
    notes.sync_misconfigurations([], ["crm", "shop"])
    assert notes.list_notifications(status="open") == []
    assert notes.list_notifications()[0].resolved_by == "check passed"


def test_stale_opens_and_a_success_or_a_fresh_check_resolves(notes):
    item = Staleness("crm", T0, timedelta(hours=1), timedelta(hours=3))
    notes.sync_stale([item], ["crm"])
    [n] = notes.list_notifications(status="open")
    assert n.kind == "stale" and "every 1 hour(s)" in n.message and "3 hour(s)" in n.message
    notes.record_run_success("crm", "run-9")
    assert notes.list_notifications(status="open") == []
    notes.sync_stale([item], ["crm"])
    notes.sync_stale([], ["crm"])
    assert notes.list_notifications(status="open") == []


def test_notifications_of_removed_integrations_are_resolved(notes):
    notes.record_run_failure("gone", "run-1", AUTH_ERROR)
    notes.record_run_failure("kept", "run-2", AUTH_ERROR)
    [resolved] = notes.resolve_removed(["kept"])
    assert resolved.integration == "gone" and resolved.resolved_by == "integration removed"


def test_opened_and_resolved_events_are_queued_for_each_webhook(platform):
    notes = make_service(platform, webhook_urls=("http://a.test/h", "http://b.test/h"))
    notes.record_run_failure("crm", "run-1", AUTH_ERROR)
    notes.record_run_failure("crm", "run-2", AUTH_ERROR)  # a repeat: no new event
    notes.record_run_success("crm", "run-3")
    queued = notes.store.deliveries()
    assert [(d.event, d.url) for d in queued] == [
        ("opened", "http://a.test/h"),
        ("opened", "http://b.test/h"),
        ("resolved", "http://a.test/h"),
        ("resolved", "http://b.test/h"),
    ]
    assert all(d.status == "pending" and d.attempts == 0 for d in queued)


def test_settings_come_from_the_environment_and_refuse_bad_values():
    settings = NotificationSettings.from_env(
        {
            "INTEGRATIONS_DAGSTER_URL": "http://d:3000/",
            "INTEGRATIONS_WEBHOOK_URLS": "http://a/h, https://b/h",
            "INTEGRATIONS_STALE_FACTOR": "2.5",
            "INTEGRATIONS_AUTO_PAUSE_AFTER": "5",
        }
    )
    assert settings.webhook_urls == ("http://a/h", "https://b/h")
    assert (settings.stale_factor, settings.auto_pause_after) == (2.5, 5)
    assert settings.run_url("r1") == "http://d:3000/runs/r1"
    assert NotificationSettings.from_env({}).auto_pause_after == 0  # off by default
    with pytest.raises(ConfigurationError) as error:
        NotificationSettings.from_env({"INTEGRATIONS_AUTO_PAUSE_AFTER": "many"})
    assert "INTEGRATIONS_AUTO_PAUSE_AFTER" in error.value.instruction
    with pytest.raises(ConfigurationError):
        NotificationSettings.from_env({"INTEGRATIONS_WEBHOOK_URLS": "ftp://x"})
