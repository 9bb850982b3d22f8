"""Test a connector config without syncing: can the platform log in and read?

Two strategies, chosen per connector by ``ConnectorSpec.connection_test``:

``salesforce_oauth``
    Native and fast (two HTTP requests): the OAuth refresh-token login, then
    ``GET /services/data/v61.0/limits`` with the new access token, which also tells how
    much of the org's daily API allowance is left.

``meltano``
    Generic: ``meltano config test <extractor>`` with the same environment a sync gets
    (see :func:`~integrations_platform.runner.meltano.prepare_sync`). Meltano runs the
    tap's discovery, then the tap itself until its first record. The output is redacted,
    then classified into a :data:`Reason`.

Every string of a result (message, hint, details) goes through a
:class:`~integrations_platform.runner.redaction.Redactor` built from the config's secret
values (and, for Salesforce, the access token), so a result can be shown and stored.
"""

import time
from collections.abc import Mapping
from typing import Any

from integrations_platform.catalog import ConnectorSpec
from integrations_platform.catalog.validation import validate_config
from integrations_platform.errors import ConfigurationError
from integrations_platform.runner.connection_test.meltano import _test_meltano
from integrations_platform.runner.connection_test.result import (
    ConnectionTestResult,
    Reason,
    _Builder,
)
from integrations_platform.runner.connection_test.salesforce import (
    LOGIN_URL_ENV,
    _test_salesforce,
    salesforce_login_url,
)
from integrations_platform.settings import Settings

__all__ = [
    "LOGIN_URL_ENV",
    "ConnectionTestResult",
    "Reason",
    "salesforce_login_url",
    "test_connection",
]


def test_connection(
    connector: ConnectorSpec,
    config: Mapping[str, Any],
    settings: Settings,
    environ: Mapping[str, str],
    *,
    timeout_s: float = 30.0,
) -> ConnectionTestResult:
    """Check that ``config`` (decrypted) lets the platform log in to ``connector``'s source.

    Never raises for a problem of the config or the source: every outcome, including an
    invalid config and a timeout, is a :class:`ConnectionTestResult`.
    """
    started = time.monotonic()
    result = _Builder(started, connector.secret_values(config))
    try:
        validated = validate_config(connector, config)
    except ConfigurationError as exc:
        return result.invalid(exc)
    if connector.connection_test == "salesforce_oauth":
        return _test_salesforce(connector, validated, environ, timeout_s, result)
    return _test_meltano(connector, validated, settings, environ, timeout_s, result)


# Not a test function, whatever its name says.
test_connection.__test__ = False  # type: ignore[attr-defined]
