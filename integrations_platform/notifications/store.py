"""Persistence of notifications and of the webhook outbox (the config store's database)."""

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from integrations_platform.errors import PlatformError
from integrations_platform.notifications.models import (
    UNRESOLVED,
    Delivery,
    DeliveryRecord,
    Notification,
    NotificationRecord,
)
from integrations_platform.store.models import utcnow


class NotificationNotFoundError(PlatformError):
    """No notification has that id."""


@dataclass(frozen=True)
class Raised:
    """A problem to record: opens a notification, or updates the open one with its key."""

    integration: str
    kind: str
    category: str
    dedup_key: str
    title: str
    message: str
    action: str
    severity: str = "error"
    run_id: str | None = None
    run_url: str | None = None
    settings_url: str | None = None


@dataclass(frozen=True)
class Recorded:
    """What recording did: the notification now, and whether it was newly opened."""

    notification: Notification
    opened: bool
    duplicate: bool = False


class NotificationStore:
    """Reads and writes notifications and deliveries; one engine, thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._last_enqueued = datetime.min.replace(tzinfo=UTC)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # -- notifications ---------------------------------------------------------------

    def record(
        self, raised: Raised, *, now: datetime | None = None, count_repeat: bool = True
    ) -> Recorded:
        """Open a notification for ``raised``, or count one more occurrence of it.

        A run already counted (same ``run_id``) is not counted twice, so a sensor tick
        evaluated again after a crash changes nothing. With ``count_repeat`` False (a
        check that keeps finding the same problem) a repeat only refreshes it.
        """
        now = now or utcnow()
        for _attempt in range(3):
            try:
                with self._session() as session:
                    row = session.scalar(
                        select(NotificationRecord)
                        .where(NotificationRecord.dedup_key == raised.dedup_key)
                        .where(NotificationRecord.status.in_(UNRESOLVED))
                        .with_for_update()
                    )
                    if row is not None:
                        if raised.run_id is not None and row.run_id == raised.run_id:
                            return Recorded(Notification.from_record(row), False, True)
                        if count_repeat:
                            row.count += 1
                        row.last_seen_at = max(now, row.last_seen_at)
                        row.title, row.message, row.action = (
                            raised.title,
                            raised.message,
                            raised.action,
                        )
                        row.category, row.severity = raised.category, raised.severity
                        row.run_id = raised.run_id or row.run_id
                        row.run_url = raised.run_url or row.run_url
                        row.settings_url = raised.settings_url or row.settings_url
                        session.flush()
                        return Recorded(Notification.from_record(row), False)
                    row = NotificationRecord(
                        id=str(uuid.uuid4()),
                        integration=raised.integration,
                        kind=raised.kind,
                        category=raised.category,
                        severity=raised.severity,
                        status="open",
                        dedup_key=raised.dedup_key,
                        title=raised.title,
                        message=raised.message,
                        action=raised.action,
                        run_id=raised.run_id,
                        run_url=raised.run_url,
                        settings_url=raised.settings_url,
                        count=1,
                        first_seen_at=now,
                        last_seen_at=now,
                    )
                    session.add(row)
                    session.flush()
                    return Recorded(Notification.from_record(row), True)
            except IntegrityError:
                continue  # another process opened it first: update theirs
        raise PlatformError(
            f"Could not record notification '{raised.dedup_key}' (concurrent writers)",
            "It is recorded on the next event; if this repeats, check the config database.",
        )

    def resolve_where(
        self,
        integration: str,
        kinds: Sequence[str],
        *,
        by: str,
        keep_keys: Iterable[str] = (),
        seen_before: datetime | None = None,
        now: datetime | None = None,
    ) -> list[Notification]:
        """Resolve ``integration``'s unresolved notifications of ``kinds`` (but ``keep_keys``,
        and, with ``seen_before``, only those last seen at or before it)."""
        keep = set(keep_keys)
        with self._session() as session:
            rows = session.scalars(
                select(NotificationRecord)
                .where(NotificationRecord.integration == integration)
                .where(NotificationRecord.kind.in_(kinds))
                .where(NotificationRecord.status.in_(UNRESOLVED))
            ).all()
            resolved = []
            for row in rows:
                if row.dedup_key in keep:
                    continue
                if seen_before is not None and row.last_seen_at > seen_before:
                    continue  # a newer occurrence than the event that would resolve it
                row.status, row.resolved_at, row.resolved_by = "resolved", now or utcnow(), by
                resolved.append(Notification.from_record(row))
            return resolved

    def unresolved(self, kinds: Sequence[str] | None = None) -> list[Notification]:
        """Every unresolved notification (optionally of some kinds), in one query."""
        query = select(NotificationRecord).where(NotificationRecord.status.in_(UNRESOLVED))
        if kinds is not None:
            query = query.where(NotificationRecord.kind.in_(kinds))
        with self._session() as session:
            return [Notification.from_record(r) for r in session.scalars(query)]

    def open_for(self, dedup_key: str) -> Notification | None:
        """The unresolved notification with ``dedup_key``, if any."""
        with self._session() as session:
            row = session.scalar(
                select(NotificationRecord)
                .where(NotificationRecord.dedup_key == dedup_key)
                .where(NotificationRecord.status.in_(UNRESOLVED))
            )
            return Notification.from_record(row) if row else None

    def list_notifications(
        self,
        *,
        status: str | None = None,
        integration: str | None = None,
        limit: int = 100,
    ) -> list[Notification]:
        """Newest first; ``status`` is open, acknowledged, resolved or "unresolved"."""
        query = select(NotificationRecord)
        if status == "unresolved":
            query = query.where(NotificationRecord.status.in_(UNRESOLVED))
        elif status is not None:
            query = query.where(NotificationRecord.status == status)
        if integration is not None:
            query = query.where(NotificationRecord.integration == integration)
        query = query.order_by(NotificationRecord.last_seen_at.desc(), NotificationRecord.id).limit(
            limit
        )
        with self._session() as session:
            return [Notification.from_record(r) for r in session.scalars(query)]

    def unresolved_by_integration(self, names: Sequence[str]) -> dict[str, list[Notification]]:
        """Unresolved notifications of many integrations, in one query."""
        found: dict[str, list[Notification]] = {name: [] for name in names}
        if not names:
            return found
        with self._session() as session:
            rows = session.scalars(
                select(NotificationRecord)
                .where(NotificationRecord.status.in_(UNRESOLVED))
                .where(NotificationRecord.integration.in_(list(names)))
                .order_by(NotificationRecord.last_seen_at.desc())
            )
            for row in rows:
                found.setdefault(row.integration, []).append(Notification.from_record(row))
        return found

    def get(self, notification_id: str) -> Notification:
        """One notification by id."""
        with self._session() as session:
            row = session.get(NotificationRecord, notification_id)
            if row is None:
                raise _not_found(notification_id)
            return Notification.from_record(row)

    def acknowledge(self, notification_id: str, by: str) -> Notification:
        """Mark it seen; it stays unresolved (repeats still count) until resolved."""
        with self._session() as session:
            row = session.get(NotificationRecord, notification_id)
            if row is None:
                raise _not_found(notification_id)
            if row.status == "open":
                row.status, row.acknowledged_at, row.acknowledged_by = (
                    "acknowledged",
                    utcnow(),
                    by,
                )
            return Notification.from_record(row)

    def resolve(self, notification_id: str, by: str) -> tuple[Notification, bool]:
        """Resolve it by hand; returns it and whether it was unresolved before."""
        with self._session() as session:
            row = session.get(NotificationRecord, notification_id)
            if row is None:
                raise _not_found(notification_id)
            changed = row.status != "resolved"
            if changed:
                row.status, row.resolved_at, row.resolved_by = "resolved", utcnow(), by
            return Notification.from_record(row), changed

    # -- outbox ----------------------------------------------------------------------

    def enqueue(self, notification_id: str, event: str, urls: Sequence[str], payload: str) -> None:
        """Put one delivery per URL in the outbox (in the caller's order)."""
        if not urls:
            return
        with self._session() as session:
            for url in urls:
                # Strictly increasing creation times keep the outbox in event order.
                now = max(utcnow(), self._last_enqueued + timedelta(microseconds=1))
                self._last_enqueued = now
                session.add(
                    DeliveryRecord(
                        id=str(uuid.uuid4()),
                        notification_id=notification_id,
                        event=event,
                        url=url,
                        payload=payload,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )

    def due_deliveries(self, *, now: datetime | None = None, limit: int = 100) -> list[Delivery]:
        """Pending deliveries whose next attempt is due, oldest first."""
        with self._session() as session:
            rows = session.scalars(
                select(DeliveryRecord)
                .where(DeliveryRecord.status == "pending")
                .where(DeliveryRecord.next_attempt_at <= (now or utcnow()))
                .order_by(DeliveryRecord.created_at, DeliveryRecord.id)
                .limit(limit)
            )
            return [Delivery.from_record(r) for r in rows]

    def deliveries(self, status: str | None = None) -> list[Delivery]:
        """Every delivery (optionally of one status), oldest first."""
        query = select(DeliveryRecord).order_by(DeliveryRecord.created_at, DeliveryRecord.id)
        if status is not None:
            query = query.where(DeliveryRecord.status == status)
        with self._session() as session:
            return [Delivery.from_record(r) for r in session.scalars(query)]

    def mark_delivered(self, delivery_id: str) -> None:
        """The receiver accepted it."""
        now = utcnow()
        with self._session() as session:
            session.execute(
                update(DeliveryRecord)
                .where(DeliveryRecord.id == delivery_id)
                .values(
                    status="delivered",
                    delivered_at=now,
                    attempts=DeliveryRecord.attempts + 1,
                    last_error=None,
                )
            )

    def mark_failed(self, delivery_id: str, error: str, retry_in: timedelta | None) -> None:
        """An attempt failed: retry after ``retry_in``, or give up (``None``: kept, "failed")."""
        now = utcnow()
        values: dict[str, object] = {
            "attempts": DeliveryRecord.attempts + 1,
            "last_error": error[:1000],
        }
        if retry_in is None:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = now + retry_in
        with self._session() as session:
            session.execute(
                update(DeliveryRecord).where(DeliveryRecord.id == delivery_id).values(**values)
            )

    def retry_failed(self) -> int:
        """Put every given-up delivery back in the queue; returns how many."""
        with self._session() as session:
            result = session.execute(
                update(DeliveryRecord)
                .where(DeliveryRecord.status == "failed")
                .values(status="pending", attempts=0, next_attempt_at=utcnow())
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _not_found(notification_id: str) -> NotificationNotFoundError:
    return NotificationNotFoundError(
        f"No notification with id '{notification_id}'",
        "`integrations notifications list` shows the notifications and their ids.",
    )
