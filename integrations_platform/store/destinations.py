"""Configured destinations in the config store: a destination connector and its
settings, encrypted like an integration's config (table created by migration ``0009``).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from integrations_platform.errors import (
    ConcurrentUpdateError,
    DestinationExistsError,
    DestinationInUseError,
    DestinationNotFoundError,
)
from integrations_platform.integration import SealedConfig
from integrations_platform.store.models import DestinationRecord, IntegrationRecord
from integrations_platform.store.repository import ConfigStore

# What the encryption binds a destination's config to (an integration's is its id).
_BOUND_PREFIX = "destination:"


@dataclass(frozen=True)
class Destination:
    """A configured destination: clear fields, the config sealed."""

    id: str
    name: str
    connector: str
    sealed: SealedConfig = field(repr=False, compare=False)
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @staticmethod
    def new_id() -> str:
        """A fresh destination id."""
        return str(uuid.uuid4())

    @property
    def bound_to(self) -> str:
        """What its encrypted config is bound to (a copied row does not decrypt)."""
        return bound_id(self.id)


def bound_id(destination_id: str) -> str:
    """The encryption binding of destination ``destination_id``."""
    return _BOUND_PREFIX + destination_id


def _from_row(row: DestinationRecord) -> Destination:
    return Destination(
        id=row.id,
        name=row.name,
        connector=row.connector,
        sealed=SealedConfig(row.config_ciphertext, row.key_fingerprint),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _not_found(name: str) -> DestinationNotFoundError:
    return DestinationNotFoundError(
        f"No destination named '{name}'",
        "`integrations destinations list` shows the configured ones; "
        "`integrations destinations add` configures one.",
    )


def list_destinations(store: ConfigStore) -> list[Destination]:
    """Every configured destination, by name."""
    with store.session() as session:
        rows = session.scalars(select(DestinationRecord).order_by(DestinationRecord.name))
        return [_from_row(r) for r in rows]


def find_destination(store: ConfigStore, name: str) -> Destination | None:
    """The destination called ``name``, or None."""
    with store.session() as session:
        row = session.scalar(select(DestinationRecord).where(DestinationRecord.name == name))
        return None if row is None else _from_row(row)


def get_destination(store: ConfigStore, name: str) -> Destination:
    """The destination called ``name``; a clear error when there is none."""
    found = find_destination(store, name)
    if found is None:
        raise _not_found(name)
    return found


def add_destination(store: ConfigStore, destination: Destination) -> Destination:
    """Insert a new destination; its name must be free."""
    row = DestinationRecord(
        id=destination.id,
        name=destination.name,
        connector=destination.connector,
        config_ciphertext=destination.sealed.ciphertext,
        key_fingerprint=destination.sealed.key_fingerprint,
    )
    try:
        with store.session() as session:
            session.add(row)
    except IntegrityError:
        raise DestinationExistsError(
            f"A destination named '{destination.name}' already exists",
            "Choose another name, or edit the existing destination.",
        ) from None
    return _from_row(row)


def update_destination(
    store: ConfigStore,
    name: str,
    change: Callable[[Destination], SealedConfig],
    *,
    expected_version: int | None = None,
) -> Destination:
    """Replace the sealed config with what ``change`` returns, in one transaction
    (nothing is written if it raises)."""
    with store.session() as session:
        row = session.scalar(select(DestinationRecord).where(DestinationRecord.name == name))
        if row is None:
            raise _not_found(name)
        if expected_version is not None and row.version != expected_version:
            raise ConcurrentUpdateError(
                f"Destination '{name}' changed since it was read (version {expected_version}, "
                f"now {row.version})",
                "Reload it and apply your change again.",
            )
        sealed = change(_from_row(row))
        row.config_ciphertext, row.key_fingerprint = sealed.ciphertext, sealed.key_fingerprint
        session.flush()
        return _from_row(row)


def users_of(store: ConfigStore, name: str) -> list[str]:
    """The integrations that load into destination ``name``."""
    return users_by_destination(store, name).get(name, [])


def users_by_destination(store: ConfigStore, name: str | None = None) -> dict[str, list[str]]:
    """Destination name → the integrations that load into it (one query; only ``name``'s
    when given)."""
    query = select(IntegrationRecord.destination, IntegrationRecord.name).order_by(
        IntegrationRecord.name
    )
    if name is not None:
        query = query.where(IntegrationRecord.destination == name)
    found: dict[str, list[str]] = {}
    with store.session() as session:
        for destination, integration in session.execute(query):
            found.setdefault(destination, []).append(integration)
    return found


def delete_destination(store: ConfigStore, name: str) -> Destination:
    """Remove destination ``name``; refused while an integration loads into it (checked
    in the same transaction)."""
    with store.session() as session:
        row = session.scalar(
            select(DestinationRecord).where(DestinationRecord.name == name).with_for_update()
        )
        if row is None:
            raise _not_found(name)
        using = list(
            session.scalars(
                select(IntegrationRecord.name)
                .where(IntegrationRecord.destination == name)
                .order_by(IntegrationRecord.name)
            )
        )
        if using:
            raise DestinationInUseError(
                f"Destination '{name}' is in use by {', '.join(using)}",
                "Move those integrations to another destination first, then remove it.",
            )
        removed = _from_row(row)
        session.delete(row)
        return removed


def rewrite_destinations(
    store: ConfigStore, rewrite: Callable[[Destination], SealedConfig | None]
) -> int:
    """Re-seal destinations' configs (key rotation); returns how many changed."""
    changed = 0
    with store.session() as session:
        for row in session.scalars(select(DestinationRecord).with_for_update()):
            new = rewrite(_from_row(row))
            if new is not None and new.ciphertext != row.config_ciphertext:
                row.config_ciphertext, row.key_fingerprint = new.ciphertext, new.key_fingerprint
                changed += 1
    return changed
