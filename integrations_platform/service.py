"""IntegrationService: the one place the CLI and the API manage integrations through.

It validates against the catalog, encrypts through the key ring and persists through
the store; it never returns a secret value.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from integrations_platform.catalog import Catalog, ConnectorSpec, validate_config
from integrations_platform.catalog.models import is_valid_cron
from integrations_platform.catalog.validation import format_datetime, parse_datetime
from integrations_platform.destinations import DESTINATIONS
from integrations_platform.errors import (
    ConfigurationError,
    DecryptionError,
    IncompleteRepairError,
    PlatformError,
)
from integrations_platform.keys import stream_key_part
from integrations_platform.runner.redaction import Redactor
from integrations_platform.store import ConfigStore, KeyRing, StoredIntegration

# Partitions start at the start date: an absurd year would mean millions of them.
MIN_START_YEAR, MAX_START_YEAR = 1970, 2200
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class StreamSelection:
    """A stream an integration syncs, with how it is synced."""

    name: str
    replication_key: str | None = None
    primary_key: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "name": self.name,
            "replication_key": self.replication_key,
            "primary_key": list(self.primary_key),
        }

    @classmethod
    def parse(cls, text: str) -> "StreamSelection":
        """``name`` or ``name:replication_key`` (the CLI's form)."""
        name, _, key = text.strip().partition(":")
        return cls(name=name.strip(), replication_key=key.strip() or None)


@dataclass(frozen=True)
class IntegrationView:
    """What the CLI and the API show of an integration: never a secret value."""

    id: str
    name: str
    connector: str
    enabled: bool
    schedule: str
    streams: list[dict[str, Any]]
    start_date: str
    destination: str
    description: str
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    config: dict[str, Any] | None = None
    secrets: dict[str, bool] = field(default_factory=dict)
    # Why the stored config cannot be read (then config is empty: repair by re-entering it).
    config_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form; secrets appear only as "set" / "not set"."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "connector": self.connector,
            "enabled": self.enabled,
            "schedule": self.schedule,
            "streams": self.streams,
            "start_date": self.start_date,
            "destination": self.destination,
            "description": self.description,
            "version": self.version,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }
        if self.config is not None:
            data["config"] = self.config
            data["secrets"] = {k: ("set" if v else "not set") for k, v in self.secrets.items()}
        if self.config_error is not None:
            data["config_error"] = self.config_error
        return data


def _view(
    stored: StoredIntegration,
    config: Mapping[str, Any] | None = None,
    connector: ConnectorSpec | None = None,
) -> IntegrationView:
    shown: dict[str, Any] | None = None
    secrets: dict[str, bool] = {}
    if config is not None and connector is not None:
        shown = {k: v for k, v in config.items() if k not in connector.secret_names}
        secrets = {name: bool(config.get(name)) for name in sorted(connector.secret_names)}
    return IntegrationView(
        id=stored.id,
        name=stored.name,
        connector=stored.connector,
        enabled=stored.enabled,
        schedule=stored.schedule,
        streams=[dict(s) for s in stored.streams],
        start_date=stored.start_date,
        destination=stored.destination,
        description=stored.description,
        version=stored.version,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        config=shown,
        secrets=secrets,
    )


@dataclass(frozen=True)
class KeyRotation:
    """What ``rotate_keys`` did: rows re-encrypted, and rows no key could read."""

    rotated: int
    unreadable: tuple[str, ...] = ()


