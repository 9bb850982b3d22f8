"""``integrations notifications``: list, show, ack, resolve, check, deliver."""

import json
from dataclasses import replace

from click.testing import CliRunner

from integrations_platform.cli import main
from integrations_platform.settings import get_settings
from integrations_platform.store import KeyRing, generate_key
from tests.notification_support import webhook_receiver
from tests.unit.notifications.conftest import make_service

AUTH_ERROR = "Errors:\n[tap-salesforce] CRITICAL invalid_grant: expired access/refresh token"
SF = {"client_id": "id-1", "client_secret": "secret-value-1", "refresh_token": "token-value-1"}


def _cli(*args: str, **env: str):
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, list(args), env=env or None)
    finally:
        get_settings.cache_clear()


def test_list_show_acknowledge_and_resolve(platform):
    notes = make_service(platform)
    notes.record_run_failure("crm", "run-1", AUTH_ERROR)
    notes.record_run_failure("crm", "run-2", AUTH_ERROR)
    [note] = notes.list_notifications()

    listed = _cli("notifications", "list")
    assert listed.exit_code == 0, listed.output
    assert note.id in listed.output and "authentication" in listed.output
    assert "2x" in listed.output and "what to do:" in listed.output
    shown = _cli("notifications", "show", note.id)
    assert "invalid_grant" in shown.output

    assert "acknowledged" in _cli("notifications", "ack", note.id).output
    as_json = json.loads(_cli("notifications", "list", "--json").output)
    assert [(n["id"], n["status"], n["count"]) for n in as_json] == [(note.id, "acknowledged", 2)]
    assert "resolved" in _cli("notifications", "resolve", note.id).output
    assert _cli("notifications", "list").output.strip() == "No notifications."
    resolved = json.loads(_cli("notifications", "list", "--status", "resolved", "--json").output)
    assert resolved[0]["resolved_by"] == "cli"

    missing = _cli("notifications", "resolve", "no-such-id")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: No notification with id 'no-such-id'")


def test_check_reports_a_config_that_cannot_be_decrypted(platform):
    platform.service.add("salesforce", "crm", SF, start_date="2024-01-01")
    ring = KeyRing.from_value(generate_key())
    platform.service.store.update("crm", lambda cur: replace(cur, sealed=ring.seal(cur.id, SF)))
    result = _cli("notifications", "check")
    assert result.exit_code == 1
    assert "crm: its config cannot be decrypted" in result.output
    assert "Re-enter the secrets" in result.output
    assert "secret-value-1" not in result.output
    [note] = make_service(platform).list_notifications(status="open")
    assert note.category == "undecryptable"


def test_deliver_sends_what_is_queued(platform, monkeypatch):
    with webhook_receiver() as hook:
        make_service(platform, webhook_urls=(hook.url,)).record_run_failure(
            "crm", "run-1", AUTH_ERROR
        )
        result = _cli("notifications", "deliver")
    assert result.exit_code == 0 and "1 delivered" in result.output
    assert hook.accepted[0].json["event"] == "opened"
