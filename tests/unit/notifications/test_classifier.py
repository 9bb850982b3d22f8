# ruff: noqa: E501  (real error lines are long)
"""The classifier on the error texts real failed syncs produce (shortened)."""

import pytest

from integrations_platform.notifications.classifier import (
    CATEGORY_LABELS,
    classify_failure,
    suggested_action,
)

SF = "tap-salesforce-sandbox"
AUTH = f"""Meltano exited with 1.
Errors:
[{SF}] CRITICAL 400 Client Error: Bad Request for url: http://127.0.0.1:1/services/oauth2/token, Response from Salesforce: {{"error": "invalid_grant", "error_description": "expired access/refresh token"}}
[meltano] ELT could not be completed: Cannot start extractor: Catalog discovery failed: command ['tap', '--discover'] returned 1 with stderr:
 INFO Attempting login via OAuth2
Last lines:
[{SF}]   File "/x/tap_salesforce/salesforce/__init__.py", line 381, in login
[{SF}]     raise Exception(error_message) from e
[{SF}] Exception: 400 Client Error: Bad Request for url: http://127.0.0.1:1/services/oauth2/token, Response from Salesforce: {{"error": "invalid_grant"}}
"""
BARE_403 = f"""Meltano exited with 1.
Errors:
[{SF}] CRITICAL 403 Client Error: Forbidden for url: http://127.0.0.1:1/services/data/v61.0/sobjects
[meltano] ELT could not be completed: Cannot start extractor: Catalog discovery failed
Last lines:
[{SF}] requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: http://127.0.0.1:1/services/data/v61.0/sobjects
"""
QUOTA = f"""Meltano exited with 1.
Errors:
[{SF}] CRITICAL 403 Client Error: Forbidden for url: http://127.0.0.1:1/services/data/v61.0/queryAll?q=SELECT Response: [{{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}}], (Stream: Account)
[meltano] Extraction failed
Last lines:
[target-jsonl] WARNING Unknown message type ACTIVATE_VERSION
[meltano] ELT could not be completed: Extractor failed.
"""
PERMISSION = f"""Meltano exited with 1.
Errors:
[{SF}] CRITICAL 403 Client Error: Forbidden for url: http://h/services/data/v61.0/queryAll Response: [{{"message": "insufficient access rights on object id", "errorCode": "INSUFFICIENT_ACCESS"}}]
[meltano] Extraction failed
"""
DESTINATION = """Meltano exited with 1.
Errors:
[meltano] Loading failed
[meltano] ELT could not be completed: Loader failed.
Last lines:
[target-postgres]   File "/x/psycopg/connection.py", line 126, in connect
[target-postgres]     raise last_ex.with_traceback(None)
[target-postgres] sqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection failed: connection to server at "127.0.0.1", port 5999 failed: Connection refused
[target-postgres] \tIs the server running on that host and accepting TCP/IP connections?
[meltano] Loading failed
[meltano] ELT could not be completed: Loader failed.
For more detailed log messages re-run the command using 'meltano --log-level=debug ...' CLI flag.
"""
SOURCE_NETWORK = """Meltano exited with 1.
Errors:
[tap-postgres] sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not translate host name "db.nowhere" to address
[meltano] Extraction failed
"""
DROPPED = """Meltano exited with 1.
Errors:
[tap-postgres] psycopg2.errors.UndefinedTable: relation "public.orders" does not exist
[meltano] Extraction failed
"""
CRASH = """Meltano exited with 1.
Errors:
[tap-postgres] KeyError: 'properties'
[meltano] Extraction failed
"""
DECRYPT = (
    "The config of integration 'crm' cannot be decrypted with the 1 key(s) in "
    "INTEGRATIONS_ENCRYPTION_KEYS. Set INTEGRATIONS_ENCRYPTION_KEYS to include the key."
)


@pytest.mark.parametrize(
    ("text", "category", "key"),
    [
        (AUTH, "authentication", "invalid_grant"),
        (BARE_403, "rate_limit", "403 Client Error: Forbidden"),
        (QUOTA, "rate_limit", "REQUEST_LIMIT_EXCEEDED"),
        (PERMISSION, "permission", "INSUFFICIENT_ACCESS"),
        (DESTINATION, "destination", "Connection refused"),
        (SOURCE_NETWORK, "network", "could not translate host name"),
        (DROPPED, "source", 'relation "public.orders" does not exist'),
        (CRASH, "connector", "KeyError: 'properties'"),
        (DECRYPT, "configuration", "cannot be decrypted"),
    ],
)
def test_each_real_failure_gets_its_category_and_key_line(text, category, key):
    result = classify_failure(text)
    assert result.category == category
    assert key in result.summary
    assert 'File "' not in result.tail and "raise " not in result.tail  # no frames


def test_the_plugin_error_line_wins_over_meltanos_wrapper():
    summary = classify_failure(AUTH).summary
    assert summary.startswith(f"[{SF}] 400 Client Error")
    assert "Catalog discovery failed" not in summary


def test_the_destination_key_line_is_the_loaders_exception():
    result = classify_failure(DESTINATION)
    assert result.summary.startswith("[target-postgres] sqlalchemy.exc.OperationalError")
    assert "re-run the command" not in result.tail  # Meltano's boilerplate is dropped


def test_a_network_error_in_the_loader_is_a_destination_problem():
    text = SOURCE_NETWORK.replace("[tap-postgres]", "[target-postgres]").replace(
        "Extraction failed", "Loading failed"
    )
    assert classify_failure(text).category == "destination"


def test_an_empty_text_is_a_connector_crash_with_a_message():
    result = classify_failure("")
    assert result.category == "connector" and result.summary


def test_every_category_has_a_label_and_an_actionable_suggestion():
    for category in CATEGORY_LABELS:
        action = suggested_action(category, "crm", "http://api/#/integrations/crm")
        assert len(action) > 60, category
    assert "http://api/#/integrations/crm" in suggested_action(
        "authentication", "crm", "http://api/#/integrations/crm"
    )
    assert "REQUEST_LIMIT_EXCEEDED" in suggested_action("rate_limit", "crm", "u")
    assert "INTEGRATIONS_WAREHOUSE_URL" in suggested_action("destination", "crm", "u")