class IntegrationService:
    """Create, read, update and remove integrations.

    The key ring is asked for only by operations that touch the encrypted config, so
    listing works without ``INTEGRATIONS_ENCRYPTION_KEYS``.
    """

    def __init__(
        self, catalog: Catalog, store: ConfigStore, keyring: Callable[[], KeyRing]
    ) -> None:
        self.catalog = catalog
        self.store = store
        self._keyring = keyring

    @property
    def keyring(self) -> KeyRing:
        """The configured keys (raises a clear error when missing)."""
        return self._keyring()

    # -- reads -------------------------------------------------------------------------

    def list_integrations(self) -> list[IntegrationView]:
        """Every integration, without its config."""
        return self.list_integrations_from(self.store.list_all())

    @staticmethod
    def list_integrations_from(stored: Sequence[StoredIntegration]) -> list[IntegrationView]:
        """Views of integrations already read from the store."""
        return [_view(s) for s in stored]

    def get(self, name: str) -> StoredIntegration:
        """The stored integration (ciphertext included, for the runner)."""
        return self.store.get(name)

    def show(self, name: str, *, repairable: bool = False) -> IntegrationView:
        """One integration with its non-secret settings and which secrets are set.

        With ``repairable``, an integration whose config cannot be decrypted is shown
        with an empty config and ``config_error`` (for a form that repairs it) instead
        of raising.
        """
        stored = self.store.get(name)
        connector = self.catalog.get(stored.connector)
        try:
            config = self.decrypted_config(stored)
        except DecryptionError as exc:
            if not repairable:
                raise
            return replace(_view(stored, {}, connector), config_error=str(exc))
        return _view(stored, config, connector)

    def redactor(self, stored: StoredIntegration) -> Redactor:
        """Masks the integration's secret values (none, if its config cannot be read)."""
        try:
            config = self.decrypted_config(stored)
            return Redactor(self.catalog.get(stored.connector).secret_values(config))
        except PlatformError:
            return Redactor(())

    def decrypted_config(self, stored: StoredIntegration) -> dict[str, Any]:
        """The integration's config in clear, for a sync or a connection test only."""
        return self.keyring.decrypt(
            stored.id, stored.name, stored.config_ciphertext, fingerprint=stored.key_fingerprint
        )

    # -- writes ------------------------------------------------------------------------

    def add(
        self,
        connector_id: str,
        name: str,
        config: Mapping[str, Any],
        *,
        streams: Sequence[StreamSelection | str] | None = None,
        schedule: str | None = None,
        start_date: str | None = None,
        destination: str = "jsonl",
        enabled: bool = True,
        description: str = "",
    ) -> IntegrationView:
        """Validate and store a new integration."""
        connector = self.catalog.get(connector_id)
        errors: dict[str, str] = {}
        if not NAME_PATTERN.fullmatch(name or ""):
            errors["name"] = (
                "use 1-63 lower-case letters, digits and underscores, starting with a letter"
            )
        try:
            clean = validate_config(connector, config)
        except ConfigurationError as exc:
            clean = {}
            errors.update(exc.field_errors)
        selected = self._check_orchestration(
            connector,
            errors,
            streams=streams,
            schedule=schedule or connector.default_schedule,
            start_date=start_date,
            destination=destination,
        )
        _check_text(errors, "description", description)
        _raise_if(errors, connector)
        integration_id = StoredIntegration.new_id()
        keyring = self.keyring
        stored = StoredIntegration(
            id=integration_id,
            name=name,
            connector=connector.id,
            enabled=enabled,
            schedule=schedule or connector.default_schedule,
            streams=tuple(s.as_dict() for s in selected),
            start_date=_normalise_start(start_date),
            destination=destination,
            config_ciphertext=keyring.encrypt(integration_id, clean),
            key_fingerprint=keyring.primary_fingerprint,
            description=description,
        )
        added = self.store.add(stored)
        return _view(added, clean, connector)

    def update(
        self,
        name: str,
        config: Mapping[str, Any] | None = None,
        *,
        streams: Sequence[StreamSelection | str] | None = None,
        schedule: str | None = None,
        start_date: str | None = None,
        destination: str | None = None,
        description: str | None = None,
        expected_version: int | None = None,
    ) -> IntegrationView:
        """Change an integration. Omitted settings and blank secrets keep their value.

        Validation runs inside the store's transaction: a failing edit writes nothing.
        An integration whose stored config cannot be decrypted (lost key, tampered row)
        is repaired in place by a complete ``config``: same id, name and bookmarks.
        """
        result: dict[str, Any] = {}

        def change(current: StoredIntegration) -> StoredIntegration:
            connector = self.catalog.get(current.connector)
            keyring = self.keyring
            errors: dict[str, str] = {}
            try:
                stored_config: dict[str, Any] | None = self.decrypted_config(current)
            except DecryptionError as unreadable:
                if config is None:
                    raise
                _repair_config(connector, config, unreadable)  # complete, or refused
                stored_config = None
            clean = stored_config or {}
            if config is not None:
                try:
                    clean = validate_config(connector, config, existing=stored_config)
                except ConfigurationError as exc:
                    errors.update(exc.field_errors)
            selected = self._check_orchestration(
                connector,
                errors,
                streams=streams if streams is not None else None,
                schedule=schedule or current.schedule,
                start_date=start_date or current.start_date,
                destination=destination or current.destination,
                default_streams=[StreamSelection(**_stream_kwargs(s)) for s in current.streams],
            )
            _check_text(errors, "description", description)
            _raise_if(errors, connector)
            result["config"] = clean
            result["connector"] = connector
            changed = clean != stored_config
            return replace(
                current,
                schedule=schedule or current.schedule,
                streams=tuple(s.as_dict() for s in selected),
                start_date=_normalise_start(start_date) if start_date else current.start_date,
                destination=destination or current.destination,
                description=current.description if description is None else description,
                config_ciphertext=(
                    keyring.encrypt(current.id, clean) if changed else current.config_ciphertext
                ),
                key_fingerprint=(
                    keyring.primary_fingerprint if changed else current.key_fingerprint
                ),
            )

        updated = self.store.update(name, change, expected_version=expected_version)
        return _view(updated, result["config"], result["connector"])

    def config_to_test(
        self, name: str, edits: Mapping[str, Any] | None = None
    ) -> tuple[ConnectorSpec, dict[str, Any]]:
        """The config a connection test of ``name`` uses: the stored one, with ``edits``
        merged as :meth:`update` would (nothing is stored). An unreadable stored config
        is replaced by ``edits`` when they are complete, as a repair would."""
        stored = self.store.get(name)
        connector = self.catalog.get(stored.connector)
        try:
            current = self.decrypted_config(stored)
        except DecryptionError as unreadable:
            if not edits:
                raise
            return connector, _repair_config(connector, edits, unreadable)
        if not edits:
            return connector, current
        return connector, validate_config(connector, edits, existing=current)

    def set_enabled(
        self, name: str, enabled: bool, *, expected_version: int | None = None
    ) -> IntegrationView:
        """Enable or disable an integration (its schedule follows)."""
        updated = self.store.update(
            name, lambda cur: replace(cur, enabled=enabled), expected_version=expected_version
        )
        return _view(updated)

    def remove(self, name: str) -> IntegrationView:
        """Delete an integration and its stored config."""
        return _view(self.store.delete(name))

    def rotate_keys(self) -> KeyRotation:
        """Re-encrypt every readable config with the first key.

        A row no configured key can read is left as it is and named in the result, so
        that one lost row does not hold back the others.
        """
        keyring = self.keyring
        unreadable: list[str] = []

        def rewrite(stored: StoredIntegration) -> tuple[bytes, str] | None:
            try:
                self.decrypted_config(stored)
            except DecryptionError:
                unreadable.append(stored.name)
                return None
            token = stored.config_ciphertext
            if not keyring.is_primary(token):
                token = keyring.rotate(token)
            return token, keyring.primary_fingerprint

        rotated = self.store.replace_ciphertexts(rewrite)
        return KeyRotation(rotated=rotated, unreadable=tuple(sorted(unreadable)))

    # -- helpers -----------------------------------------------------------------------

    def _check_orchestration(
        self,
        connector: ConnectorSpec,
        errors: dict[str, str],
        *,
        streams: Sequence[StreamSelection | str] | None,
        schedule: str,
        start_date: str | None,
        destination: str,
        default_streams: Sequence[StreamSelection] | None = None,
    ) -> list[StreamSelection]:
        if not is_valid_cron(schedule):
            errors["schedule"] = "not a valid cron expression (e.g. '0 * * * *')"
        if start_date is not None:
            try:
                if not MIN_START_YEAR <= parse_datetime(start_date).year <= MAX_START_YEAR:
                    errors["start_date"] = f"must be between {MIN_START_YEAR} and {MAX_START_YEAR}"
            except ValueError:
                errors["start_date"] = "expected an ISO 8601 date such as 2024-01-01"
        if destination not in DESTINATIONS:
            errors["destination"] = f"must be one of {', '.join(DESTINATIONS)}"
        if streams is None:
            if default_streams is not None:
                return list(default_streams)
            if connector.dynamic_streams and not connector.streams:
                errors["streams"] = (
                    f"{connector.label} needs the streams to sync ({connector.stream_name_help})"
                )
                return []
            streams = connector.default_streams
        selected = [StreamSelection.parse(s) if isinstance(s, str) else s for s in streams]
        if not selected:
            errors["streams"] = "select at least one stream"
        problems = []
        for sel in selected:
            spec = connector.stream(sel.name)
            if spec is not None:
                continue
            if (
                connector.dynamic_streams
                and connector.stream_name_pattern
                and re.fullmatch(connector.stream_name_pattern, sel.name)
            ):
                continue
            problems.append(sel.name)
        if problems:
            hint = (
                f"names look like {connector.stream_name_help}"
                if connector.dynamic_streams
                else f"available: {', '.join(s.name for s in connector.streams)}"
            )
            errors["streams"] = f"unknown stream(s) {', '.join(problems)}; {hint}"
        names = [s.name for s in selected]
        if len(set(names)) != len(names):
            errors["streams"] = "a stream is listed twice"
        elif len({stream_key_part(n) for n in names}) != len(names):
            errors["streams"] = (
                "two streams differ only in punctuation and would share one Dagster asset"
            )
        return [_with_catalog_defaults(connector, s) for s in selected]


