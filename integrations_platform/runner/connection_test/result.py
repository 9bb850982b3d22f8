"""What a connection test found, and the builder that keeps every string of it redacted."""

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from integrations_platform.errors import ConfigurationError
from integrations_platform.failures import FailureCategory
from integrations_platform.runner.redaction import Redactor

# "ok", or why the test failed, in the words sync notifications use too (failures.py).
Reason = Literal["ok"] | FailureCategory


@dataclass(frozen=True)
class ConnectionTestResult:
    """What a connection test found. Every string is redacted."""

    ok: bool
    reason: Reason
    message: str  # what happened, in one or two sentences
    hint: str  # what to do about it ("" when ok)
    duration_s: float
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "message": self.message,
            "hint": self.hint,
            "duration_s": round(self.duration_s, 3),
            "details": copy.deepcopy(self.details),
        }


class _Builder:
    """Builds redacted results; learns secrets (the access token) on the way."""

    def __init__(self, started: float, secrets: list[str]) -> None:
        self.started = started
        self.secrets = list(secrets)
        self.redactor = Redactor(self.secrets)
        self.others: list[Redactor] = []

    def add_secret(self, value: str) -> None:
        # One redactor for all, so that the longest value is masked first.
        self.secrets.append(value)
        self.redactor = Redactor(self.secrets)

    def redact(self, text: str) -> str:
        text = self.redactor.redact(text)
        for other in self.others:
            text = other.redact(text)
        return text

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {str(k): self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._clean(v) for v in value]
        return value

    def done(
        self, ok: bool, reason: Reason, message: str, hint: str, details: Mapping[str, Any]
    ) -> ConnectionTestResult:
        return ConnectionTestResult(
            ok=ok,
            reason=reason,
            message=self.redact(message),
            hint=self.redact(hint),
            duration_s=time.monotonic() - self.started,
            details=self._clean(dict(details)),
        )

    def fail(
        self, reason: Reason, message: str, hint: str, details: Mapping[str, Any] | None = None
    ) -> ConnectionTestResult:
        return self.done(False, reason, message, hint, details or {})

    def invalid(self, error: ConfigurationError) -> ConnectionTestResult:
        """The result of a config that does not validate: each field's problem."""
        return self.fail(
            "configuration",
            f"{error.reason.rstrip('.')}.",
            error.instruction,
            {"field_errors": error.field_errors},
        )
