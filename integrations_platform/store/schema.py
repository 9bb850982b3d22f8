"""Schema changes, stream snapshots and hashing salts, in the config store's database.

Tables are created by the store's migration ``0006``.
"""

import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from integrations_platform.schema_changes import PENDING, SchemaChange
from integrations_platform.store.encryption import KeyRing
from integrations_platform.store.models import Base, UTCDateTime
from integrations_platform.store.repository import ConfigStore


class SchemaChangeRecord(Base):
    """One change seen in an integration's source (append-only but for decisions)."""

    __tablename__ = "schema_changes"
    __table_args__ = (Index("ix_schema_changes_integration", "integration_id", "stream"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration_id: Mapped[str] = mapped_column(String(36))
    stream: Mapped[str] = mapped_column(String(255))
    column: Mapped[str | None] = mapped_column(String(255), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    old: Mapped[str | None] = mapped_column(Text, nullable=True)
    new: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)


class SchemaSnapshotRecord(Base):
    """A selected stream's columns (name → the source's own type) at the last check."""

    __tablename__ = "schema_snapshots"

    integration_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stream: Mapped[str] = mapped_column(String(255), primary_key=True)
    columns: Mapped[dict[str, Any]] = mapped_column(JSON)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HashSaltRecord(Base):
    """The salt of an integration's hashed columns, encrypted like its config."""

    __tablename__ = "hash_salts"

    integration_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_fingerprint: Mapped[str | None] = mapped_column(String(16), nullable=True)


def _change(row: SchemaChangeRecord) -> SchemaChange:
    return SchemaChange(
        stream=row.stream,
        kind=row.kind,
        column=row.column,
        old=row.old,
        new=row.new,
        id=row.id,
        status=row.status,
        seen_at=row.seen_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
    )


def record_changes(
    store: ConfigStore,
    integration_id: str,
    changes: Sequence[SchemaChange],
    seen_at: datetime | None = None,
) -> list[SchemaChange]:
    """Append ``changes``; returns them as stored (with ids and times)."""
    when = seen_at or datetime.now(UTC)
    with store.session() as session:
        rows = [
            SchemaChangeRecord(
                integration_id=integration_id,
                stream=c.stream,
                column=c.column,
                kind=c.kind,
                old=c.old,
                new=c.new,
                status=c.status,
                seen_at=when,
            )
            for c in changes
        ]
        session.add_all(rows)
        session.flush()
        return [_change(r) for r in rows]


def list_changes(
    store: ConfigStore,
    integration_id: str,
    *,
    stream: str | None = None,
    since: datetime | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[SchemaChange]:
    """Recorded changes, newest first."""
    query = select(SchemaChangeRecord).where(SchemaChangeRecord.integration_id == integration_id)
    if stream is not None:
        query = query.where(SchemaChangeRecord.stream == stream)
    if since is not None:
        query = query.where(SchemaChangeRecord.seen_at > since)
    if status is not None:
        query = query.where(SchemaChangeRecord.status == status)
    query = query.order_by(SchemaChangeRecord.id.desc()).limit(limit)
    with store.session() as session:
        return [_change(r) for r in session.scalars(query)]


def pending_changes(store: ConfigStore, integration_id: str) -> list[SchemaChange]:
    """Changes waiting for an approval, oldest first."""
    return list(reversed(list_changes(store, integration_id, status=PENDING)))


def decide(
    store: ConfigStore, change_ids: Sequence[int], status: str, by: str
) -> list[SchemaChange]:
    """Mark changes approved (or otherwise decided) by ``by``."""
    now = datetime.now(UTC)
    with store.session() as session:
        rows = list(
            session.scalars(select(SchemaChangeRecord).where(SchemaChangeRecord.id.in_(change_ids)))
        )
        for row in rows:
            row.status, row.decided_at, row.decided_by = status, now, by
        session.flush()
        return [_change(r) for r in rows]


def load_snapshots(store: ConfigStore, integration_id: str) -> dict[str, dict[str, str]]:
    """Each checked stream's columns at the last check."""
    with store.session() as session:
        rows = session.scalars(
            select(SchemaSnapshotRecord).where(
                SchemaSnapshotRecord.integration_id == integration_id
            )
        )
        return {r.stream: dict(r.columns) for r in rows}


def save_snapshots(
    store: ConfigStore, integration_id: str, snapshots: Mapping[str, Mapping[str, str]]
) -> None:
    """Replace the snapshots of the streams in ``snapshots``."""
    now = datetime.now(UTC)
    with store.session() as session:
        for stream, columns in snapshots.items():
            row = session.get(SchemaSnapshotRecord, (integration_id, stream))
            if row is None:
                session.add(
                    SchemaSnapshotRecord(
                        integration_id=integration_id,
                        stream=stream,
                        columns=dict(columns),
                        checked_at=now,
                    )
                )
            else:
                row.columns, row.checked_at = dict(columns), now


def hash_salt(
    store: ConfigStore, keyring: KeyRing, integration_id: str, name: str, *, create: bool
) -> str | None:
    """The integration's hashing salt (decrypted); a new one if ``create`` and none yet."""
    with store.session() as session:
        row = session.get(HashSaltRecord, integration_id)
        if row is not None:
            value = keyring.decrypt(
                integration_id, name, row.ciphertext, fingerprint=row.key_fingerprint
            ).get("hash_salt")
            return str(value) if value else None
        if not create:
            return None
        salt = secrets.token_hex(32)
        session.add(
            HashSaltRecord(
                integration_id=integration_id,
                ciphertext=keyring.encrypt(integration_id, {"hash_salt": salt}),
                key_fingerprint=keyring.primary_fingerprint,
            )
        )
        return salt


def rotate_salts(store: ConfigStore, keyring: KeyRing) -> int:
    """Re-encrypt every salt with the first key; returns how many were rewritten."""
    rotated = 0
    with store.session() as session:
        for row in session.scalars(select(HashSaltRecord)):
            if not keyring.is_primary(row.ciphertext):
                row.ciphertext = keyring.rotate(row.ciphertext)
                row.key_fingerprint = keyring.primary_fingerprint
                rotated += 1
    return rotated


def forget_schema(store: ConfigStore, integration_id: str) -> None:
    """Remove the integration's changes, snapshots and salt (when it is removed)."""
    with store.session() as session:
        for model in (SchemaChangeRecord, SchemaSnapshotRecord, HashSaltRecord):
            session.execute(delete(model).where(model.integration_id == integration_id))
