"""Classify a failed sync from its (already redacted) error text.

The text is what the run's step failure carries: for a sync, the description of the
``dagster.Failure`` that :class:`~integrations_platform.orchestration.resources.MeltanoResource`
raises (``Errors:`` — the error lines Meltano and the plugins logged — then ``Last
lines:``, the tail of the log), each line prefixed with ``[source]`` (``meltano``, the
tap, the target). For any other failure it is the innermost exception message.

The category is one of the words connection tests use (:mod:`integrations_platform.failures`,
which holds the rules), with two things only a sync can tell:

- **destination** — the loader failed (a ``[target-…]`` exception, or Meltano's "Loader
  failed") and the extractor did not: the warehouse is unreachable, refuses the login or
  the write. Whatever the cause, the fix is on the destination side.
- A *bare* HTTP 403 from Salesforce's data API (``…/services/data/…`` with no error code)
  is **rate_limit**, not permission: tap-salesforce drops the response body when
  discovery fails, and a 403 there is, on a login that just succeeded, Salesforce's
  answer to an exhausted daily API allowance (``REQUEST_LIMIT_EXCEEDED``) or, less
  often, to a user without API access — the suggested action names both.
"""

import re
from dataclasses import dataclass

from integrations_platform.failures import CATEGORY_LABELS, FailureCategory, classify_text

MAX_MESSAGE = 4000
TAIL_LINES = 20

_PREFIX = re.compile(r"^\[(?P<source>[\w.-]+)\]\s?(?P<text>.*)$")
_LEVEL = re.compile(r"^(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b[\s:]*")
_FRAME = re.compile(r'^\s*File ".*", line \d+')
_CARETS = re.compile(r"^\s*[\^~]+\s*$")
_INDENTED = re.compile(r"^ {2,}\S")
_BOILERPLATE = re.compile(
    r"^(?:For more detailed log messages re-run"
    r"|Note that you can also check the generated log file"
    r"|For more information on debugging"
    r"|Need help fixing this problem\?"
    r"|Traceback \(most recent call last\):"
    r"|The above exception was the direct cause"
    r"|During handling of the above exception"
    r"|\(Background on this error at:"
    r"|\.$)"
)
_EXCEPTION = re.compile(
    r"^(?:Exception|Error)\b"
    r"|^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit|Failure|Fault)\b:?"
    r"|^(?:[a-z_]\w*\.)+[A-Z]\w*: "
)

_DESTINATION = re.compile(r"loader failed|loading failed")
_EXTRACTOR_FAILED = re.compile(r"extractor failed|extraction failed|cannot start extractor")
# Salesforce's data API refusing with 403 and no error code (the body was dropped).
_BARE_SALESFORCE_403 = re.compile(r"403 client error: forbidden for url: \S*/services/data/")


@dataclass(frozen=True)
class ErrorLine:
    """One line of the failure: who said it, and what."""

    source: str
    text: str

    @property
    def from_loader(self) -> bool:
        """Whether a target (the destination's loader) said it."""
        return self.source.startswith("target-")

    @property
    def exception(self) -> bool:
        """Whether the line names an exception (``ValueError: …``)."""
        return bool(_EXCEPTION.match(self.text))


@dataclass(frozen=True)
class Classification:
    """What kind of failure it was, its key line, and the cleaned tail of the error."""

    category: FailureCategory
    summary: str
    tail: str

    @property
    def label(self) -> str:
        """Human wording of the category."""
        return CATEGORY_LABELS[self.category]


def _informative(text: str) -> bool:
    stripped = text.strip()
    return bool(
        stripped
        and not _FRAME.match(stripped)
        and not _CARETS.match(stripped)
        and not _BOILERPLATE.match(stripped)
    )


def _lines(block: str) -> list[ErrorLine]:
    """Lines of a block; unprefixed lines continue the previous source."""
    lines: list[ErrorLine] = []
    source = "platform"
    for raw in block.splitlines():
        found = _PREFIX.match(raw)
        if found:
            source, text = found["source"], found["text"]
        else:
            text = raw
        if _FRAME.match(text):
            continue
        if _INDENTED.match(text):
            continue  # the source line under a traceback frame
        text = _LEVEL.sub("", text.strip())
        if _informative(text):
            lines.append(ErrorLine(source, text))
    return lines


def split_failure(text: str) -> tuple[list[ErrorLine], list[ErrorLine]]:
    """``(errors, tail)`` of a sync failure's description (see the module docstring)."""
    head, _, last = text.partition("\nLast lines:\n")
    _, found, errors = head.partition("\nErrors:\n")
    if not found:
        errors = head
    return _lines(errors), _lines(last)


