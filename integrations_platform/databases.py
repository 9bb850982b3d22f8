"""PostgreSQL helpers shared by the three stores (config, Meltano state, Dagster).

In production the three live in one database, each in its own schema, chosen by the
``search_path`` option of its URL (see :func:`integrations_platform.settings.with_search_path`).
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from integrations_platform.errors import PlatformError

_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)")
# Any constant: every process creating schemas in this database takes the same lock.
_SCHEMA_LOCK_ID = 7_246_102
DAGSTER_SETUP_LOCK_ID = 7_246_103


def search_path_schema(url: str) -> str | None:
    """The schema a PostgreSQL URL selects with ``options=-csearch_path=...``, if any.

    >>> search_path_schema("postgresql://u@h/db?options=-csearch_path%3Dmeltano")
    'meltano'
    >>> search_path_schema("sqlite:///x.db") is None
    True
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    options = parsed.query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    match = _SEARCH_PATH.search(options or "")
    return match.group(1) if match else None


def sqlite_file_missing(url: str) -> Path | None:
    """The file of a SQLite ``url`` when it does not exist yet (None for other databases,
    in-memory ones and files that exist)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def ensure_schema(url: str, *, variable: str) -> None:
    """Create the schema a PostgreSQL URL's search path names, if it does not exist.

    Safe to call from several processes at once. ``variable`` names the setting the URL
    came from, for the error message.
    """
    schema = search_path_schema(url)
    if schema is None:
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
            ).scalar()
            if not exists:
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _SCHEMA_LOCK_ID}
                )
                connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except DBAPIError as exc:
        raise PlatformError(
            f"Cannot prepare schema '{schema}' in {redacted(url)}: {str(exc.orig).strip()}",
            f"Check {variable}, that the PostgreSQL server is running and that the user may "
            "create schemas in that database (or create the schema yourself).",
        ) from None
    finally:
        engine.dispose()


@contextmanager
def advisory_lock(
    url: str | None,
    lock_id: int,
    *,
    variable: str,
    poll: Callable[[Callable[[], bool]], None] | None = None,
) -> Iterator[None]:
    """Hold a PostgreSQL session advisory lock on ``url``'s database while the block runs
    (processes sharing the database take turns). A no-op for other databases. The server
    releases the lock if the holder dies.

    Without ``poll`` the lock is awaited in the server; with it, ``poll(try_take)`` is
    called and must return once ``try_take()`` has returned True (to report waiting).
    """
    if url is None or make_url(url).get_backend_name() != "postgresql":
        yield
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            if poll is None:
                connection.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
            else:
                try_lock = sa.text("SELECT pg_try_advisory_lock(:id)")
                poll(lambda: bool(connection.execute(try_lock, {"id": lock_id}).scalar()))
            connection.commit()
            try:
                yield
            finally:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
                connection.commit()
    except DBAPIError as exc:
        raise PlatformError(
            f"Cannot reach {redacted(url)}: {str(exc.orig).strip()}",
            f"Check {variable} and that the PostgreSQL server is running.",
        ) from None
    finally:
        engine.dispose()
