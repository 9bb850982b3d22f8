"""Discover a source: run its tap's discovery through Meltano and read the catalog.

``meltano invoke --dump=catalog <extractor>`` runs the tap with ``--discover`` in the
environment a sync gets (the config in environment variables only, a per-run system
directory removed afterwards) and prints the Singer catalog. The catalog is parsed into
typed streams (:mod:`integrations_platform.discovery`); a failure gets the same typed
reason, message and hint as a connection test, every string redacted.
"""

import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.catalog.validation import validate_config
from integrations_platform.databases import ensure_schema
from integrations_platform.discovery import Discovery, describe, parse_catalog
from integrations_platform.errors import ConfigurationError, PlatformError, SyncError
from integrations_platform.integration import StreamSelection
from integrations_platform.runner.connection_test.meltano import classify_failure
from integrations_platform.runner.connection_test.result import ConnectionTestResult, _Builder
from integrations_platform.runner.connection_test.salesforce import (
    _test_salesforce,
    salesforce_unqueryable,
)
from integrations_platform.runner.meltano import SyncRequest, env_var, prepare_sync
from integrations_platform.runner.processes import make_sys_dir, run_meltano
from integrations_platform.settings import ENV_MELTANO_DATABASE_URI, Settings

# A large org's discovery describes every object: give it time.
DISCOVERY_TIMEOUT_S = 600.0
_DISCOVERY_ID = "discovery"
_START_DATE = "2000-01-01T00:00:00Z"


@dataclass(frozen=True)
class DiscoveryResult:
    """The outcome (``ok``, typed ``reason``, message, hint; redacted) and, when it
    succeeded, what was discovered."""

    outcome: ConnectionTestResult
    discovery: Discovery | None = None

    @property
    def ok(self) -> bool:
        """Whether the source was discovered."""
        return self.outcome.ok and self.discovery is not None

    def as_dict(self, *, streams: bool = True) -> dict[str, Any]:
        """A JSON-ready copy: the outcome's fields, plus the discovery's when it succeeded."""
        body = self.outcome.as_dict()
        if self.discovery is not None:
            body.update(self.discovery.as_dict(streams=streams))
        return body


def run_discovery(
    connector: ConnectorSpec,
    config: Mapping[str, Any],
    settings: Settings,
    environ: Mapping[str, str],
    *,
    timeout_s: float = DISCOVERY_TIMEOUT_S,
) -> DiscoveryResult:
    """Discover the source ``config`` (decrypted) gives access to.

    Never raises for a problem of the config or the source: an invalid config, a refused
    login, a crashing tap and a timeout are each a failed :class:`DiscoveryResult`.
    """
    started = time.monotonic()
    builder = _Builder(started, connector.secret_values(config))
    try:
        validated = validate_config(connector, config)
    except ConfigurationError as exc:
        return DiscoveryResult(
            builder.fail(
                "configuration",
                f"{exc.reason.rstrip('.')}.",
                exc.instruction,
                {"field_errors": exc.field_errors},
            )
        )
    if connector.connection_test == "salesforce_oauth":
        # The native login first: a refused or unreachable login fails in a second,
        # where the tap would retry with backoff before it gives up.
        login = _test_salesforce(connector, validated, environ, min(timeout_s, 30.0), builder)
        if not login.ok:
            return DiscoveryResult(login)
    request = SyncRequest(
        integration=_DISCOVERY_ID,
        state_id=_DISCOVERY_ID,
        connector=connector,
        config=validated,
        start_date=_START_DATE,
        destination=None,  # `invoke` runs the extractor alone
        streams=[StreamSelection("*")],
    )
    ensure_schema(settings.meltano_database_uri, variable=ENV_MELTANO_DATABASE_URI)
    sys_dir = make_sys_dir(settings)
    try:
        try:
            prepared = prepare_sync(request, settings, environ, sys_dir)
        except PlatformError as exc:
            return DiscoveryResult(builder.fail("configuration", exc.reason, exc.instruction))
        builder.others.append(prepared.redactor)
        env = dict(prepared.env)
        # The catalog as the tap describes it, without a selection applied over it.
        for setting in ("_select", "_metadata"):
            env.pop(env_var(prepared.extractor, setting), None)
        args = [prepared.args[0], "invoke", "--dump=catalog", prepared.extractor]
        details: dict[str, Any] = {
            "extractor": prepared.extractor,
            "command": f"meltano invoke --dump=catalog {prepared.extractor}",
        }
        try:
            finished = run_meltano(args, settings, env, timeout_s, separate_stderr=True)
        except SyncError as exc:
            return DiscoveryResult(builder.fail("connector", f"{exc.reason}.", exc.instruction))
    finally:
        shutil.rmtree(sys_dir, ignore_errors=True)
    details["exit_code"] = finished.returncode
    if finished.timed_out or finished.returncode != 0:
        return DiscoveryResult(
            classify_failure(
                connector,
                finished.stderr,
                finished.timed_out,
                finished.returncode,
                timeout_s,
                builder,
                details,
                action="discovery",
            )
        )
    result = _parsed(connector, finished.stdout, started, builder, details)
    if result.discovery is not None and connector.connection_test == "salesforce_oauth":
        result = _without_unqueryable(connector, validated, environ, result)
    return result


def _without_unqueryable(
    connector: ConnectorSpec,
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    result: DiscoveryResult,
) -> DiscoveryResult:
    """Salesforce: the tap describes every object; leave out those the API cannot query."""
    found = result.discovery
    assert found is not None
    unqueryable = salesforce_unqueryable(connector, config, environ)
    if not unqueryable:
        return result
    catalog = {
        **found.catalog,
        "streams": [
            e
            for e in found.catalog.get("streams") or ()
            if (e.get("tap_stream_id") or e.get("stream")) not in unqueryable
        ],
    }
    streams = tuple(s for s in found.streams if s.name not in unqueryable)
    message = result.outcome.message.replace(describe(found.streams), describe(streams))
    outcome = replace(
        result.outcome,
        message=message,
        details={**result.outcome.details, "not_queryable": sorted(unqueryable)},
    )
    return DiscoveryResult(outcome, replace(found, streams=streams, catalog=catalog))


def _parsed(
    connector: ConnectorSpec,
    text: str,
    started: float,
    builder: _Builder,
    details: dict[str, Any],
) -> DiscoveryResult:
    # A catalog holds names and types; one that contains a secret is not stored.
    if builder.redact(text) != text:
        return DiscoveryResult(
            builder.fail(
                "connector",
                f"The {connector.label} extractor printed a config value in its catalog.",
                "The catalog was not kept. Report this to the extractor's maintainers.",
                details,
            )
        )
    try:
        catalog = json.loads(text)
        streams = parse_catalog(catalog)
    except (ValueError, ConfigurationError) as exc:
        reason = exc.reason if isinstance(exc, ConfigurationError) else f"invalid JSON ({exc})"
        return DiscoveryResult(
            builder.fail(
                "connector",
                f"The {connector.label} extractor's discovery did not give a usable "
                f"catalog: {reason}.",
                f"See the {connector.label} documentation ({connector.docs_url}).",
                details,
            )
        )
    duration = time.monotonic() - started
    discovery = Discovery(
        streams=streams,
        discovered_at=datetime.now(UTC),
        duration_s=duration,
        catalog=catalog,
    )
    outcome = builder.done(
        True, "ok", f"Discovered {describe(streams)} in {connector.label}.", "", details
    )
    return DiscoveryResult(outcome, discovery)
