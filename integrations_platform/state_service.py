"""Resetting an integration's incremental state, with a record of who did it."""

from collections.abc import Mapping
from typing import Any

from integrations_platform.errors import ConfigurationError
from integrations_platform.keys import state_id
from integrations_platform.runner.state import get_state, reset_state
from integrations_platform.service import IntegrationService
from integrations_platform.settings import Settings
from integrations_platform.store.audit import list_resets, record_reset


def reset_integration_state(
    service: IntegrationService,
    settings: Settings,
    environ: Mapping[str, str],
    name: str,
    *,
    stream: str | None,
    actor: str,
) -> dict[str, Any]:
    """Clear the bookmark of ``stream`` (or of every stream) of integration ``name``.

    The next sync of what was reset starts again from the integration's start date.
    Returns the record of the reset (with the bookmarks it removed).
    """
    stored = service.get(name)
    if stream is not None and stream not in stored.stream_names:
        raise ConfigurationError(
            f"Integration '{name}' does not sync '{stream}'",
            f"Choose among {', '.join(stored.stream_names)}.",
            field_errors={"stream": "not one of the integration's streams"},
        )
    previous = reset_state(settings, environ, state_id(stored.name, stored.id), stream)
    return record_reset(service.store, name, stream, actor, previous)


def integration_state(
    service: IntegrationService, settings: Settings, environ: Mapping[str, str], name: str
) -> dict[str, Any]:
    """The integration's bookmarks per stream, and its reset history."""
    stored = service.get(name)
    state = get_state(settings, environ, state_id(stored.name, stored.id))
    return {"bookmarks": state.get("bookmarks", {}), "resets": list_resets(service.store, name)}
