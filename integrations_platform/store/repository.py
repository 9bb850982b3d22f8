"""The config store: integrations in a SQL database (SQLite by default, PostgreSQL in
production), schema managed by Alembic migrations applied on open."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from integrations_platform.catalog.models import BUILT_IN_DESTINATIONS
from integrations_platform.databases import ensure_schema
from integrations_platform.errors import (
    ConcurrentUpdateError,
    IntegrationExistsError,
    IntegrationNotFoundError,
    PlatformError,
)
from integrations_platform.integration import Integration, SealedConfig, StreamSelection
from integrations_platform.settings import ENV_DATABASE_URL
from integrations_platform.store.models import DestinationRecord, IntegrationRecord

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every process migrating this database.
_MIGRATION_LOCK_ID = 7_246_101


def _with_destination() -> Any:
    """Integrations with the connector of the destination they load into (one query)."""
    return select(IntegrationRecord, DestinationRecord.connector).outerjoin(
        DestinationRecord, DestinationRecord.name == IntegrationRecord.destination
    )


def _connector_of(session: Session, destination: str) -> str | None:
    """The connector of configured destination ``destination`` (None: not configured)."""
    return session.scalar(
        select(DestinationRecord.connector).where(DestinationRecord.name == destination)
    )


def _from_row(row: IntegrationRecord, destination_connector: str | None = None) -> Integration:
    return Integration(
        id=row.id,
        name=row.name,
        connector=row.connector,
        enabled=row.enabled,
        schedule=row.schedule,
        streams=tuple(StreamSelection.from_dict(s) for s in row.streams),
        start_date=row.start_date,
        destination=row.destination,
        description=row.description,
        schema_policy=row.schema_policy,
        message_format=row.message_format,
        version=row.version,
        destination_connector=destination_connector
        or BUILT_IN_DESTINATIONS.get(row.destination, ""),
        created_at=row.created_at,
        updated_at=row.updated_at,
        sealed=SealedConfig(row.config_ciphertext, row.key_fingerprint),
    )


def _row_values(integration: Integration) -> dict[str, Any]:
    """The columns an integration writes (the rest are the row's own: version, stamps)."""
    if integration.sealed is None:
        raise ValueError(f"integration '{integration.name}' has no sealed config to store")
    return {
        "enabled": integration.enabled,
        "schedule": integration.schedule,
        "streams": [s.as_dict() for s in integration.streams],
        "start_date": integration.start_date,
        "destination": integration.destination,
        "description": integration.description,
        "schema_policy": integration.schema_policy,
        "message_format": integration.message_format,
        "config_ciphertext": integration.sealed.ciphertext,
        "key_fingerprint": integration.sealed.key_fingerprint,
    }


class ConfigStore:
    """Reads and writes integrations. Thread-safe; one engine per store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> "ConfigStore":
        """Connect to ``url`` and bring its schema up to date.

        >>> store = ConfigStore.open("sqlite:///:memory:")
        >>> store.list_all()
        []
        """
        parsed = make_url(url)
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            else:
                from sqlalchemy.pool import StaticPool

                kwargs["poolclass"] = StaticPool
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        """Apply every pending Alembic migration (serialised across processes)."""
        # Imported here: Alembic costs most of a second, and the Dagster code server,
        # which never migrates, imports this module on every reload.
        from alembic import command
        from alembic.config import Config as AlembicConfig

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        ensure_schema(
            self.engine.url.render_as_string(hide_password=False), variable=ENV_DATABASE_URL
        )
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise PlatformError(
                f"Cannot reach the config database {self.engine.url.render_as_string()}: "
                f"{exc.orig}",
                f"Check {ENV_DATABASE_URL} and that the database server is running.",
            ) from None

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction on the store's database (for tables beside integrations)."""
        with self._sessions.begin() as session:
            yield session

    def list_all(self) -> list[Integration]:
        """Every integration, by name, in one query."""
        with self.session() as session:
            rows = session.execute(_with_destination().order_by(IntegrationRecord.name))
            return [_from_row(r, connector) for r, connector in rows]

    def get(self, name: str) -> Integration:
        """The integration called ``name``."""
        with self.session() as session:
            found = session.execute(
                _with_destination().where(IntegrationRecord.name == name)
            ).first()
            if found is None:
                raise _not_found(name)
            return _from_row(found[0], found[1])

    def add(self, integration: Integration) -> Integration:
        """Insert a new integration; its name must be free."""
        row = IntegrationRecord(
            id=integration.id,
            name=integration.name,
            connector=integration.connector,
            **_row_values(integration),
        )
        try:
            with self.session() as session:
                session.add(row)
                connector = _connector_of(session, integration.destination)
        except IntegrityError:
            raise IntegrationExistsError(
                f"An integration named '{integration.name}' already exists",
                "Choose another name, or change it with `integrations update`.",
            ) from None
        return _from_row(row, connector)

    def update(
        self,
        name: str,
        change: Callable[[Integration], Integration],
        *,
        expected_version: int | None = None,
    ) -> Integration:
        """Apply ``change`` to the integration in one transaction.

        ``change`` gets the current row and returns the new one; if it raises, nothing
        is written. With ``expected_version``, a row that changed since it was read is
        refused with :class:`ConcurrentUpdateError`; without it, the row is still
        protected against a concurrent writer between read and write.
        """
        try:
            with self.session() as session:
                row = session.scalar(
                    select(IntegrationRecord).where(IntegrationRecord.name == name)
                )
                if row is None:
                    raise _not_found(name)
                if expected_version is not None and row.version != expected_version:
                    raise _stale(name, expected_version, row.version)
                updated = change(_from_row(row, _connector_of(session, row.destination)))
                for column, new in _row_values(updated).items():
                    if new != getattr(row, column):
                        setattr(row, column, new)
                session.flush()
                return _from_row(row, _connector_of(session, row.destination))
        except StaleDataError:
            raise _stale(name, expected_version, None) from None

    def replace_ciphertexts(self, rewrite: Callable[[Integration], SealedConfig | None]) -> int:
        """Rewrite rows' sealed configs in one transaction; returns how many changed.

        ``rewrite`` returns the new sealed config, or None to leave the row as it is.
        """
        changed = 0
        with self.session() as session:
            for row in session.scalars(select(IntegrationRecord).with_for_update()):
                new = rewrite(_from_row(row))
                if new is not None and (new.ciphertext, new.key_fingerprint) != (
                    row.config_ciphertext,
                    row.key_fingerprint,
                ):
                    row.config_ciphertext, row.key_fingerprint = new.ciphertext, new.key_fingerprint
                    changed += 1
        return changed

    def key_fingerprints(self) -> dict[str | None, int]:
        """How many rows each key fingerprint encrypted (None: written before them)."""
        with self.session() as session:
            rows = session.execute(
                select(IntegrationRecord.key_fingerprint, func.count()).group_by(
                    IntegrationRecord.key_fingerprint
                )
            )
            return {fingerprint: count for fingerprint, count in rows}

    def delete(self, name: str) -> Integration:
        """Remove the integration called ``name``; returns what was removed."""
        with self.session() as session:
            row = session.scalar(select(IntegrationRecord).where(IntegrationRecord.name == name))
            if row is None:
                raise _not_found(name)
            removed = _from_row(row)
            session.delete(row)
            return removed


def _not_found(name: str) -> IntegrationNotFoundError:
    return IntegrationNotFoundError(
        f"No integration named '{name}'", "`integrations list` shows the integrations."
    )


def _stale(name: str, expected: int | None, actual: int | None) -> ConcurrentUpdateError:
    seen = f" (you read version {expected}, it is now {actual})" if actual is not None else ""
    return ConcurrentUpdateError(
        f"Integration '{name}' was changed by someone else{seen}",
        "Reload it and apply your change again.",
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the Dagster code server read while the API writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


__all__ = ["ConfigStore"]
