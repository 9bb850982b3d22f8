"""Integrations: create, read, update, delete, test, sync, runs and logs."""

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter

from integrations_platform.api.auth import PrincipalDep
from integrations_platform.api.deps import StateDep
from integrations_platform.api.routes.notifications import open_notifications
from integrations_platform.api.schemas import (
    ERROR_RESPONSES,
    BulkAction,
    BulkItemResult,
    BulkResult,
    ConfigTest,
    IntegrationCreate,
    IntegrationPublic,
    IntegrationUpdate,
    LaunchedRun,
    LogLinePublic,
    MutationResult,
    NotificationPublic,
    ProgressPublic,
    RunPublic,
    StateResetIn,
    StatusPublic,
    StreamIn,
    SyncRequestIn,
    TestResultPublic,
)
from integrations_platform.api.state import PlatformState
from integrations_platform.errors import (
    ConcurrentUpdateError,
    ConfigurationError,
    IntegrationNotFoundError,
    PlatformError,
)
from integrations_platform.integration import StreamSelection
from integrations_platform.orchestration.status import RUNNING, IntegrationStatus, RunSummary
from integrations_platform.runner.connection_test.result import ConnectionTestResult
from integrations_platform.service import IntegrationView
from integrations_platform.store.progress import RunProgress, read_progress

router = APIRouter(
    prefix="/api/v1/integrations",
    tags=["integrations"],
    responses=ERROR_RESPONSES,
)


def _run(summary: RunSummary, progress: Mapping[str, RunProgress] | None = None) -> RunPublic:
    found = (progress or {}).get(summary.run_id) if summary.status == RUNNING else None
    return RunPublic(
        run_id=summary.run_id,
        status=summary.status,
        started_at=summary.started_at,
        ended_at=summary.ended_at,
        duration_s=summary.duration_s,
        row_counts=summary.row_counts,
        url=summary.url,
        progress=(
            ProgressPublic(
                rows=found.rows,
                total=found.total,
                rows_per_s=round(found.rows_per_s, 1),
                elapsed_s=found.elapsed_s,
                updated_at=found.updated_at,
            )
            if found
            else None
        ),
    )


def _running(state: PlatformState, runs: Iterable[RunSummary | None]) -> dict[str, RunProgress]:
    """The progress of those of ``runs`` that are syncing (one query)."""
    ids = [r.run_id for r in runs if r is not None and r.status == RUNNING]
    return read_progress(state.service.store, ids) if ids else {}


def _status(
    status_: IntegrationStatus | None, progress: Mapping[str, RunProgress] | None = None
) -> StatusPublic | None:
    if status_ is None:
        return None
    return StatusPublic(
        last_run=_run(status_.last_run, progress) if status_.last_run else None,
        last_success_at=status_.last_success_at,
        row_counts=status_.row_counts,
        next_run_at=status_.next_run_at,
    )


def _public(
    state: PlatformState,
    view: IntegrationView,
    status_: IntegrationStatus | None = None,
    notifications: list[NotificationPublic] | None = None,
    *,
    columns: bool = True,
    progress: Mapping[str, RunProgress] | None = None,
) -> IntegrationPublic:
    data = view.as_dict()
    if not columns:  # the list: each stream's discovered columns are for one integration
        for stream in data["streams"]:
            stream.pop("columns", None)
    if view.config_error is not None:
        data["config_error"] = state.paths.scrub(view.config_error)
    dagster = state.settings.dagster_url
    return IntegrationPublic(
        **data,
        status=_status(status_, progress),
        links={
            "dagster": f"{dagster}/asset-groups/{view.name}" if view.enabled else dagster,
            "settings": f"/#/integrations/{view.name}",
        },
        notifications=notifications or [],
    )


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'W/"{version}"'


def _streams(streams: list[StreamIn] | None) -> list[StreamSelection] | None:
    if streams is None:
        return None
    return [
        StreamSelection(
            name=s.name,
            replication_key=s.replication_key,
            excluded_columns=tuple(s.excluded_columns),
            hashed_columns=tuple(s.hashed_columns),
        )
        for s in streams
    ]


def shown_test_result(state: PlatformState, result: ConnectionTestResult) -> TestResultPublic:
    """A connection test's result as shown: without the server's folders."""
    data = result.as_dict()
    data.update(message=state.paths.scrub(data["message"]), hint=state.paths.scrub(data["hint"]))
    return TestResultPublic(**data)


