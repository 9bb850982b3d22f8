"""One vocabulary for why something failed: connection tests and sync notifications.

A connection test's ``reason`` and a run-failure notification's ``category`` are the
same words, found by the same rules (:func:`classify_text`) in the redacted text of the
failure, so that "the test failed with *authentication*" and "the sync failed with
*authentication*" mean the same thing and ask for the same fix.

Rules, first match wins (each searched in the lower-cased text):

1. **rate_limit** — ``REQUEST_LIMIT_EXCEEDED``, "rate limit", HTTP 429, "quota".
2. **authentication** — rejected credentials: ``invalid_grant``, HTTP 401, "password
   authentication failed", …
3. **configuration** — a setting is wrong, or the stored config cannot be read: a
   database that does not exist, a config that fails validation, a lost key.
4. **network** — connection refused, DNS failure, connection timeouts.
5. **permission** — the user may not read what is synced: permission denied,
   ``INSUFFICIENT_ACCESS``, ``API_DISABLED_FOR_ORG``, HTTP 403.
6. **source** — a table, object, column or stream that no longer exists.
7. **connector** — anything else: the connector crashed.

Two causes are never found in text: **timeout** (a connection test that did not finish
in its time) and **destination** (the loader failed, told by who failed, not by what was
said).
"""

import re
from typing import Literal

FailureCategory = Literal[
    "authentication",
    "configuration",
    "network",
    "timeout",
    "permission",
    "rate_limit",
    "source",
    "destination",
    "connector",
]

CATEGORY_LABELS: dict[str, str] = {
    "authentication": "authentication",
    "configuration": "configuration",
    "network": "network",
    "timeout": "timeout",
    "permission": "permission",
    "rate_limit": "rate limit or quota",
    "source": "source schema",
    "destination": "destination",
    "connector": "connector crash",
}

RULES: tuple[tuple[FailureCategory, re.Pattern[str]], ...] = (
    (
        "rate_limit",
        re.compile(
            r"request_limit_exceeded|rate.?limit|too many requests|\b429\b|\bquota\b"
            r"|api limit|totalrequests limit exceeded"
        ),
    ),
    (
        "authentication",
        re.compile(
            r"invalid_grant|invalid_client|invalid_session_id|\b401\b|unauthori[sz]ed"
            r"|password authentication failed|\bauthentication\b|login failed"
            r'|role ".*" does not exist|invalid credentials|access denied for user'
        ),
    ),
    (
        "configuration",
        re.compile(
            r"cannot be decrypted|cannot decrypt|encryption key|encryption_keys"
            r"|config validation|is a required property|invalid configuration"
            r"|configurationerror|must include host, database, username"
            r'|database ".*" does not exist|unknown database|no such file or directory'
        ),
    ),
    (
        "network",
        re.compile(
            r"connection refused|could not connect|could not translate host name"
            r"|name or service not known|temporary failure in name resolution|timed out"
            r"|timeout expired|no route to host|network is unreachable|connection reset"
            r"|server closed the connection unexpectedly|max retries exceeded"
            r"|failed to establish a new connection"
        ),
    ),
    (
        "permission",
        re.compile(
            r"permission denied|insufficient_access|insufficient privilege"
            r"|api_disabled_for_org|\b403\b|forbidden"
        ),
    ),
    (
        "source",
        re.compile(
            r"does not exist|was not found in the catalog|undefinedtable|undefinedcolumn"
            r"|no such table|no such column|invalid_type|invalid_field|not supported"
        ),
    ),
)


def classify_text(*texts: str) -> FailureCategory:
    """The category of a failure from its key lines (the first rule any line matches).

    >>> classify_text("400 Client Error: {'error': 'invalid_grant'}")
    'authentication'
    >>> classify_text("KeyError: 'properties'")
    'connector'
    """
    lowered = [text.lower() for text in texts]
    for category, pattern in RULES:
        if any(pattern.search(text) for text in lowered):
            return category
    return "connector"