def _key_line(errors: list[ErrorLine], tail: list[ErrorLine], destination: bool) -> str:
    def on_side(line: ErrorLine) -> bool:
        return line.from_loader == destination and line.source not in ("meltano", "platform")

    for pool in (
        [ln for ln in errors if on_side(ln)],
        [ln for ln in reversed(tail) if on_side(ln) and ln.exception],
        [ln for ln in errors if ln.source != "meltano"],
        errors,
        [ln for ln in reversed(tail) if ln.exception],
        tail,
    ):
        if pool:
            line = pool[0]
            prefix = "" if line.source in ("platform", "meltano") else f"[{line.source}] "
            return _shorten(prefix + line.text, 600)
    return "The run failed without an error message."


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def classify_failure(text: str) -> Classification:
    """Classify a failure from its redacted error text.

    >>> classify_failure("Errors:\\n[tap-x] CRITICAL invalid_grant").category
    'authentication'
    """
    errors, tail = split_failure(text or "")
    everything = errors + tail
    lowered_meltano = " ".join(ln.text.lower() for ln in everything if ln.source == "meltano")
    loader_failed = any(ln.from_loader and (ln.exception) for ln in everything) or bool(
        _DESTINATION.search(lowered_meltano)
    )
    destination = loader_failed and not _EXTRACTOR_FAILED.search(lowered_meltano)
    summary = _key_line(errors, tail, destination)
    tail_text = "\n".join(
        (ln.text if ln.source == "platform" else f"[{ln.source}] {ln.text}")
        for ln in (tail or errors)[-TAIL_LINES:]
    )
    tail_text = _shorten(tail_text, MAX_MESSAGE)
    if destination:
        return Classification("destination", summary, tail_text)
    searched = " \n".join(ln.text.lower() for ln in errors + [ln for ln in tail if ln.exception])
    searched = searched or (text or "").lower()
    category = classify_text(searched)
    if (
        category == "permission"
        and _BARE_SALESFORCE_403.search(searched)
        and "errorcode" not in searched
    ):
        category = "rate_limit"
    return Classification(category, summary, tail_text)


def suggested_action(category: FailureCategory, integration: str, settings_url: str) -> str:
    """What to do about a failure of ``category`` (one or two sentences)."""
    actions = {
        "authentication": (
            f"Re-enter the credentials in the integration's settings ({settings_url}) — "
            "a revoked or expired token or a changed password looks like this — check "
            f"them with `integrations test {integration}`, then run the sync again."
        ),
        "configuration": (
            f"Correct the setting the error names in the integration's settings "
            f"({settings_url}) — a config that no longer validates, or one that cannot be "
            "decrypted with the configured keys, looks like this — check it with "
            f"`integrations test {integration}`, then run the sync again."
        ),
        "permission": (
            "The integration's user may not read what it syncs: grant it read access (for "
            "Salesforce, the API Enabled permission and access to the objects), or remove "
            f"the stream (`integrations update {integration} --streams …` or {settings_url})."
        ),
        "timeout": (
            "The source did not answer in time: check that it is reachable and not "
            "overloaded; the next scheduled run retries on its own."
        ),
        "network": (
            "Check that the source's host and port are right and reachable from the machine "
            "that runs Dagster (firewall, allow-list, VPN, DNS); the next scheduled run "
            "retries on its own."
        ),
        "rate_limit": (
            "The source's API allowance is used up (Salesforce answers HTTP 403 / "
            "REQUEST_LIMIT_EXCEEDED): wait for it to reset (Salesforce counts a rolling 24 "
            "hours) or raise the limit, and consider a less frequent schedule or a lower "
            "quota_percent_per_run. If the org's usage is low, the user lacks API access "
            "(API Enabled permission) instead."
        ),
        "source": (
            "A table, object, column or stream the integration syncs is gone: restore it, "
            f"or remove the stream (`integrations update {integration} --streams …` or "
            f"{settings_url})."
        ),
        "connector": (
            "The connector crashed: read the error and the run's log in Dagster; retry the "
            "sync, and if it fails the same way report it with the run link."
        ),
        "destination": (
            "The destination could not be written: check INTEGRATIONS_WAREHOUSE_URL (host, "
            "port, database, credentials) and that the warehouse accepts connections and "
            "writes; the next run resumes from the last saved bookmark."
        ),
    }
    return actions[category]