def _list_body(state: PlatformState) -> bytes:
    views = state.service.list_integrations()
    integrations = [v.integration for v in views]
    reader = state.status_reader_or_none()
    statuses = reader.statuses(integrations) if reader else {}
    notes = open_notifications(state, [v.name for v in views], integrations)  # one query
    progress = _running(state, (s.last_run for s in statuses.values()))
    items = [
        _public(state, v, statuses.get(v.name), notes.get(v.name), columns=False, progress=progress)
        for v in views
    ]
    return _LIST_ADAPTER.dump_json(items)


_LIST_ADAPTER = TypeAdapter(list[IntegrationPublic])


@router.get("", response_model=list[IntegrationPublic])
async def list_integrations(state: StateDep, _: PrincipalDep) -> Response:
    """Every integration with its status in Dagster (last run, rows, next run).

    Served from a cache that writes through this API clear at once and that expires
    after a second, so that many pollers cost one computation.
    """
    body = await state.list_cache.get(lambda: run_in_threadpool(_list_body, state))
    return Response(content=body, media_type="application/json")


@router.post(
    "",
    response_model=MutationResult,
    status_code=status.HTTP_201_CREATED,
)
def create_integration(
    body: IntegrationCreate,
    state: StateDep,
    _: PrincipalDep,
    response: Response,
    test: bool = Query(default=False, description="Test the connection first; refuse on failure."),
) -> MutationResult:
    """Validate and save a new integration; its assets appear after the reload."""
    if test:
        result = state.service.test_config(body.connector, body.config)
        if not result.ok:
            raise ConfigurationError(
                f"Connection test failed ({result.reason}): {result.message}",
                result.hint or "Fix the settings and test again.",
                field_errors={"config": f"{result.reason}: {result.message}"},
            )
    view = state.service.add(
        body.connector,
        body.name,
        body.config,
        streams=_streams(body.streams),
        schedule=body.schedule,
        start_date=body.start_date,
        destination=body.destination,
        enabled=body.enabled,
        description=body.description,
        schema_policy=body.schema_policy,
        message_format=body.message_format,
    )
    _etag(response, view.version)
    outcome = state.after_change(definitions_changed=view.enabled)
    return MutationResult(integration=_public(state, view), definitions=outcome)


@router.get("/{name}", response_model=IntegrationPublic)
def get_integration(
    name: str, state: StateDep, _: PrincipalDep, response: Response
) -> IntegrationPublic:
    """One integration: settings in clear, secrets only as set / not set."""
    view = state.service.show(name, repairable=True)
    reader = state.status_reader_or_none()
    status_ = reader.statuses([view.integration])[name] if reader else None
    _etag(response, view.version)
    return _public(state, view, status_, open_notifications(state, [name]).get(name))


