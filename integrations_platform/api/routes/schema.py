"""Schema changes: the current schema of an integration's streams, the history of its
changes, and approvals of what its policy held back."""

from fastapi import APIRouter, Query

from integrations_platform.api.auth import PrincipalDep
from integrations_platform.api.deps import StateDep
from integrations_platform.api.schemas import (
    ERROR_RESPONSES,
    ApprovalIn,
    ApprovalResult,
    SchemaChangePublic,
    SchemaPublic,
)

router = APIRouter(prefix="/api/v1", tags=["schema"], responses=ERROR_RESPONSES)


@router.get("/integrations/{name}/schema", response_model=SchemaPublic)
def get_schema(
    name: str,
    state: StateDep,
    _: PrincipalDep,
    changes: int = Query(default=100, ge=0, le=5000, description="History entries to show."),
) -> SchemaPublic:
    """Each selected stream's columns (synced, left out, hashed, waiting for approval),
    the schema policy, the changes waiting for approval and the history, newest first."""
    return SchemaPublic(**state.service.schema(name, changes=changes))


@router.post("/integrations/{name}/schema/approve", response_model=ApprovalResult)
def approve_schema_change(
    name: str, body: ApprovalIn, state: StateDep, principal: PrincipalDep
) -> ApprovalResult:
    """Approve what the policy held back in ``stream`` (or only its ``column``): synced
    from the next run on. 422 when nothing there waits for approval."""
    approved = state.service.approve(name, body.stream, body.column, by="api")
    return ApprovalResult(
        approved=[SchemaChangePublic(**c.as_dict()) for c in approved],
        definitions=state.after_change(),
    )
