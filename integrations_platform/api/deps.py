"""Typed dependencies for the routes."""

from typing import Annotated

from fastapi import Depends, Request

from integrations_platform.api.state import PlatformState


def get_state(request: Request) -> PlatformState:
    """The app's shared state."""
    state: PlatformState = request.app.state.platform
    return state


StateDep = Annotated[PlatformState, Depends(get_state)]
