"""The progress of running syncs, written by the run worker every few seconds and read
by the API (table ``run_progress``, migration ``0007``). A sync's row goes when it ends."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import JSON, Float, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from integrations_platform.runner.progress import ProgressSnapshot
from integrations_platform.store.models import Base, UTCDateTime
from integrations_platform.store.repository import ConfigStore


class RunProgressRecord(Base):
    """Rows so far per stream of one running sync."""

    __tablename__ = "run_progress"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    integration_id: Mapped[str] = mapped_column(String(36))
    rows: Mapped[dict[str, int]] = mapped_column(JSON)
    elapsed_s: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class RunProgress(ProgressSnapshot):
    """A running sync's rows so far and its rate, and when it said so."""

    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def save_progress(
    store: ConfigStore,
    run_id: str,
    integration_id: str,
    rows: Mapping[str, int],
    elapsed_s: float,
) -> None:
    """Write (or replace) the run's progress."""
    with store.session() as session:
        session.merge(
            RunProgressRecord(
                run_id=run_id,
                integration_id=integration_id,
                rows=dict(rows),
                elapsed_s=round(elapsed_s, 3),
                updated_at=datetime.now(UTC),
            )
        )


def read_progress(store: ConfigStore, run_ids: Sequence[str]) -> dict[str, RunProgress]:
    """The progress of each of ``run_ids`` that has one."""
    if not run_ids:
        return {}
    query = select(RunProgressRecord).where(RunProgressRecord.run_id.in_(list(run_ids)))
    with store.session() as session:
        return {
            r.run_id: RunProgress(dict(r.rows), r.elapsed_s, r.updated_at)
            for r in session.scalars(query)
        }


def clear_progress(store: ConfigStore, run_id: str) -> None:
    """Forget a run's progress (it ended)."""
    with store.session() as session:
        session.execute(delete(RunProgressRecord).where(RunProgressRecord.run_id == run_id))
