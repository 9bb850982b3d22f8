"""What the doctor reports: one result per check, and the whole report."""

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    status: Status
    found: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        """The check as JSON-ready data."""
        return {"name": self.name, "status": self.status, "found": self.found, "fix": self.fix}

    def format(self) -> str:
        """One line: status, name, what was found, and the fix when there is one."""
        label = "FAIL" if self.status == "fail" else self.status
        line = f"{label:<5} {self.name:<17} {self.found}"
        return f"{line} Fix: {self.fix}" if self.fix else line


@dataclass(frozen=True)
class DoctorReport:
    """Every check's outcome, in the order they ran."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """No check failed (warnings allowed)."""
        return all(c.status != "fail" for c in self.checks)

    def count(self, status: Status) -> int:
        """How many checks ended with ``status``."""
        return sum(1 for c in self.checks if c.status == status)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {"ok": self.ok, "checks": [c.as_dict() for c in self.checks]}
