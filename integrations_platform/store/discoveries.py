"""The last discovery of each integration's source, kept beside the integration."""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from integrations_platform.discovery import Discovery, pack_catalog, parse_catalog, unpack_catalog
from integrations_platform.store.models import Base, UTCDateTime
from integrations_platform.store.repository import ConfigStore


class DiscoveryRecord(Base):
    """The Singer catalog an integration's source last reported (names and types only)."""

    __tablename__ = "discoveries"

    integration_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[float] = mapped_column(Float)
    stream_count: Mapped[int] = mapped_column(Integer)
    catalog: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed JSON


def save_discovery(store: ConfigStore, integration_id: str, discovery: Discovery) -> None:
    """Store ``discovery`` as the integration's current one (replacing the previous)."""
    with store.session() as session:
        row = session.get(DiscoveryRecord, integration_id)
        if row is None:
            row = DiscoveryRecord(integration_id=integration_id)
            session.add(row)
        row.discovered_at = discovery.discovered_at
        row.duration_s = discovery.duration_s
        row.stream_count = len(discovery.streams)
        row.catalog = pack_catalog(discovery.catalog)


def load_discovery(store: ConfigStore, integration_id: str) -> Discovery | None:
    """The integration's stored discovery, or None if its source was never discovered."""
    with store.session() as session:
        row = session.get(DiscoveryRecord, integration_id)
        if row is None:
            return None
        catalog = unpack_catalog(row.catalog)
        return Discovery(
            streams=parse_catalog(catalog),
            discovered_at=row.discovered_at,
            duration_s=row.duration_s,
            catalog=catalog,
        )


def stored_catalog(store: ConfigStore, integration_id: str) -> dict[str, Any] | None:
    """Only the stored Singer catalog (what a sync hands the tap), not parsed into
    streams; None if the source was never discovered."""
    with store.session() as session:
        blob = session.scalar(
            select(DiscoveryRecord.catalog).where(DiscoveryRecord.integration_id == integration_id)
        )
    return unpack_catalog(blob) if blob is not None else None


def delete_discovery(store: ConfigStore, integration_id: str) -> None:
    """Forget the integration's discovery (when the integration is deleted)."""
    with store.session() as session:
        session.execute(
            delete(DiscoveryRecord).where(DiscoveryRecord.integration_id == integration_id)
        )
