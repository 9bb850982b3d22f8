"""The clear, orchestration-only view of an integration that definitions are built from.

It carries no config and no ciphertext: the code server and the run workers never hold
a secret, encrypted or not, outside the sync itself.
"""

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from integrations_platform.keys import state_id
from integrations_platform.store import StoredIntegration


@dataclass(frozen=True)
class IntegrationSnapshot:
    """One integration's orchestration fields, as loaded by the code server."""

    id: str
    name: str
    connector: str
    enabled: bool
    schedule: str
    streams: tuple[dict[str, Any], ...]
    start_date: str
    destination: str
    description: str = ""

    @classmethod
    def from_stored(cls, stored: StoredIntegration) -> "IntegrationSnapshot":
        """The snapshot of a stored integration (drops the ciphertext)."""
        return cls(
            id=stored.id,
            name=stored.name,
            connector=stored.connector,
            enabled=stored.enabled,
            schedule=stored.schedule,
            streams=tuple(dict(s) for s in stored.streams),
            start_date=stored.start_date,
            destination=stored.destination,
            description=stored.description,
        )

    @property
    def state_id(self) -> str:
        """Meltano's state id for this integration's incremental bookmarks."""
        return state_id(self.name, self.id)


def dump_snapshots(snapshots: Sequence[IntegrationSnapshot]) -> str:
    """Serialise for reconstruction metadata (which only takes strings)."""
    return json.dumps([asdict(s) for s in snapshots], separators=(",", ":"))


def load_snapshots(text: str) -> list[IntegrationSnapshot]:
    """Inverse of :func:`dump_snapshots`."""
    return [
        IntegrationSnapshot(**{**item, "streams": tuple(item["streams"])})
        for item in json.loads(text)
    ]
