"""Webhook sink: one Slack-compatible JSON shape for every event, signed with HMAC-SHA256.

Deliveries go through the outbox table: a delivery is written first, then sent; a
failed one stays ``pending`` with an exponential backoff and is retried by the next
sensor tick (or ``integrations notifications deliver``), so nothing is lost while a
receiver is down. Every request has a timeout and every flush a time budget, so a slow
receiver never stalls a sensor.

Signature: ``X-Integrations-Signature: sha256=<hex>``, the HMAC-SHA256 of
``"<X-Integrations-Timestamp>." + body`` with ``INTEGRATIONS_WEBHOOK_SECRET`` as key
(like Stripe's and Slack's own request signing). Receivers recompute it over the raw
body and reject old timestamps (:func:`verify_signature` does both).
"""

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from integrations_platform.notifications.models import Notification
from integrations_platform.notifications.settings import NotificationSettings
from integrations_platform.notifications.store import NotificationStore

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Integrations-Signature"
TIMESTAMP_HEADER = "X-Integrations-Timestamp"
EVENT_HEADER = "X-Integrations-Event"
DELIVERY_HEADER = "X-Integrations-Delivery"

# Quick retries inside one flush (a receiver that hiccups), then the outbox's backoff.
IMMEDIATE_RETRY_DELAYS_S = (0.5, 1.0)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
_EMOJI = {"opened": ":red_circle:", "resolved": ":large_green_circle:"}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_payload(event: str, notification: Notification) -> dict[str, Any]:
    """The JSON body for ``event`` (opened, resolved) of ``notification``.

    Slack renders ``text`` and ``blocks``; other receivers read ``event`` and
    ``notification`` (every field of the notification, the same for every event).
    """
    n = notification
    verb = "Resolved" if event == "resolved" else "Notification"
    fallback = f"{_EMOJI.get(event, '')} {verb} — {n.title}".strip()
    facts = [
        f"*Integration:* `{n.integration}`",
        f"*Category:* {n.category.replace('_', ' ')}",
        f"*Status:* {n.status}",
        f"*Occurrences:* {n.count} (first {n.first_seen_at:%Y-%m-%d %H:%M} UTC, "
        f"last {n.last_seen_at:%Y-%m-%d %H:%M} UTC)",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(n.title, 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(facts)}},
    ]
    if n.message:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(f"```{n.message}```", 3000)},
            }
        )
    if n.action and event != "resolved":
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(f"*What to do:* {n.action}", 3000)},
            }
        )
    buttons = [
        {"type": "button", "text": {"type": "plain_text", "text": label}, "url": url}
        for label, url in (("Open the run", n.run_url), ("Integration settings", n.settings_url))
        if url
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {
        "text": fallback,
        "blocks": blocks,
        "event": event,
        "notification": n.as_dict(),
    }


def encode_payload(payload: Mapping[str, Any]) -> str:
    """The exact body sent (and signed)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of ``timestamp + "." + body`` keyed with ``secret``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """Whether a received webhook is ours and recent (for receivers and tests).

    >>> body = b'{"event":"opened"}'
    >>> headers = {TIMESTAMP_HEADER: "1700000000", SIGNATURE_HEADER: sign("k", "1700000000", body)}
    >>> verify_signature("k", headers, body, now=1700000010)
    True
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    if age > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True)
class FlushResult:
    """What one flush of the outbox did."""

    delivered: int = 0
    failed: int = 0
    left: int = 0


def backoff(attempts: int, base: timedelta = BACKOFF_BASE) -> timedelta:
    """How long to wait after ``attempts`` failed attempts: 30 s, 1 min, 2 min, … 1 h."""
    wait: timedelta = base * (2 ** max(attempts - 1, 0))
    return min(wait, BACKOFF_MAX)


class WebhookSender:
    """Sends the outbox's due deliveries."""

    def __init__(
        self,
        settings: NotificationSettings,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: timedelta = BACKOFF_BASE,
    ) -> None:
        self.settings = settings
        self._client = client
        self._sleep = sleep
        self.backoff_base = backoff_base

    def _post(self, url: str, body: bytes, event: str, delivery_id: str) -> str | None:
        """One attempt; None when accepted, else why not."""
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "integrations-platform-notifications/1",
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery_id,
            TIMESTAMP_HEADER: timestamp,
        }
        if self.settings.webhook_secret:
            headers[SIGNATURE_HEADER] = sign(self.settings.webhook_secret, timestamp, body)
        try:
            if self._client is not None:
                reply = self._client.post(
                    url, content=body, headers=headers, timeout=self.settings.webhook_timeout_s
                )
            else:
                reply = httpx.post(
                    url, content=body, headers=headers, timeout=self.settings.webhook_timeout_s
                )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= reply.status_code < 300:
            return None
        return f"HTTP {reply.status_code}: {reply.text[:200]}"

    def flush(self, store: NotificationStore, *, budget_s: float = 15.0) -> FlushResult:
        """Send what is due, within ``budget_s``; failures stay in the outbox."""
        deadline = time.monotonic() + budget_s
        delivered = failed = 0
        broken_urls: set[str] = set()  # a receiver that failed is not retried this flush
        due = store.due_deliveries()
        for index, delivery in enumerate(due):
            if time.monotonic() >= deadline:
                return FlushResult(delivered, failed, len(due) - index)
            if delivery.url in broken_urls:
                continue
            body = delivery.payload.encode()
            error = self._post(delivery.url, body, delivery.event, delivery.id)
            for delay in IMMEDIATE_RETRY_DELAYS_S:
                if error is None or time.monotonic() + delay >= deadline:
                    break
                self._sleep(delay)
                error = self._post(delivery.url, body, delivery.event, delivery.id)
            if error is None:
                store.mark_delivered(delivery.id)
                delivered += 1
                continue
            failed += 1
            broken_urls.add(delivery.url)
            attempts = delivery.attempts + 1
            give_up = attempts >= self.settings.webhook_max_attempts
            logger.warning(
                "Webhook delivery %s to %s failed (attempt %d)%s: %s",
                delivery.id,
                delivery.url,
                attempts,
                "; giving up (kept as failed)" if give_up else "",
                error,
            )
            store.mark_failed(
                delivery.id, error, None if give_up else backoff(attempts, self.backoff_base)
            )
        left = len([d for d in due if d.url in broken_urls]) - failed
        return FlushResult(delivered, failed, max(left, 0))
