"""Health checks that need no run: misconfigured and stale integrations.

They run in the notifications health sensor (and ``integrations notifications check``),
never while definitions load: the misconfiguration check decrypts every enabled
integration's config.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations_platform.catalog import Catalog, validate_config
from integrations_platform.errors import ConfigurationError, DecryptionError
from integrations_platform.integration import Integration
from integrations_platform.notifications.service import Misconfiguration, Staleness
from integrations_platform.store import KeyRing


def find_misconfigurations(
    catalog: Catalog,
    integrations: Sequence[Integration],
    keyring: KeyRing | None,
    settings_url: Any = lambda name: f"/#/integrations/{name}",
) -> list[Misconfiguration]:
    """Problems of enabled integrations: a connector gone from the catalog, a config
    that cannot be decrypted with the current keys, or that no longer validates.

    With ``keyring`` None (no keys configured here) only the catalog is checked.
    """
    found: list[Misconfiguration] = []
    for stored in integrations:
        if not stored.enabled:
            continue
        name = stored.name
        if stored.connector not in catalog:
            found.append(
                Misconfiguration(
                    name,
                    "connector_missing",
                    f"its connector '{stored.connector}' is no longer in the catalog",
                    f"Put connector_catalog/{stored.connector}.yaml back, or disable or remove "
                    f"'{name}' (`integrations disable {name}`); until then it does not sync.",
                )
            )
            continue
        if keyring is None:
            continue
        try:
            config = keyring.decrypt_integration(stored)
        except DecryptionError:
            found.append(
                Misconfiguration(
                    name,
                    "undecryptable",
                    "its config cannot be decrypted with the current encryption keys",
                    "Re-enter the secrets: `integrations update "
                    f"{name} --config FILE` with every setting, or the settings page "
                    f"({settings_url(name)}); or put the old key back in "
                    "INTEGRATIONS_ENCRYPTION_KEYS (after the new one) and run "
                    "`integrations rotate-keys`.",
                )
            )
            continue
        connector = catalog.get(stored.connector)
        try:
            validate_config(connector, config)
        except ConfigurationError as exc:
            fields = ", ".join(sorted(exc.field_errors)) or "the config"
            details = "; ".join(f"{k}: {v}" for k, v in sorted(exc.field_errors.items()))
            found.append(
                Misconfiguration(
                    name,
                    "invalid_config",
                    f"its config no longer validates against the {connector.label} "
                    f"connector ({fields})",
                    f"Update the listed settings ({details or exc.reason}) with "
                    f"`integrations update {name} --config FILE` or on the settings page "
                    f"({settings_url(name)}).",
                )
            )
    return found


def schedule_interval(cron: str, now: datetime) -> timedelta | None:
    """The time between two ticks of ``cron`` after ``now``."""
    # Imported here: the orchestration package imports this module (through the sensors).
    from integrations_platform.orchestration.status import next_tick

    first = next_tick(cron, now)
    if first is None:
        return None
    second = next_tick(cron, first + timedelta(seconds=1))
    if second is None:
        return None
    return second - first


def allowed_lag(
    cron: str, factor: float | None = None, now: datetime | None = None
) -> timedelta | None:
    """How old a stream's last successful sync may be: ``factor`` (default
    ``INTEGRATIONS_STALE_FACTOR``) times the schedule's interval; None when the rule is
    off (factor 0) or the schedule has no next tick. The stale-sync notification and
    the freshness asset check both use it."""
    if factor is None:
        from integrations_platform.notifications.settings import NotificationSettings

        factor = NotificationSettings.from_env().stale_factor
    if factor <= 0:
        return None
    interval = schedule_interval(cron, now or datetime.now(UTC))
    return interval * factor if interval is not None else None


def find_stale(
    integrations: Sequence[Integration],
    last_success: Mapping[str, datetime | None],
    factor: float,
    now: datetime,
) -> list[Staleness]:
    """Enabled integrations whose last success (or creation, if none) is older than
    ``factor`` times their schedule's interval. ``factor`` 0 turns the check off."""
    if factor <= 0:
        return []
    stale: list[Staleness] = []
    for stored in integrations:
        if not stored.enabled or not stored.streams:
            continue
        interval = schedule_interval(stored.schedule, now)
        threshold = allowed_lag(stored.schedule, factor, now)
        if interval is None or threshold is None:
            continue
        last = last_success.get(stored.name)
        reference = last or stored.created_at
        if reference is not None and now - reference > threshold:
            stale.append(Staleness(stored.name, last, interval, threshold))
    return stale


def last_successes(
    instance: Any,
    integrations: Sequence[Integration],
    asset_keys: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """When each integration last synced successfully: its newest stream materialization
    on the Dagster instance, in one batched query. ``asset_keys``: integration → stream →
    asset key (from the specs)."""
    owners = {key: i.name for i in integrations for key in asset_keys.get(i.name, {}).values()}
    found: dict[str, datetime | None] = {i.name: None for i in integrations}
    if not owners:
        return found
    latest = instance.get_latest_materialization_events(list(owners))
    for key, event in latest.items():
        if event is None:
            continue
        name = owners.get(key)
        if name is None:
            continue
        when = datetime.fromtimestamp(event.timestamp, UTC)
        current = found.get(name)
        if current is None or when > current:
            found[name] = when
    return found
