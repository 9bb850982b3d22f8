"""Connection tests through real `meltano config test` runs, and native vs Meltano timing."""

import json
import os
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from integrations_platform.runner import connection_test as ct
from integrations_platform.runner.connection_test import ConnectionTestResult
from tests.conftest import salesforce_config
from tests.integration.helpers import files_containing

pytestmark = pytest.mark.usefixtures("meltano_plugins")


@pytest.fixture
def pg_config(postgres_database, canary):
    url = make_url(postgres_database)
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": canary,  # trust auth: any password works
        "database": url.database,
    }


def run(platform, connector_id: str, config, **kwargs) -> ConnectionTestResult:
    connector = platform.catalog.get(connector_id)
    result = ct.test_connection(connector, config, platform.settings, dict(os.environ), **kwargs)
    print(f"\n{connector_id}: {json.dumps(result.as_dict(), indent=1)}")
    return result


def assert_clean(platform, result: ConnectionTestResult, canary: str) -> None:
    """No secret in the result, no run directory or file with the secret left behind."""
    assert canary not in json.dumps(result.as_dict())
    runs = platform.settings.home / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []
    assert files_containing(platform.home, canary) == []


def test_postgres_ok_on_a_fresh_database(platform, pg_config, canary) -> None:
    result = run(platform, "postgres", pg_config)

    assert result.ok and result.reason == "ok", result.message
    assert result.details["extractor"] == "tap-postgres"
    assert_clean(platform, result, canary)
    # `meltano config test` records no run: nothing to scrub in the system database.
    engine = sa.create_engine(platform.settings.meltano_database_uri)
    try:
        with engine.connect() as conn:
            if sa.inspect(conn).has_table("runs"):
                assert conn.execute(sa.text("SELECT count(*) FROM runs")).scalar() == 0
    finally:
        engine.dispose()


def test_postgres_database_that_does_not_exist(platform, pg_config, canary) -> None:
    result = run(platform, "postgres", {**pg_config, "database": "no_such_database_ct"})

    assert not result.ok and result.reason == "configuration"
    assert 'database "no_such_database_ct" does not exist' in result.message
    assert "Traceback" not in result.message and "File " not in result.message
    assert_clean(platform, result, canary)


def test_postgres_unreachable_port(platform, pg_config, canary) -> None:
    result = run(platform, "postgres", {**pg_config, "port": 1})

    assert not result.ok and result.reason == "network"
    assert "Connection refused" in result.message
    assert_clean(platform, result, canary)


def test_postgres_unknown_user(platform, pg_config, canary) -> None:
    # With trust auth there is no wrong password; an unknown role is the login failure.
    result = run(platform, "postgres", {**pg_config, "user": "no_such_role_ct"})

    assert not result.ok and result.reason == "authentication"
    assert 'role "no_such_role_ct" does not exist' in result.message
    assert_clean(platform, result, canary)


def test_postgres_user_without_select(platform, pg_config, canary) -> None:
    # The login works; reading fails. Meltano shows that only at debug level.
    role = f"ct_reader_{canary[-8:]}"
    url = make_url("postgresql+psycopg2://").set(**{k: pg_config[k] for k in ("host", "port")})
    database = url.set(username="postgres", database=pg_config["database"])
    admin = sa.create_engine(database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE TABLE public.orders (id int PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO public.orders VALUES (1)"))
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        config = {**pg_config, "user": role, "filter_schemas": ["public"]}
        result = run(platform, "postgres", config)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"
                ),
                {"r": role},
            )
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()

    assert not result.ok and result.reason == "permission"
    assert result.message == "Permission denied for table orders."
    assert_clean(platform, result, canary)


def test_postgres_timeout_stops_meltano(platform, pg_config, canary) -> None:
    started = time.monotonic()
    result = run(platform, "postgres", pg_config, timeout_s=1.0)

    assert not result.ok and result.reason == "timeout"
    assert time.monotonic() - started < 10
    assert_clean(platform, result, canary)


def test_salesforce_native_vs_meltano(platform, sandbox, canary, capsys) -> None:
    connector = platform.catalog.get("salesforce")
    through_meltano = connector.model_copy(update={"connection_test": "meltano"})
    environ = {**os.environ, ct.LOGIN_URL_ENV: sandbox.url}
    config = salesforce_config(sandbox)

    native = ct.test_connection(connector, config, platform.settings, environ)
    meltano = ct.test_connection(through_meltano, config, platform.settings, environ)
    bad = {**config, "refresh_token": "a-revoked-refresh-token"}
    native_bad = ct.test_connection(connector, bad, platform.settings, environ)
    meltano_bad = ct.test_connection(through_meltano, bad, platform.settings, environ)

    assert native.ok and meltano.ok, (native.message, meltano.message)
    assert native_bad.reason == meltano_bad.reason == "authentication"
    for result in (native, meltano, native_bad, meltano_bad):
        assert_clean(platform, result, canary)
    with capsys.disabled():
        print(
            f"\nSalesforce connection test: native {native.duration_s:.3f} s, "
            f"meltano config test {meltano.duration_s:.3f} s "
            f"(x{meltano.duration_s / native.duration_s:.0f}); refused token: native "
            f"{native_bad.duration_s:.3f} s, meltano {meltano_bad.duration_s:.3f} s "
            f"(x{meltano_bad.duration_s / native_bad.duration_s:.0f})"
        )
