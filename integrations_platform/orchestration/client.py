"""Talks to a running Dagster webserver over its GraphQL API: reload the code location,
launch syncs. Used by the API and the CLI; never by the definitions themselves."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from integrations_platform.errors import PlatformError
from integrations_platform.orchestration.constants import ASSET_JOB
from integrations_platform.settings import ENV_DAGSTER_URL

LOCATION_NAME = "integrations"
REPOSITORY_NAME = "__repository__"

_RELOAD = """
mutation Reload($location: String!) {
  reloadRepositoryLocation(repositoryLocationName: $location) {
    __typename
    ... on WorkspaceLocationEntry { locationOrLoadError { __typename
      ... on PythonError { message } } }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
    ... on ReloadNotSupported { message }
    ... on RepositoryLocationNotFound { message }
  }
}"""

_WORKSPACE = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name loadStatus
      locationOrLoadError { __typename ... on PythonError { message } } } } } }"""

_LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
    ... on RunConflict { message }
    ... on UnauthorizedError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidOutputError { stepKey }
    ... on InvalidStepError { invalidStepKey }
    ... on PresetNotFoundError { message }
    ... on ConflictingExecutionParamsError { message }
    ... on NoModeProvidedError { message }
  }
}"""


class DagsterUnavailableError(PlatformError):
    """The Dagster webserver cannot be reached, or refused the request."""


@dataclass(frozen=True)
class DagsterClient:
    """A small GraphQL client for the webserver at ``url``."""

    url: str
    timeout_s: float = 30.0

    def _call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = httpx.post(
                f"{self.url}/graphql",
                json={"query": query, "variables": variables},
                timeout=self.timeout_s,
            )
            reply.raise_for_status()
            body = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DagsterUnavailableError(
                f"Dagster at {self.url} cannot be reached ({type(exc).__name__})",
                f"Start it (`integrations up`) or set {ENV_DAGSTER_URL}.",
            ) from None
        if body.get("errors"):
            raise DagsterUnavailableError(
                f"Dagster refused the request: {body['errors'][0].get('message', '')}",
                "Check the Dagster webserver's version and logs.",
            )
        data: dict[str, Any] = body["data"]
        return data

    def location_loaded(self) -> bool:
        """Whether the ``integrations`` code location has finished loading (False while
        it loads; an error if it failed to load or is missing)."""
        workspace = self._call(_WORKSPACE, {})["workspaceOrError"]
        entries = {e["name"]: e for e in workspace.get("locationEntries", [])}
        entry = entries.get(LOCATION_NAME)
        if entry is None:
            raise DagsterUnavailableError(
                f"Dagster at {self.url} has no '{LOCATION_NAME}' code location",
                "Start Dagster with the project's workspace.yaml.",
            )
        loaded = _raise_load_error(entry.get("locationOrLoadError"))
        return bool(entry["loadStatus"] == "LOADED" and loaded)

    def reload(self) -> None:
        """Reload the ``integrations`` code location so definitions follow the store."""
        result = self._call(_RELOAD, {"location": LOCATION_NAME})["reloadRepositoryLocation"]
        if result["__typename"] != "WorkspaceLocationEntry":
            raise DagsterUnavailableError(
                f"Dagster did not reload the code location: {result.get('message', '')}",
                "Check the code location in the Dagster UI (Deployment).",
            )
        _raise_load_error(result.get("locationOrLoadError"))

    def launch_sync(
        self,
        integration: str,
        asset_keys: Sequence[Sequence[str]] | None = None,
        *,
        full_refresh: bool = False,
        partition_range: tuple[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        """Launch a sync of ``integration``'s assets (some, by key path; default: its
        whole sync step), incrementally or over a partition range as one run; returns the
        run id.

        Like Dagster's own Materialize button, it runs the implicit asset job on the
        selected assets (the platform defines no job per integration: see
        definitions.py)."""
        selector: dict[str, Any] = {
            "repositoryLocationName": LOCATION_NAME,
            "repositoryName": REPOSITORY_NAME,
            "jobName": ASSET_JOB,
        }
        if asset_keys:
            selector["assetSelection"] = [{"path": list(path)} for path in asset_keys]
        else:
            selector["solidSelection"] = [f"{integration}_sync"]
        run_tags = {"integration": integration, **(tags or {})}
        if partition_range is not None:
            run_tags["dagster/asset_partition_range_start"] = partition_range[0]
            run_tags["dagster/asset_partition_range_end"] = partition_range[1]
        params = {
            "selector": selector,
            "runConfigData": {
                "ops": {f"{integration}_sync": {"config": {"full_refresh": full_refresh}}}
            },
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in run_tags.items()]},
        }
        result = self._call(_LAUNCH, {"params": params})["launchRun"]
        if result["__typename"] == "LaunchRunSuccess":
            return str(result["run"]["runId"])
        if result["__typename"] in ("PipelineNotFoundError", "InvalidSubsetError"):
            raise PlatformError(
                f"Dagster has no assets for '{integration}' ({result.get('message', '')[:300]})",
                "Enable the integration, and reload the code location if it was just added.",
            )
        detail = result.get("message") or result.get("errors") or result["__typename"]
        raise PlatformError(f"Dagster refused to launch the sync: {detail}", "See the Dagster UI.")


def _raise_load_error(loaded: dict[str, Any] | None) -> dict[str, Any]:
    """The code location's load result; an error when it failed to load."""
    loaded = loaded or {}
    if loaded.get("__typename") == "PythonError":
        raise DagsterUnavailableError(
            f"The code location failed to load: {loaded.get('message', '')[:500]}",
            "Open Deployment in the Dagster UI for the full error.",
        )
    return loaded
