"""A record of state resets: who cleared which bookmark, and when."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from integrations_platform.store.models import Base, UTCDateTime, utcnow
from integrations_platform.store.repository import ConfigStore


class StateResetRecord(Base):
    """One reset of an integration's incremental state."""

    __tablename__ = "state_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration: Mapped[str] = mapped_column(String(63), index=True)
    stream: Mapped[str | None] = mapped_column(String(200), nullable=True)
    actor: Mapped[str] = mapped_column(String(200))
    previous_bookmarks: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def record_reset(
    store: ConfigStore, integration: str, stream: str | None, actor: str, previous: dict[str, Any]
) -> dict[str, Any]:
    """Store one reset; returns it as a dict."""
    with store.session() as session:
        row = StateResetRecord(
            integration=integration, stream=stream, actor=actor, previous_bookmarks=previous
        )
        session.add(row)
        session.flush()
        return _as_dict(row)


def list_resets(store: ConfigStore, integration: str) -> list[dict[str, Any]]:
    """Resets of ``integration``, newest first."""
    with store.session() as session:
        rows = session.scalars(
            select(StateResetRecord)
            .where(StateResetRecord.integration == integration)
            .order_by(StateResetRecord.id.desc())
        )
        return [_as_dict(r) for r in rows]


def _as_dict(row: StateResetRecord) -> dict[str, Any]:
    return {
        "integration": row.integration,
        "stream": row.stream,
        "actor": row.actor,
        "previous_bookmarks": row.previous_bookmarks,
        "at": row.at.isoformat() if row.at else None,
    }
