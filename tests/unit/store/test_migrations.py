"""The Alembic migrations build exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import integrations_platform.notifications.models
import integrations_platform.people.models
import integrations_platform.store.audit
import integrations_platform.store.discoveries
import integrations_platform.store.progress
import integrations_platform.store.schema  # noqa: F401  (their tables)
from integrations_platform.store import ConfigStore
from integrations_platform.store.models import Base
from tests.conftest import fresh_postgres_database


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_the_migrations_build_the_models_tables(database, tmp_path):
    if database == "sqlite":
        check(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        with fresh_postgres_database() as url:
            check(url)


def check(url: str) -> None:
    store = ConfigStore.open(url)
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        store.close()
    # What a migration forgot, or a model does not declare (Alembic's own version table
    # aside).
    assert [d for d in diff if d[0] != "remove_table" or d[1].name != "alembic_version"] == []
