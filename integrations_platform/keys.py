"""Names the platform derives for Dagster (kept free of Dagster imports)."""

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def stream_key_part(stream_name: str) -> str:
    """An asset-key part for a stream name (``public-orders`` → ``public_orders``)."""
    return _UNSAFE.sub("_", stream_name)


def state_id(integration_name: str, integration_id: str) -> str:
    """Meltano's state id for an integration's incremental bookmarks."""
    return f"{integration_name}-{integration_id}"
