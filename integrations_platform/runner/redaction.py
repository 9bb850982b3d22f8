"""Redact secret values from any text that leaves a sync: log lines, errors, metadata."""

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "********"


class Redactor:
    """Replaces every occurrence of the given secret values with ``********``.

    Besides the raw value it masks the forms a value takes in logs: URL-encoded (form
    bodies, URLs) and JSON-escaped (JSON log lines, reprs).

    >>> Redactor(["s3cr=t"]).redact("body client_secret=s3cr%3Dt and 's3cr=t'")
    "body client_secret=******** and '********'"
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            forms.update(
                {
                    secret,
                    quote(secret, safe=""),
                    quote_plus(secret, safe=""),
                    json.dumps(secret)[1:-1],
                    json.dumps(json.dumps(secret)[1:-1])[1:-1],
                }
            )
        forms.discard("")
        self._pattern = (
            re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))
            if forms
            else None
        )

    def redact(self, text: str) -> str:
        """``text`` with every secret masked."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def __bool__(self) -> bool:
        return self._pattern is not None
