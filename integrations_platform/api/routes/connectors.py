"""The connector catalog: the marketplace's data."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from integrations_platform.api.auth import PrincipalDep
from integrations_platform.api.deps import StateDep
from integrations_platform.api.schemas import (
    ERROR_RESPONSES,
    ConfigTest,
    ConnectorDetail,
    ConnectorSummary,
    TestResultPublic,
)
from integrations_platform.catalog import Catalog, ConnectorSpec
from integrations_platform.catalog.form_schema import connector_form_schema
from integrations_platform.catalog.models import DestinationConnectorSpec, Tier
from integrations_platform.errors import ConnectorNotFoundError

router = APIRouter(
    prefix="/api/v1/connectors",
    tags=["connectors"],
    responses=ERROR_RESPONSES,
)


def _summary(connector: ConnectorSpec) -> ConnectorSummary:
    return ConnectorSummary(
        id=connector.id,
        label=connector.label,
        category=connector.category,
        description=connector.description,
        docs_url=connector.docs_url,
        logo_url=f"/api/v1/connectors/{connector.id}/logo",
        tier=connector.tier,
        streams=[s.name for s in connector.streams],
    )


@router.get("", response_model=list[ConnectorSummary])
def list_connectors(
    state: StateDep,
    _: PrincipalDep,
    q: str | None = Query(default=None, max_length=200, description="Words to search for."),
    category: str | None = Query(default=None, max_length=100),
    tier: Annotated[
        Tier | None, Query(description="verified (tested end to end here) or community.")
    ] = None,
) -> list[ConnectorSummary]:
    """Connectors matching every word of ``q``, optionally in one category and tier."""
    return [_summary(c) for c in state.service.catalog.search(q, category, tier)]


@router.get("/{connector_id}", response_model=ConnectorDetail)
def get_connector(connector_id: str, state: StateDep, _: PrincipalDep) -> ConnectorDetail:
    """One connector with the JSON Schema of its settings form."""
    connector = state.service.catalog.get(connector_id)
    return ConnectorDetail(
        **_summary(connector).model_dump(),
        form_schema=connector_form_schema(connector),
        stream_specs=[s.model_dump() for s in connector.streams],
        dynamic_streams=connector.dynamic_streams,
        stream_name_help=connector.stream_name_help,
        default_schedule=connector.default_schedule,
        can_hash_columns="stream-maps" in connector.extractor.capabilities,
    )


@router.get("/{connector_id}/logo", response_class=FileResponse)
def get_logo(connector_id: str, state: StateDep) -> FileResponse:
    """The connector's logo (public: images are loaded without the token)."""
    catalog = state.service.catalog
    return logo_response(catalog, catalog.get(connector_id))


def logo_response(
    catalog: Catalog, connector: ConnectorSpec | DestinationConnectorSpec
) -> FileResponse:
    """A connector's logo file (a source's or a destination's)."""
    path = catalog.logo_path(connector)
    if not path.is_file():
        raise ConnectorNotFoundError(
            f"Connector '{connector.id}' has no logo file",
            f"Add its logo ({connector.logo}) beside its catalog file.",
        )
    return FileResponse(path, media_type="image/svg+xml")


@router.post("/{connector_id}/test", response_model=TestResultPublic)
def test_unsaved_config(
    connector_id: str, body: ConfigTest, state: StateDep, _: PrincipalDep
) -> TestResultPublic:
    """Test a config before saving it (validated first; nothing is stored)."""
    from integrations_platform.api.routes.integrations import shown_test_result

    return shown_test_result(state, state.service.test_config(connector_id, body.config))
