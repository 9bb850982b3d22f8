"""What the API's routes share: settings, the service, Dagster access."""

import asyncio
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from integrations_platform.errors import PlatformError
from integrations_platform.orchestration.client import DagsterClient, DagsterUnavailableError
from integrations_platform.orchestration.status import StatusReader
from integrations_platform.people import Accounts, AuditLog
from integrations_platform.runner.redaction import PathScrubber
from integrations_platform.service import IntegrationService
from integrations_platform.settings import Settings

logger = logging.getLogger(__name__)

ReloadOutcome = Literal["reloaded", "pending", "unchanged"]


@dataclass
class DefinitionsReloader:
    """Reloads Dagster's code location after a change; remembers a failed reload.

    Definitions are always built from the store, so a reload that could not happen now
    is only late: the next successful one (retried in the background) catches up.
    """

    client: DagsterClient | None
    pending: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def request(self) -> ReloadOutcome:
        """Reload now; "pending" if Dagster cannot be reached."""
        if self.client is None:
            self.pending = True
            return "pending"
        with self._lock:
            try:
                self.client.reload()
            except DagsterUnavailableError as exc:
                logger.warning("Definitions reload pending: %s", exc)
                self.pending = True
                return "pending"
            self.pending = False
            return "reloaded"

    def retry_if_pending(self) -> None:
        """Called periodically: reload if an earlier one failed."""
        if self.pending:
            self.request()


class ResponseCache:
    """The last serialised list response, reused for ``ttl_s`` or until a change.

    Listing every integration with its Dagster status is the API's most frequent and
    most expensive read; 50 clients polling it must not each rebuild it. Writes through
    this API invalidate it at once; writes from elsewhere (the CLI) show within ``ttl_s``.
    """

    def __init__(self, ttl_s: float = 1.0) -> None:
        self.ttl_s = ttl_s
        self._value: tuple[float, int, bytes] | None = None
        self._generation = 0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget the cached response."""
        self._generation += 1
        self._value = None

    def _fresh(self) -> bytes | None:
        value = self._value
        if value and value[1] == self._generation and time.monotonic() - value[0] < self.ttl_s:
            return value[2]
        return None

    async def get(self, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached bytes, or ``compute()``'s (one computation at a time)."""
        cached = self._fresh()
        if cached is not None:
            return cached
        async with self._lock:
            cached = self._fresh()
            if cached is not None:
                return cached
            generation = self._generation
            body = await compute()
            if generation == self._generation:
                self._value = (time.monotonic(), generation, body)
            return body


@dataclass
class PlatformState:
    """The application's collaborators (one per app)."""

    settings: Settings
    service: IntegrationService
    reloader: DefinitionsReloader
    dagster: DagsterClient | None
    api_token: str | None
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    list_cache: ResponseCache = field(default_factory=ResponseCache, repr=False)
    _status: StatusReader | None = field(default=None, repr=False)
    _status_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    paths: PathScrubber = field(init=False, repr=False)
    audit: AuditLog = field(init=False, repr=False)
    accounts: Accounts = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.paths = PathScrubber.for_settings(self.settings)
        self.audit = AuditLog(self.service.store)
        self.accounts = Accounts(self.service.store, self.audit)

    def after_change(self, *, definitions_changed: bool = True) -> ReloadOutcome:
        """Call after every write: drop cached reads, reload Dagster's definitions."""
        self.list_cache.invalidate()
        return self.reloader.request() if definitions_changed else "unchanged"

    def status_reader(self) -> StatusReader:
        """The Dagster instance reader (DAGSTER_HOME must be set)."""
        with self._status_lock:
            if self._status is None:
                import dagster as dg

                home = self.environ.get("DAGSTER_HOME")
                if not home:
                    raise PlatformError(
                        "The API has no Dagster instance to read (DAGSTER_HOME is not set)",
                        "Set DAGSTER_HOME to the Dagster instance's folder.",
                    )
                try:
                    instance = dg.DagsterInstance.get()
                except Exception as exc:  # Dagster's own errors: a folder missing, say
                    raise PlatformError(
                        f"The API cannot open the Dagster instance in {home}: {exc}",
                        "Set DAGSTER_HOME to the Dagster instance's folder (`integrations up` "
                        "creates it).",
                    ) from None
                self._status = StatusReader(
                    instance, self.settings.dagster_url, self.service.asset_keys
                )
            return self._status

    def status_reader_or_none(self) -> StatusReader | None:
        """The reader, or None when no instance is configured."""
        try:
            return self.status_reader()
        except PlatformError:
            return None
