"""Fixtures shared by the integration tests."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.conftest import START
from tests.integration.helpers import ORDERS
from tests.s3_emulator import S3Emulator, start_s3_emulator


@pytest.fixture
def source_url(postgres_database):
    """A PostgreSQL source: ``public.orders`` with ORDERS rows, one an hour from ``START``,
    and a table no integration selects."""
    engine = sa.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE public.orders (id bigint PRIMARY KEY, "
                "updated_at timestamptz NOT NULL, amount numeric(12,2), note text)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO public.orders SELECT g, "
                f"timestamptz '{START}' + g * interval '1 hour', g * 1.5, 'order ' || g "
                f"FROM generate_series(1, {ORDERS}) AS g"
            )
        )
        conn.execute(sa.text("CREATE TABLE public.ignored (id int PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO public.ignored VALUES (1), (2)"))
    engine.dispose()
    return postgres_database


@pytest.fixture
def s3_emulator() -> Iterator[S3Emulator]:
    """A local S3 (moto in server mode) that checks every request's signature, with one
    IAM key: tests/s3_emulator.py."""
    with start_s3_emulator() as emulator:
        yield emulator
