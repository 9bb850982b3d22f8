"""Discovery: the streams and columns of a source, for an integration or a new config."""

from fastapi import APIRouter, Query

from integrations_platform.api.auth import PrincipalDep
from integrations_platform.api.deps import StateDep
from integrations_platform.api.schemas import (
    ERROR_RESPONSES,
    ConfigTest,
    DiscoveryPublic,
    DiscoveryResultPublic,
)
from integrations_platform.api.state import PlatformState
from integrations_platform.runner.discovery import DiscoveryResult

router = APIRouter(prefix="/api/v1", tags=["discovery"], responses=ERROR_RESPONSES)

_TIMEOUT = Query(default=None, ge=1, le=3600, description="Seconds (default: 600).")


def _shown(state: PlatformState, result: DiscoveryResult) -> DiscoveryResultPublic:
    data = result.as_dict()
    data.update(message=state.paths.scrub(data["message"]), hint=state.paths.scrub(data["hint"]))
    return DiscoveryResultPublic(**data)


@router.post("/integrations/{name}/discover", response_model=DiscoveryResultPublic)
def discover_integration(
    name: str, state: StateDep, _: PrincipalDep, timeout_s: float | None = _TIMEOUT
) -> DiscoveryResultPublic:
    """Run the source's discovery with the saved config and store what it finds. A failed
    discovery (``ok: false``, with its reason and hint) leaves the stored one as it was."""
    return _shown(state, state.service.discover(name, timeout_s=timeout_s))


@router.get("/integrations/{name}/discovery", response_model=DiscoveryPublic)
def get_discovery(name: str, state: StateDep, _: PrincipalDep) -> DiscoveryPublic:
    """The stored discovery of the integration's source (404 until one has run)."""
    return DiscoveryPublic(**state.service.discovery(name).as_dict())


@router.post("/connectors/{connector_id}/discover", response_model=DiscoveryResultPublic)
def discover_unsaved_config(
    connector_id: str,
    body: ConfigTest,
    state: StateDep,
    _: PrincipalDep,
    timeout_s: float | None = _TIMEOUT,
) -> DiscoveryResultPublic:
    """Discover with a config before saving it (the wizard's streams step; nothing is
    stored)."""
    return _shown(
        state, state.service.discover_config(connector_id, body.config, timeout_s=timeout_s)
    )
