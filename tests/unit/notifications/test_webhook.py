"""Webhook delivery to a real local HTTP server: shape, signature, retries, outages."""

import json
import socket
import time
from datetime import timedelta

from integrations_platform.notifications.sinks.webhook import (
    SIGNATURE_HEADER,
    WebhookSender,
    backoff,
    verify_signature,
)
from tests.notification_support import WEBHOOK_SECRET, webhook_receiver
from tests.unit.notifications.conftest import make_service

AUTH_ERROR = "Errors:\n[tap-salesforce] CRITICAL invalid_grant: expired access/refresh token"


def _service(platform, url: str, **overrides):
    notes = make_service(platform, webhook_urls=(url,), webhook_secret=WEBHOOK_SECRET, **overrides)
    notes.sender = WebhookSender(notes.settings, sleep=lambda s: None, backoff_base=timedelta(0))
    return notes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_payload_is_slack_compatible_one_shape_and_signed(platform):
    with webhook_receiver() as hook:
        notes = _service(platform, hook.url)
        notes.record_run_failure("crm", "run-1", AUTH_ERROR)
        notes.record_run_success("crm", "run-2")
        assert notes.deliver().delivered == 2
    opened, resolved = (r.json for r in hook.accepted)
    for item in hook.accepted:
        assert verify_signature(WEBHOOK_SECRET, item.headers, item.body)
        assert not verify_signature("another-secret", item.headers, item.body)
        assert not verify_signature(WEBHOOK_SECRET, item.headers, item.body + b" ")
        assert item.headers["X-Integrations-Event"] in ("opened", "resolved")
    assert set(opened) == set(resolved) == {"text", "blocks", "event", "notification"}
    assert (opened["event"], resolved["event"]) == ("opened", "resolved")
    assert opened["notification"]["integration"] == "crm"
    assert opened["notification"]["category"] == "authentication"
    assert resolved["notification"]["status"] == "resolved"
    assert "failed" in opened["text"] and opened["blocks"][0]["type"] == "header"
    buttons = opened["blocks"][-1]["elements"]
    assert [b["url"] for b in buttons] == [
        opened["notification"]["run_url"],
        opened["notification"]["settings_url"],
    ]
    assert all(len(json.dumps(b)) < 3100 for b in opened["blocks"])


def test_a_500_is_retried_and_then_delivered(platform):
    with webhook_receiver(statuses=[500]) as hook:
        notes = _service(platform, hook.url)
        notes.record_run_failure("crm", "run-1", AUTH_ERROR)
        result = notes.deliver()
    assert (result.delivered, result.failed) == (1, 0)
    assert len(hook.received) == 2 and len(hook.accepted) == 1
    assert hook.received[0].body == hook.received[1].body
    [delivery] = notes.store.deliveries()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_nothing_is_lost_while_the_receiver_is_down(platform):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"
    notes = _service(platform, url)
    for name in ("a", "b", "c"):
        notes.record_run_failure(name, f"{name}-1", AUTH_ERROR)
        first = notes.deliver()
        assert first.delivered == 0
    pending = notes.store.deliveries("pending")
    # The oldest is retried on every flush; the others wait behind it (order is kept).
    assert len(pending) == 3 and pending[0].attempts == 3 and pending[0].last_error
    with webhook_receiver(port=port) as hook:
        assert notes.deliver().delivered == 3
    order = [r.json["notification"]["integration"] for r in hook.accepted]
    assert order == ["a", "b", "c"]
    assert notes.store.deliveries("pending") == []


def test_a_slow_receiver_does_not_stall_the_flush(platform):
    with webhook_receiver(delay_s=3) as hook:
        notes = _service(platform, hook.url, webhook_timeout_s=0.3)
        notes.record_run_failure("crm", "run-1", AUTH_ERROR)
        notes.record_run_failure("other", "run-2", AUTH_ERROR)
        started = time.monotonic()
        result = notes.deliver(budget_s=5)
        elapsed = time.monotonic() - started
    assert elapsed < 2.5  # one receiver, timed out: not retried for the second delivery
    assert (result.delivered, result.failed) == (0, 1)
    assert len(notes.store.deliveries("pending")) == 2


def test_deliveries_are_given_up_after_max_attempts_and_kept_for_a_retry(platform):
    port = _free_port()
    notes = _service(platform, f"http://127.0.0.1:{port}/h", webhook_max_attempts=2)
    notes.sender = WebhookSender(notes.settings, sleep=lambda s: None, backoff_base=timedelta(0))
    notes.record_run_failure("crm", "run-1", AUTH_ERROR)
    notes.deliver()
    notes.deliver()
    [failed] = notes.store.deliveries("failed")
    assert failed.attempts == 2 and "ConnectError" in (failed.last_error or "")
    assert notes.store.retry_failed() == 1
    with webhook_receiver(port=port) as hook:
        assert notes.deliver().delivered == 1
    assert len(hook.accepted) == 1


def test_without_a_secret_no_signature_is_sent(platform):
    with webhook_receiver() as hook:
        notes = make_service(platform, webhook_urls=(hook.url,))
        notes.record_run_failure("crm", "run-1", AUTH_ERROR)
        notes.deliver()
    assert SIGNATURE_HEADER not in hook.accepted[0].headers


def test_backoff_grows_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(30) == timedelta(hours=1)
