"""A cheap look at the source's schema of the selected streams, before each sync.

A full discovery describes the whole source (every object of a Salesforce org, every
table of a database) and costs a tap process; a sync only needs to know whether its own
streams changed. Each probe asks the source directly, in the source's own type names:

- ``salesforce_describe``: the describe of each selected object (one request each, a
  few at a time);
- ``postgres_catalog``: one query of ``information_schema`` for every selected table.

A probe returns ``{stream: {column: type}}`` (None for a stream the source no longer
has); a difference from the last probe's snapshot makes the sync run a full discovery,
whose catalog is what the changes are computed from. A probe that cannot run returns
None: the sync goes on and reports nothing (the sync itself will say what is wrong).
"""

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.catalog.validation import effective_config
from integrations_platform.runner.connection_test.salesforce import (
    _HEADERS,
    SALESFORCE_API_VERSION,
    _json,
    _token_request,
    salesforce_login_url,
)

logger = logging.getLogger(__name__)

Probe = dict[str, dict[str, str] | None]
PROBE_TIMEOUT_S = 30.0
# Describes in flight at once (Salesforce allows 25 concurrent long requests per org).
DESCRIBE_CONCURRENCY = 8


def probe_schema(
    connector: ConnectorSpec,
    config: Mapping[str, Any],
    streams: Sequence[str],
    environ: Mapping[str, str],
    timeout_s: float = PROBE_TIMEOUT_S,
) -> Probe | None:
    """The selected streams' columns as the source describes them now, or None when
    the connector has no cheap probe or the probe could not run."""
    values = effective_config(connector, config)
    try:
        if connector.schema_probe == "salesforce_describe":
            return _salesforce(values, streams, environ, timeout_s)
        if connector.schema_probe == "postgres_catalog":
            return _postgres(values, streams, timeout_s)
    except (httpx.HTTPError, sa.exc.SQLAlchemyError, OSError) as exc:
        # Never the config: only the kind of failure.
        logger.warning("schema probe of %s failed: %s", connector.label, type(exc).__name__)
    return None


def _salesforce(
    values: Mapping[str, Any], streams: Sequence[str], environ: Mapping[str, str], timeout_s: float
) -> Probe | None:
    login_url = salesforce_login_url(values, environ)
    with httpx.Client(headers=_HEADERS, timeout=timeout_s) as client:
        login = _token_request(client, f"{login_url}/services/oauth2/token", values, timeout_s)
        token = _json(login) if login.status_code == 200 else None
        if not isinstance(token, dict) or not isinstance(token.get("instance_url"), str):
            return None
        base = f"{token['instance_url'].rstrip('/')}/services/data/v{SALESFORCE_API_VERSION}"
        auth = {"Authorization": f"Bearer {token.get('access_token', '')}"}

        def describe(name: str) -> httpx.Response:
            return client.get(f"{base}/sobjects/{quote(name, safe='')}/describe", headers=auth)

        # A few describes at a time: each is one round trip to the org.
        with ThreadPoolExecutor(max_workers=min(DESCRIBE_CONCURRENCY, len(streams) or 1)) as pool:
            responses = dict(zip(streams, pool.map(describe, streams), strict=True))
        found: Probe = {}
        for name, response in responses.items():
            if response.status_code == 404:
                found[name] = None
                continue
            payload = _json(response) if response.status_code == 200 else None
            if not isinstance(payload, dict) or not isinstance(payload.get("fields"), list):
                return None
            found[name] = {
                str(f.get("name")): str(f.get("type"))
                for f in payload["fields"]
                if isinstance(f, dict) and f.get("name")
            }
        return found


_CATALOG_QUERY = sa.text(
    """
    SELECT c.table_schema || '-' || c.table_name AS stream, c.column_name,
           c.data_type || CASE WHEN k.column_name IS NULL THEN '' ELSE ' key' END
    FROM information_schema.columns c
    LEFT JOIN (
        SELECT u.table_schema, u.table_name, u.column_name
        FROM information_schema.table_constraints t
        JOIN information_schema.key_column_usage u
          ON u.constraint_name = t.constraint_name AND u.table_schema = t.table_schema
         AND u.table_name = t.table_name
        WHERE t.constraint_type = 'PRIMARY KEY'
    ) k ON k.table_schema = c.table_schema AND k.table_name = c.table_name
       AND k.column_name = c.column_name
    WHERE c.table_schema || '-' || c.table_name = ANY(:streams)
    ORDER BY stream, c.ordinal_position
    """
)


def _postgres(values: Mapping[str, Any], streams: Sequence[str], timeout_s: float) -> Probe:
    url = URL.create(
        "postgresql+psycopg2",
        username=str(values.get("user") or ""),
        password=str(values.get("password") or "") or None,
        host=str(values.get("host") or ""),
        port=int(values.get("port") or 5432),
        database=str(values.get("database") or ""),
    )
    engine = sa.create_engine(
        url, poolclass=NullPool, connect_args={"connect_timeout": max(int(timeout_s), 1)}
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(_CATALOG_QUERY, {"streams": list(streams)}).fetchall()
    finally:
        engine.dispose()
    found: Probe = {name: None for name in streams}
    for stream, column, kind in rows:
        columns = found.get(stream) or {}
        columns[str(column)] = str(kind)
        found[stream] = columns
    return found