@router.patch("/{name}", response_model=MutationResult)
def update_integration(
    name: str,
    body: IntegrationUpdate,
    state: StateDep,
    _: PrincipalDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> MutationResult:
    """Change an integration; a stale ``version`` / ``If-Match`` is refused with 409."""
    expected = body.version
    if if_match is not None and if_match.strip() != "*":
        try:
            expected = int(if_match.strip().removeprefix("W/").strip('"'))
        except ValueError:
            raise ConcurrentUpdateError(
                f"If-Match {if_match!r} is not a version this API issued",
                "Send the ETag of your last read.",
            ) from None
    view = state.service.update(
        name,
        body.config,
        streams=_streams(body.streams),
        schedule=body.schedule,
        start_date=body.start_date,
        destination=body.destination,
        description=body.description,
        schema_policy=body.schema_policy,
        message_format=body.message_format,
        expected_version=expected,
    )
    _etag(response, view.version)
    return MutationResult(integration=_public(state, view), definitions=state.after_change())


@router.delete("/{name}", response_model=MutationResult)
def delete_integration(name: str, state: StateDep, _: PrincipalDep) -> MutationResult:
    """Remove the integration and its stored config."""
    state.service.remove(name)
    return MutationResult(definitions=state.after_change())


def _set_enabled(state: PlatformState, name: str, enabled: bool) -> MutationResult:
    view = IntegrationView.of(state.service.set_enabled(name, enabled))
    return MutationResult(integration=_public(state, view), definitions=state.after_change())


@router.post("/{name}/enable", response_model=MutationResult)
def enable_integration(name: str, state: StateDep, _: PrincipalDep) -> MutationResult:
    """Bring back its assets and schedule."""
    return _set_enabled(state, name, True)


@router.post("/{name}/disable", response_model=MutationResult)
def disable_integration(name: str, state: StateDep, _: PrincipalDep) -> MutationResult:
    """Remove its assets and schedule from Dagster; the config is kept."""
    return _set_enabled(state, name, False)


@router.post("/{name}/test", response_model=TestResultPublic)
def test_integration(
    name: str, state: StateDep, _: PrincipalDep, body: ConfigTest | None = None
) -> TestResultPublic:
    """Test the saved integration's connection; with ``config``, test edits before saving
    them (merged as a PATCH would: omitted settings and blank secrets keep their value).
    Nothing is stored."""
    result = state.service.test_connection(name, body.config if body else None)
    return shown_test_result(state, result)


@router.post("/{name}/sync", response_model=LaunchedRun, status_code=status.HTTP_202_ACCEPTED)
def sync_integration(
    name: str, state: StateDep, _: PrincipalDep, body: SyncRequestIn | None = None
) -> LaunchedRun:
    """Launch a sync in Dagster (some streams, optionally a full refresh)."""
    body = body or SyncRequestIn()
    launched = state.service.launch_sync(
        name,
        body.streams,
        full_refresh=body.full_refresh,
        from_date=body.from_date,
        to_date=body.to_date,
    )
    return LaunchedRun(run_id=launched.run_id, url=launched.url)


@router.get("/{name}/runs", response_model=list[RunPublic])
def list_runs(
    name: str,
    state: StateDep,
    _: PrincipalDep,
    limit: int = Query(default=20, ge=1, le=200),
) -> list[RunPublic]:
    """Recent runs with status, duration, row counts and a link to Dagster."""
    state.service.get(name)
    runs = state.status_reader().runs(name, limit)
    progress = _running(state, runs)
    return [_run(r, progress) for r in runs]


@router.get("/{name}/runs/{run_id}/logs", response_model=list[LogLinePublic])
def run_logs(name: str, run_id: str, state: StateDep, _: PrincipalDep) -> list[LogLinePublic]:
    """A run's log, redacted against the integration's secrets."""
    stored = state.service.get(name)
    lines = state.status_reader().run_log(name, run_id)
    if lines is None:
        raise IntegrationNotFoundError(
            f"Integration '{name}' has no run {run_id}", f"List its runs: GET .../{name}/runs."
        )
    # Lines were redacted when the sync wrote them; this is a second net, and the
    # server's folders are not the reader's business.
    redact = state.service.redactor(stored).redact
    scrub = state.paths.scrub
    return [LogLinePublic(**{**line, "message": scrub(redact(line["message"]))}) for line in lines]


@router.get("/{name}/state")
def get_state(name: str, state: StateDep, _: PrincipalDep) -> dict[str, Any]:
    """The integration's incremental bookmarks per stream, and who reset them when."""
    return state.service.state(name)


@router.post("/{name}/reset")
def reset_state(
    name: str, body: StateResetIn, state: StateDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Clear the bookmark of one stream (or all): the next sync re-reads from the start."""
    record = state.service.reset_state(
        name, stream=body.stream, actor=f"api:{principal.name}", confirmed=body.confirm
    )
    state.list_cache.invalidate()
    return record


@router.post("/bulk", response_model=BulkResult)
def bulk_action(body: BulkAction, state: StateDep, _: PrincipalDep) -> BulkResult:
    """Apply one action to several integrations; the outcome is reported per name."""
    results: list[BulkItemResult] = []
    changed = False
    for name in dict.fromkeys(body.names):
        try:
            run_id = None
            if body.action == "enable":
                state.service.set_enabled(name, True)
            elif body.action == "disable":
                state.service.set_enabled(name, False)
            elif body.action == "delete":
                state.service.remove(name)
            else:
                run_id = state.service.launch_sync(name).run_id
            changed = changed or body.action != "sync"
            results.append(BulkItemResult(name=name, ok=True, run_id=run_id))
        except PlatformError as exc:
            results.append(BulkItemResult(name=name, ok=False, error=str(exc)))
    outcome = state.after_change(definitions_changed=changed)
    return BulkResult(results=results, definitions=outcome)