def _repair_config(
    connector: ConnectorSpec, config: Mapping[str, Any], unreadable: DecryptionError
) -> dict[str, Any]:
    """``config`` as the replacement of an unreadable one: it must be complete."""
    try:
        return validate_config(connector, config)
    except ConfigurationError as exc:
        raise IncompleteRepairError(
            f"{unreadable.reason}; a new config replaces it only when it is complete "
            f"(missing or invalid: {', '.join(sorted(exc.field_errors))})",
            unreadable.instruction,
            field_errors=exc.field_errors,
        ) from None


def _stream_kwargs(stored: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": stored["name"],
        "replication_key": stored.get("replication_key"),
        "primary_key": tuple(stored.get("primary_key") or ()),
    }


def _with_catalog_defaults(connector: ConnectorSpec, sel: StreamSelection) -> StreamSelection:
    spec = connector.stream(sel.name)
    if spec is None:
        return sel
    return StreamSelection(
        name=sel.name,
        replication_key=sel.replication_key or spec.replication_key,
        primary_key=sel.primary_key or spec.primary_key,
    )


def _normalise_start(start_date: str | None) -> str:
    if start_date is None:
        now = datetime.now(UTC)
        return format_datetime(datetime(now.year, now.month, 1, tzinfo=UTC))
    return format_datetime(parse_datetime(start_date))


def _check_text(errors: dict[str, str], field: str, value: str | None) -> None:
    if value and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        errors[field] = "must not contain control characters"


def _raise_if(errors: dict[str, str], connector: ConnectorSpec) -> None:
    if errors:
        raise ConfigurationError(
            f"Invalid {connector.label} integration ({', '.join(sorted(errors))})",
            "Fix the listed fields: " + "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())),
            field_errors=errors,
        )
