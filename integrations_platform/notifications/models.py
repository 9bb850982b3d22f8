"""Notifications and their webhook deliveries, in the config store's database.

Tables are created by the store's migration ``0002``; the models share the store's
declarative base so that one engine and one Alembic history serve both.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from integrations_platform.store.models import Base, UTCDateTime

Status = Literal["open", "acknowledged", "resolved"]
STATUSES: tuple[str, ...] = ("open", "acknowledged", "resolved")
UNRESOLVED: tuple[str, ...] = ("open", "acknowledged")

# What raised the notification.
KIND_RUN_FAILURE = "run_failure"
KIND_MISCONFIGURATION = "misconfiguration"
KIND_STALE = "stale"
KIND_AUTO_PAUSED = "auto_paused"
KIND_SCHEMA_CHANGE = "schema_change"
KINDS = (
    KIND_RUN_FAILURE,
    KIND_MISCONFIGURATION,
    KIND_STALE,
    KIND_AUTO_PAUSED,
    KIND_SCHEMA_CHANGE,
)

# Webhook events (one payload shape for all of them).
EVENT_OPENED = "opened"
EVENT_RESOLVED = "resolved"


class NotificationRecord(Base):
    """One notification; repeats of the same problem update it (``count``)."""

    __tablename__ = "notifications"
    # As migration 0002 creates them.
    __table_args__ = (
        Index("ix_notifications_integration_status", "integration", "status"),
        Index("ix_notifications_status", "status"),
        # At most one unresolved notification per key.
        Index(
            "ux_notifications_unresolved_key",
            "dedup_key",
            unique=True,
            sqlite_where=text("status <> 'resolved'"),
            postgresql_where=text("status <> 'resolved'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    integration: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    dedup_key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    settings_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    count: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DeliveryRecord(Base):
    """One webhook delivery in the outbox: kept until delivered, retried with backoff."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    notification_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("notifications.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class Notification:
    """A notification as the API, the CLI and the webhooks show it (never a secret)."""

    id: str
    integration: str
    kind: str
    category: str
    severity: str
    status: str
    title: str
    message: str
    action: str
    run_id: str | None
    run_url: str | None
    settings_url: str | None
    count: int
    first_seen_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None

    @classmethod
    def from_record(cls, row: NotificationRecord) -> "Notification":
        """The view of a stored row."""
        return cls(
            id=row.id,
            integration=row.integration,
            kind=row.kind,
            category=row.category,
            severity=row.severity,
            status=row.status,
            title=row.title,
            message=row.message,
            action=row.action,
            run_id=row.run_id,
            run_url=row.run_url,
            settings_url=row.settings_url,
            count=row.count,
            first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at,
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=row.acknowledged_by,
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (timestamps in ISO 8601)."""
        data: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            data[key] = value.isoformat() if isinstance(value, datetime) else value
        return data


@dataclass(frozen=True)
class Delivery:
    """A webhook delivery, as the outbox reports it."""

    id: str
    notification_id: str
    event: str
    url: str
    payload: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_record(cls, row: DeliveryRecord) -> "Delivery":
        """The view of a stored row."""
        return cls(
            id=row.id,
            notification_id=row.notification_id,
            event=row.event,
            url=row.url,
            payload=row.payload,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )
