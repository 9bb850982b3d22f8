"""NotificationService: turns sync outcomes and health checks into notifications.

One open notification per problem (``dedup_key``): a repeat updates its count and last
seen time; the next successful sync (or the check that no longer finds the problem)
resolves it. Every opened and resolved notification is also queued for the webhooks.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from integrations_platform.notifications.classifier import (
    Classification,
    classify_failure,
    suggested_action,
)
from integrations_platform.notifications.models import (
    EVENT_OPENED,
    EVENT_RESOLVED,
    KIND_AUTO_PAUSED,
    KIND_MISCONFIGURATION,
    KIND_RUN_FAILURE,
    KIND_SCHEMA_CHANGE,
    KIND_STALE,
    Notification,
)
from integrations_platform.notifications.settings import NotificationSettings
from integrations_platform.notifications.sinks.webhook import (
    FlushResult,
    WebhookSender,
    build_payload,
    encode_payload,
)
from integrations_platform.notifications.store import NotificationStore, Raised, Recorded
from integrations_platform.store import ConfigStore

if TYPE_CHECKING:
    from integrations_platform.catalog import Catalog
    from integrations_platform.integration import Integration
    from integrations_platform.schema_changes import SchemaChange
    from integrations_platform.store import KeyRing

MAX_MESSAGE = 4000


@dataclass(frozen=True)
class Misconfiguration:
    """A problem with an integration's stored setup, found without running it."""

    integration: str
    reason: str  # connector_missing, invalid_config, undecryptable
    message: str
    action: str


@dataclass(frozen=True)
class Staleness:
    """An integration whose last successful sync is too old."""

    integration: str
    last_success_at: datetime | None
    expected_every: timedelta
    threshold: timedelta


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else "…" + text[-(MAX_MESSAGE - 1) :]


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0 and seconds >= 86400:
        return f"{seconds // 86400} day(s)"
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600} hour(s)"
    return f"{max(seconds // 60, 1)} minute(s)"


class NotificationService:
    """Records, lists, acknowledges and resolves notifications; feeds the webhooks."""

    def __init__(
        self,
        store: NotificationStore,
        settings: NotificationSettings,
        sender: WebhookSender | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.sender = sender or WebhookSender(settings)

    @classmethod
    def open(cls, database_url: str, settings: NotificationSettings) -> "NotificationService":
        """Over the config database at ``database_url`` (migrated if needed)."""
        return cls(NotificationStore(ConfigStore.open(database_url).engine), settings)

    # -- events ----------------------------------------------------------------------

    def _emit(self, event: str, notification: Notification) -> None:
        if self.settings.webhook_urls:
            payload = encode_payload(build_payload(event, notification))
            self.store.enqueue(notification.id, event, self.settings.webhook_urls, payload)

    def _record(
        self, raised: Raised, *, now: datetime | None = None, count_repeat: bool = True
    ) -> Recorded:
        recorded = self.store.record(raised, now=now, count_repeat=count_repeat)
        if recorded.opened:
            self._emit(EVENT_OPENED, recorded.notification)
        return recorded

    def _resolve(
        self,
        integration: str,
        kinds: Sequence[str],
        by: str,
        keep: Iterable[str] = (),
        seen_before: datetime | None = None,
    ) -> list[Notification]:
        resolved = self.store.resolve_where(
            integration, kinds, by=by, keep_keys=keep, seen_before=seen_before
        )
        for notification in resolved:
            self._emit(EVENT_RESOLVED, notification)
        return resolved

    # -- run outcomes ----------------------------------------------------------------

    def record_run_failure(
        self,
        integration: str,
        run_id: str,
        error_text: str,
        redact: Callable[[str], str] = lambda text: text,
        failed_at: datetime | None = None,
    ) -> tuple[Recorded, Classification]:
        """A failed sync: classify its (redacted) error and open or update the notification."""
        classification = classify_failure(redact(error_text))
        settings_url = self.settings.settings_url(integration)
        message = classification.summary
        if classification.tail and classification.tail != classification.summary:
            message = f"{classification.summary}\n\n{classification.tail}"
        raised = Raised(
            integration=integration,
            kind=KIND_RUN_FAILURE,
            category=classification.category,
            dedup_key=f"{KIND_RUN_FAILURE}:{integration}",
            title=f"Sync of '{integration}' failed: {classification.label}",
            message=redact(_clip(message)),
            action=suggested_action(classification.category, integration, settings_url),
            run_id=run_id,
            run_url=self.settings.run_url(run_id),
            settings_url=settings_url,
        )
        return self._record(raised, now=failed_at), classification

    def record_missing_streams(
        self,
        integration: str,
        run_id: str,
        streams: Sequence[str],
        finished_at: datetime | None = None,
    ) -> Recorded:
        """A sync that finished but found selected streams missing from the source."""
        names = ", ".join(streams)
        settings_url = self.settings.settings_url(integration)
        return self._record(
            Raised(
                integration=integration,
                kind=KIND_RUN_FAILURE,
                category="source",
                dedup_key=f"{KIND_RUN_FAILURE}:{integration}",
                title=f"Sync of '{integration}' incomplete: {names} no longer in the source",
                message=(
                    f"The source no longer has {names} (a dropped or renamed table or "
                    "object, or lost read access): the run synced nothing for it."
                ),
                action=suggested_action("source", integration, settings_url),
                run_id=run_id,
                run_url=self.settings.run_url(run_id),
                settings_url=settings_url,
            ),
            now=finished_at,
        )

    def record_run_success(
        self, integration: str, run_id: str, succeeded_at: datetime | None = None
    ) -> list[Notification]:
        """A successful sync resolves the integration's failure notification (unless a
        later failure updated it: sensors may see runs out of order) and its stale one."""
        by = f"run {run_id} succeeded"
        return self._resolve(
            integration, (KIND_RUN_FAILURE,), by, seen_before=succeeded_at
        ) + self._resolve(integration, (KIND_STALE,), by)

    def record_auto_paused(
        self, integration: str, failures: int, run_id: str, paused: bool, detail: str
    ) -> Recorded:
        """The integration's schedule was (or could not be) paused after ``failures``."""
        schedule = f"{integration}_schedule"
        if paused:
            title = f"Schedule of '{integration}' paused after {failures} failed syncs in a row"
            action = (
                f"Fix the cause (see the open failure notification of '{integration}'), then "
                f"turn the schedule '{schedule}' back on in the Dagster UI "
                f"({self.settings.schedule_url(integration)}) or with `dagster schedule start "
                f"{schedule}`; this notification resolves itself when the schedule runs again "
                "and a sync succeeds, or resolve it by hand."
            )
        else:
            title = f"'{integration}' failed {failures} times in a row; its schedule is still on"
            action = (
                f"Auto-pause could not stop '{schedule}' ({detail}); pause it in the Dagster UI "
                f"({self.settings.schedule_url(integration)}) while you fix the cause."
            )
        return self._record(
            Raised(
                integration=integration,
                kind=KIND_AUTO_PAUSED,
                category="auto_paused",
                dedup_key=f"{KIND_AUTO_PAUSED}:{integration}",
                title=title,
                message=detail,
                action=action,
                severity="critical",
                run_id=run_id,
                run_url=self.settings.run_url(run_id),
                settings_url=self.settings.settings_url(integration),
            )
        )

    def resolve_auto_paused(self, integration: str, by: str) -> list[Notification]:
        """The schedule runs again: the auto-pause notification is over."""
        return self._resolve(integration, (KIND_AUTO_PAUSED,), by)

    # -- schema changes --------------------------------------------------------------

    def record_schema_changes(
        self,
        integration: str,
        changes: Sequence["SchemaChange"],
        policy: str,
        run_id: str | None = None,
    ) -> list[Recorded]:
        """One notification per stream and kind of change: new columns (waiting for an
        approval under ``block_all``), removed columns and type changes (warnings), new
        and removed streams. Its action opens the wizard's streams step at the stream."""
        from integrations_platform.schema_changes import summarize

        recorded = []
        for stream, found in summarize(changes).items():
            groups: dict[str, list[SchemaChange]] = {}
            for change in found:
                groups.setdefault(change.kind, []).append(change)
            for kind, items in groups.items():
                recorded.append(
                    self._record(
                        self._schema_raised(integration, stream, kind, items, policy, run_id)
                    )
                )
        return recorded

    def _schema_raised(
        self,
        integration: str,
        stream: str,
        kind: str,
        items: Sequence["SchemaChange"],
        policy: str,
        run_id: str | None,
    ) -> Raised:
        from integrations_platform.schema_changes import (
            COLUMN_ADDED,
            COLUMN_REMOVED,
            KEY_CHANGED,
            PENDING,
            STREAM_ADDED,
            STREAM_REMOVED,
            TYPE_CHANGED,
        )

        names = ", ".join(c.column or c.stream for c in items)
        count = len(items)
        pending = [c for c in items if c.status == PENDING]
        approve = (
            f"Approve on the streams step ({self.settings.streams_url(integration, stream)}) "
            f"or with `integrations schema approve {integration} --stream {stream}`"
        )
        severity = "warning"
        if kind == COLUMN_ADDED:
            title = f"{count} new column(s) in {stream} of '{integration}': {names}"
            severity = "info"
            if pending:
                message = (
                    f"The schema policy is {policy}: {names} are left out of {stream} until "
                    "someone approves them."
                )
                action = approve + "; until then they are not synced."
            else:
                message = f"{names} are synced from now on (schema policy {policy})."
                action = (
                    "Nothing to do unless they should not be synced: leave them out or hash "
                    f"them on the streams step ({self.settings.streams_url(integration, stream)})."
                )
        elif kind == COLUMN_REMOVED:
            title = f"{count} column(s) removed from {stream} of '{integration}': {names}"
            message = (
                f"The source no longer has {names}: syncs of {stream} go on without them, and "
                "the destination keeps their past values. Readers of these columns will find "
                "them empty from now on."
            )
            action = (
                "Update what reads these columns, or ask the source's owner whether they were "
                "renamed."
            )
        elif kind == TYPE_CHANGED:
            detail = "; ".join(f"{c.column}: {c.old} → {c.new}" for c in items)
            title = f"Type changed in {stream} of '{integration}': {detail}"
            message = f"Syncs of {stream} go on with the new type(s) ({detail})."
            action = "Check that the destination table and its readers accept the new type(s)."
        elif kind == KEY_CHANGED:
            change = items[-1]
            title = f"Primary key of {stream} in '{integration}' changed"
            message = f"From ({change.old or 'none'}) to ({change.new or 'none'})."
            action = "Check that readers that deduplicate on the key use the new one."
        elif kind == STREAM_ADDED:
            title = f"New stream in the source of '{integration}': {stream}"
            severity = "info"
            message = (
                f"{stream} was selected and syncs from now on (schema policy {policy})."
                if not pending
                else f"{stream} is not synced until someone selects it (schema policy {policy})."
            )
            action = approve if pending else "Nothing to do."
        elif kind == STREAM_REMOVED:
            title = f"Stream {stream} is gone from the source of '{integration}'"
            message = f"The source no longer has {stream}; it is not synced any more."
            url = self.settings.streams_url(integration, stream)
            action = f"Remove it from the selection ({url})."
        else:  # pragma: no cover - every kind is handled above
            title, message, action = f"Schema change in {stream}", names, ""
        return Raised(
            integration=integration,
            kind=KIND_SCHEMA_CHANGE,
            category=kind,
            dedup_key=f"{KIND_SCHEMA_CHANGE}:{integration}:{stream}:{kind}",
            title=_clip(title)[:290],
            message=_clip(message),
            action=action,
            severity=severity,
            run_id=run_id,
            run_url=self.settings.run_url(run_id) if run_id else None,
            settings_url=self.settings.streams_url(integration, stream),
        )

    def resolve_schema_changes(self, integration: str, stream: str, by: str) -> list[Notification]:
        """Resolve the open schema-change notifications of one stream (approved)."""
        from integrations_platform.schema_changes import KINDS as CHANGE_KINDS

        resolved = []
        for kind in CHANGE_KINDS:
            found = self.store.open_for(f"{KIND_SCHEMA_CHANGE}:{integration}:{stream}:{kind}")
            if found is not None:
                resolved.append(self.resolve(found.id, by))
        return resolved

    # -- health checks ---------------------------------------------------------------

    def check_misconfigurations(
        self,
        catalog: "Catalog",
        integrations: Sequence["Integration"],
        keyring: "KeyRing | None",
    ) -> list[Misconfiguration]:
        """Check every integration's setup (connector, decryption, validation), open a
        notification per problem and resolve the ones no longer found; returns the
        problems. With ``keyring`` None (no keys here) only the catalog is checked."""
        from integrations_platform.notifications.checks import find_misconfigurations

        found = find_misconfigurations(catalog, integrations, keyring, self.settings.settings_url)
        self.sync_misconfigurations(found, [i.name for i in integrations])
        return found

    def sync_misconfigurations(
        self, found: Sequence[Misconfiguration], checked: Iterable[str]
    ) -> list[Notification]:
        """Open a notification per problem found; resolve those of ``checked`` now fine."""
        keys: dict[str, set[str]] = {}
        for problem in found:
            key = f"{KIND_MISCONFIGURATION}:{problem.integration}:{problem.reason}"
            keys.setdefault(problem.integration, set()).add(key)
            self._record(
                Raised(
                    integration=problem.integration,
                    kind=KIND_MISCONFIGURATION,
                    category=problem.reason,
                    dedup_key=key,
                    title=f"'{problem.integration}' is misconfigured: {problem.message}",
                    message=problem.message,
                    action=problem.action,
                    settings_url=self.settings.settings_url(problem.integration),
                ),
                count_repeat=False,
            )
        resolved = []
        for name in checked:
            resolved += self._resolve(
                name, (KIND_MISCONFIGURATION,), "check passed", keys.get(name, set())
            )
        return resolved

    def sync_stale(self, stale: Sequence[Staleness], checked: Iterable[str]) -> list[Notification]:
        """Open a stale notification per stale integration; resolve the others."""
        names = set()
        for item in stale:
            names.add(item.integration)
            last = (
                f"last succeeded {item.last_success_at:%Y-%m-%d %H:%M} UTC"
                if item.last_success_at
                else "has never succeeded"
            )
            self._record(
                Raised(
                    integration=item.integration,
                    kind=KIND_STALE,
                    category="stale",
                    dedup_key=f"{KIND_STALE}:{item.integration}",
                    title=f"'{item.integration}' is stale: {last}",
                    message=(
                        f"'{item.integration}' is scheduled every "
                        f"{_duration(item.expected_every)} but {last}; the alert threshold is "
                        f"{_duration(item.threshold)}."
                    ),
                    action=(
                        "Check whether its schedule is running and its runs are queued or "
                        f"failing in Dagster ({self.settings.dagster_url}); run "
                        f"`integrations sync {item.integration}` to catch up."
                    ),
                    severity="warning",
                    settings_url=self.settings.settings_url(item.integration),
                ),
                count_repeat=False,
            )
        resolved = []
        for name in checked:
            if name not in names:
                resolved += self._resolve(name, (KIND_STALE,), "synced recently")
        return resolved

    def resolve_removed(self, existing: Iterable[str]) -> list[Notification]:
        """Resolve the notifications of integrations that no longer exist."""
        keep = set(existing)
        resolved = []
        for name in sorted({n.integration for n in self.store.unresolved()} - keep):
            resolved += self._resolve(
                name,
                (
                    KIND_RUN_FAILURE,
                    KIND_MISCONFIGURATION,
                    KIND_STALE,
                    KIND_AUTO_PAUSED,
                    KIND_SCHEMA_CHANGE,
                ),
                "integration removed",
            )
        return resolved

    # -- user actions ----------------------------------------------------------------

    def list_notifications(
        self, *, status: str | None = None, integration: str | None = None, limit: int = 100
    ) -> list[Notification]:
        """Newest first."""
        return self.store.list_notifications(status=status, integration=integration, limit=limit)

    def open_by_integration(self, names: Sequence[str]) -> Mapping[str, list[Notification]]:
        """Unresolved notifications per integration (one query)."""
        return self.store.unresolved_by_integration(names)

    def acknowledge(self, notification_id: str, by: str = "user") -> Notification:
        """Mark as seen (it stays unresolved)."""
        return self.store.acknowledge(notification_id, by)

    def resolve(self, notification_id: str, by: str = "user") -> Notification:
        """Resolve by hand."""
        notification, changed = self.store.resolve(notification_id, by)
        if changed:
            self._emit(EVENT_RESOLVED, notification)
        return notification

    def deliver(self, budget_s: float = 15.0) -> FlushResult:
        """Send the webhooks that are due (within ``budget_s``)."""
        return self.sender.flush(self.store, budget_s=budget_s)


def now_utc() -> datetime:
    """Now, in UTC (a seam for the health checks' clock)."""
    return datetime.now(UTC)
