"""Destinations: the destination connectors of the catalog, and the configured
destinations integrations load into (create, read, update, delete, test)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import FileResponse

from integrations_platform.api.auth import PrincipalDep
from integrations_platform.api.deps import StateDep
from integrations_platform.api.routes.connectors import logo_response
from integrations_platform.api.routes.integrations import shown_test_result
from integrations_platform.api.schemas import (
    ERROR_RESPONSES,
    ConfigTest,
    DestinationConnectorDetail,
    DestinationConnectorSummary,
    DestinationCreate,
    DestinationPublic,
    DestinationUpdate,
    TestResultPublic,
)
from integrations_platform.catalog.form_schema import connector_form_schema
from integrations_platform.catalog.models import DestinationConnectorSpec, Tier
from integrations_platform.service.destinations import DestinationView

router = APIRouter(prefix="/api/v1/destinations", tags=["destinations"], responses=ERROR_RESPONSES)
connectors = APIRouter(
    prefix="/api/v1/destination-connectors", tags=["destinations"], responses=ERROR_RESPONSES
)


def _summary(spec: DestinationConnectorSpec) -> DestinationConnectorSummary:
    return DestinationConnectorSummary(
        id=spec.id,
        label=spec.label,
        category=spec.category,
        description=spec.description,
        docs_url=spec.docs_url,
        logo_url=f"/api/v1/destination-connectors/{spec.id}/logo",
        tier=spec.tier,
        connection_test=spec.destination.connection_test,
    )


def _public(view: DestinationView) -> DestinationPublic:
    return DestinationPublic(**view.as_dict())


@connectors.get("", response_model=list[DestinationConnectorSummary])
def list_destination_connectors(
    state: StateDep,
    _: PrincipalDep,
    q: str | None = Query(default=None, max_length=200, description="Words to search for."),
    tier: Annotated[
        Tier | None, Query(description="verified (tested end to end here) or community.")
    ] = None,
) -> list[DestinationConnectorSummary]:
    """Destination connectors matching every word of ``q``, optionally of one tier."""
    return [_summary(d) for d in state.service.catalog.search_destinations(q, tier=tier)]


@connectors.get("/{connector_id}", response_model=DestinationConnectorDetail)
def get_destination_connector(
    connector_id: str, state: StateDep, _: PrincipalDep
) -> DestinationConnectorDetail:
    """One destination connector with the JSON Schema of its settings form."""
    spec = state.service.catalog.destination(connector_id)
    return DestinationConnectorDetail(
        **_summary(spec).model_dump(), form_schema=connector_form_schema(spec)
    )


@connectors.get("/{connector_id}/logo", response_class=FileResponse)
def get_destination_logo(connector_id: str, state: StateDep) -> FileResponse:
    """The destination connector's logo (public: images load without the token)."""
    catalog = state.service.catalog
    return logo_response(catalog, catalog.destination(connector_id))


@connectors.post("/{connector_id}/test", response_model=TestResultPublic)
def test_unsaved_destination(
    connector_id: str, body: ConfigTest, state: StateDep, _: PrincipalDep
) -> TestResultPublic:
    """Test a destination's settings before saving them (nothing is stored)."""
    result = state.service.test_destination(connector_id=connector_id, config=body.config)
    return shown_test_result(state, result)


@router.get("", response_model=list[DestinationPublic])
def list_destinations(state: StateDep, _: PrincipalDep) -> list[DestinationPublic]:
    """The built-in destinations (jsonl, postgres) and the configured ones."""
    return [_public(v) for v in state.service.list_destinations()]


@router.post("", response_model=DestinationPublic, status_code=status.HTTP_201_CREATED)
def create_destination(
    body: DestinationCreate, state: StateDep, _: PrincipalDep
) -> DestinationPublic:
    """Configure a destination; secrets are stored encrypted and never shown again."""
    return _public(state.service.add_destination(body.connector, body.name, body.config))


@router.get("/{destination}", response_model=DestinationPublic)
def get_destination(destination: str, state: StateDep, _: PrincipalDep) -> DestinationPublic:
    """One destination: its settings, and which secrets are set."""
    return _public(state.service.show_destination(destination))


@router.patch("/{destination}", response_model=DestinationPublic)
def update_destination(
    destination: str, body: DestinationUpdate, state: StateDep, _: PrincipalDep
) -> DestinationPublic:
    """Change a destination's settings (omitted ones and blank secrets are kept)."""
    view = state.service.update_destination(destination, body.config, expected_version=body.version)
    return _public(view)


@router.delete("/{destination}", status_code=status.HTTP_204_NO_CONTENT)
def delete_destination(destination: str, state: StateDep, _: PrincipalDep) -> Response:
    """Remove a destination no integration loads into (409 while one does)."""
    state.service.remove_destination(destination)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{destination}/test", response_model=TestResultPublic)
def test_destination(
    destination: str, state: StateDep, _: PrincipalDep, body: ConfigTest | None = None
) -> TestResultPublic:
    """Test the destination's connection; with ``config``, test edits before saving them."""
    result = state.service.test_destination(destination, config=body.config if body else None)
    return shown_test_result(state, result)
