"""SQLAlchemy models of the config store.

Orchestration fields are stored in clear so that Dagster can build definitions with
one query and no key; the connector config is one encrypted blob.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that comes back timezone-aware (UTC) on every database.

    SQLite keeps no offset, so values are normalised to UTC on the way in and marked
    UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class IntegrationRecord(Base):
    """One configured integration."""

    __tablename__ = "integrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True, index=True)
    connector: Mapped[str] = mapped_column(String(63))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    schedule: Mapped[str] = mapped_column(String(120))
    # [{"name": ..., "replication_key": ..., "primary_key": [...]}, ...]
    streams: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    start_date: Mapped[str] = mapped_column(String(32))
    destination: Mapped[str] = mapped_column(String(32))
    config_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # Which key encrypted the config (see store.encryption.key_fingerprint).
    key_fingerprint: Mapped[str | None] = mapped_column(String(16), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    schema_policy: Mapped[str] = mapped_column(String(16), default="allow_columns")
    message_format: Mapped[str] = mapped_column(String(16), default="auto")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Optimistic concurrency: every UPDATE checks and bumps the version, so two
    # writers that read the same version cannot both win.
    __mapper_args__ = {"version_id_col": version}


class DestinationRecord(Base):
    """One configured destination."""

    __tablename__ = "destinations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    connector: Mapped[str] = mapped_column(String(63))
    config_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_fingerprint: Mapped[str | None] = mapped_column(String(16), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}
