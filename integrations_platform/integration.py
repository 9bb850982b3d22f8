"""The integration: the one record every layer shares.

The store maps it to and from its row (``store/repository.py``), the API shows it
through one schema (``api/schemas.py``), and Dagster's definitions are built from it
with its sealed config dropped (:meth:`Integration.for_orchestration`): the code server
and the run workers never hold a secret, encrypted or not, outside the sync itself.
"""

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from integrations_platform.keys import state_id


@dataclass(frozen=True)
class StreamSelection:
    """A stream an integration syncs, and how: incrementally when it has a replication key.

    ``excluded_columns`` never reach the destination (the tap is told not to select
    them); ``hashed_columns`` reach it only as salted SHA-256 digests. ``columns`` is
    what the stream syncs, ``(name, type)`` as its source's discovery described them
    (empty until the source is discovered): Dagster's column schema is built from it
    without reading anything else.
    """

    name: str
    replication_key: str | None = None
    primary_key: tuple[str, ...] = ()
    excluded_columns: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()
    hashed_columns: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The stored (and shown) form."""
        data: dict[str, Any] = {
            "name": self.name,
            "replication_key": self.replication_key,
            "primary_key": list(self.primary_key),
        }
        if self.excluded_columns:
            data["excluded_columns"] = list(self.excluded_columns)
        if self.hashed_columns:
            data["hashed_columns"] = list(self.hashed_columns)
        if self.columns:
            data["columns"] = [list(c) for c in self.columns]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "StreamSelection":
        """Inverse of :meth:`as_dict` (missing keys take their defaults)."""
        return cls(
            name=str(data["name"]),
            replication_key=data.get("replication_key") or None,
            primary_key=tuple(data.get("primary_key") or ()),
            excluded_columns=tuple(data.get("excluded_columns") or ()),
            hashed_columns=tuple(data.get("hashed_columns") or ()),
            # (name, type) pairs of strings, as stored: converted without a copy per item.
            columns=tuple(map(tuple, data.get("columns") or ())),
        )

    @classmethod
    def parse(cls, text: str) -> "StreamSelection":
        """``name`` or ``name:replication_key`` (the CLI's form)."""
        name, _, key = text.strip().partition(":")
        return cls(name=name.strip(), replication_key=key.strip() or None)


@dataclass(frozen=True)
class SealedConfig:
    """The connector config, encrypted, with the fingerprint of the key that sealed it."""

    ciphertext: bytes = field(repr=False)
    # Which key encrypted it (store.encryption.key_fingerprint); None: before fingerprints.
    key_fingerprint: str | None = None


@dataclass(frozen=True)
class Integration:
    """One configured integration: orchestration fields in clear, the config sealed."""

    id: str
    name: str
    connector: str
    enabled: bool
    schedule: str
    streams: tuple[StreamSelection, ...]
    start_date: str
    destination: str
    description: str = ""
    # What a sync does when the source's schema changes (schema_changes.POLICIES).
    schema_policy: str = "allow_columns"
    # How records travel from tap to target (runner/batch.py): auto, records or batch.
    message_format: str = "auto"
    version: int = 0
    # The destination's connector (read with the record: the configured destination's,
    # or the built-in one's); "" when the destination is not configured (any more).
    destination_connector: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # None where the config is not needed: in Dagster's definitions and in the pin.
    sealed: SealedConfig | None = field(default=None, repr=False, compare=False)

    @staticmethod
    def new_id() -> str:
        """A fresh integration id."""
        return str(uuid.uuid4())

    @property
    def stream_names(self) -> list[str]:
        """Names of the selected streams, in order."""
        return [s.name for s in self.streams]

    def stream(self, name: str) -> StreamSelection | None:
        """The selected stream called ``name``."""
        return next((s for s in self.streams if s.name == name), None)

    @property
    def state_id(self) -> str:
        """Meltano's state id for this integration's incremental bookmarks."""
        return state_id(self.name, self.id)

    def for_orchestration(self) -> "Integration":
        """This record without its sealed config (what Dagster's definitions hold)."""
        return replace(self, sealed=None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready clear fields (never the sealed config)."""
        # Shallow: dataclasses.asdict would deep-copy every stream's columns (1,000
        # integrations x 10 streams x 20 columns took seconds) only to replace them.
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sealed"}
        data["streams"] = [s.as_dict() for s in self.streams]
        for stamp in ("created_at", "updated_at"):
            value = getattr(self, stamp)
            data[stamp] = value.isoformat() if value else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Integration":
        """Inverse of :meth:`as_dict`."""
        fields = dict(data)
        fields["streams"] = tuple(StreamSelection.from_dict(s) for s in fields["streams"])
        for stamp in ("created_at", "updated_at"):
            value = fields.get(stamp)
            fields[stamp] = datetime.fromisoformat(value) if value else None
        return cls(**fields)


def dump_integrations(integrations: Sequence[Integration]) -> str:
    """Serialise for Dagster's reconstruction metadata (which only takes strings)."""
    return json.dumps([i.as_dict() for i in integrations], separators=(",", ":"))


def load_integrations(text: str) -> list[Integration]:
    """Inverse of :func:`dump_integrations`."""
    return [Integration.from_dict(item) for item in json.loads(text)]
