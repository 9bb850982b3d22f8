"""The audit trail: who changed what, when, from where, and with what result.

Append-only (the database refuses updates and deletes of its rows). An event names the
fields a change touched, never their values; ``detail`` is a short, secret-free reason.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select

from integrations_platform.people.models import AuditEventRecord
from integrations_platform.store.models import utcnow
from integrations_platform.store.repository import ConfigStore

Source = Literal["page", "api", "cli", "schedule"]
Result = Literal["ok", "failed", "denied"]
MAX_DETAIL = 500
MAX_LIST = 1000


@dataclass(frozen=True)
class AuditEvent:
    """One audit event, as listed."""

    id: int
    at: datetime
    actor: str
    role: str
    source: str
    action: str
    integration: str | None
    target: str | None
    fields: list[str] = field(default_factory=list)
    result: str = "ok"
    detail: str = ""
    address: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the time in ISO 8601)."""
        values = asdict(self)
        values["at"] = self.at.isoformat()
        return values


def _event(row: AuditEventRecord) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        at=row.at,
        actor=row.actor,
        role=row.role,
        source=row.source,
        action=row.action,
        integration=row.integration,
        target=row.target,
        fields=list(row.fields or []),
        result=row.result,
        detail=row.detail,
        address=row.address,
    )


class AuditLog:
    """Records and lists audit events in the config store."""

    def __init__(self, store: ConfigStore) -> None:
        self.store = store

    def record(
        self,
        *,
        actor: str,
        role: str,
        source: Source,
        action: str,
        integration: str | None = None,
        target: str | None = None,
        fields: Iterable[str] = (),
        result: Result = "ok",
        detail: str = "",
        address: str | None = None,
    ) -> AuditEvent:
        """Append one event."""
        with self.store.session() as session:
            row = AuditEventRecord(
                at=utcnow(),
                actor=actor[:100],
                role=role,
                source=source,
                action=action,
                integration=integration,
                target=target[:200] if target else None,
                fields=sorted(set(fields)),
                result=result,
                detail=detail[:MAX_DETAIL],
                address=address,
            )
            session.add(row)
            session.flush()
            return _event(row)

    def list(
        self,
        *,
        integration: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[AuditEvent]:
        """Events matching every given filter, newest first (at most ``limit``)."""
        query = select(AuditEventRecord)
        if integration:
            query = query.where(AuditEventRecord.integration == integration)
        if actor:
            query = query.where(AuditEventRecord.actor == actor)
        if action:
            query = query.where(AuditEventRecord.action == action)
        if since:
            query = query.where(AuditEventRecord.at >= since)
        query = query.order_by(AuditEventRecord.id.desc()).limit(max(1, min(limit, MAX_LIST)))
        with self.store.session() as session:
            return [_event(row) for row in session.scalars(query)]

    def count_failures(
        self, action: str, since: datetime, *, actor: str | None = None, address: str | None = None
    ) -> int:
        """Failed ``action`` events since ``since`` by ``actor`` or from ``address``."""
        query = select(func.count(AuditEventRecord.id)).where(
            AuditEventRecord.action == action,
            AuditEventRecord.result == "failed",
            AuditEventRecord.at >= since,
        )
        if actor is not None:
            query = query.where(AuditEventRecord.actor == actor)
        if address is not None:
            query = query.where(AuditEventRecord.address == address)
        with self.store.session() as session:
            return int(session.scalar(query) or 0)
