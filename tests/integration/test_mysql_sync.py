"""Real tap-mysql from the local MariaDB server into the embedded destination.

The source is a fresh database per module on the MariaDB server at 127.0.0.1:3306 (user
root, no password), reached with the ``mariadb`` client; the integration logs in as a
user of its own whose password is the test's canary, so every check below also checks
that the password is never written anywhere.
"""

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import pytest

from integrations_platform.keys import stream_key_part
from integrations_platform.runner import connection_test as ct
from integrations_platform.settings import PROJECT_ROOT
from tests.conftest import DATA_START, START
from tests.integration.helpers import (
    files_containing,
    free_port,
    jsonl_rows,
    materialize,
    rows_by_asset,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")

MARIADB_HOST = "127.0.0.1"
MARIADB_PORT = 3306
ORDERS = 20


def mariadb(statements: str, database: str | None = None) -> str:
    """Run ``statements`` as root on the local server; fails (never skips) if it is down."""
    client = shutil.which("mariadb") or shutil.which("mysql")
    assert client, "the mariadb (or mysql) client is not installed"
    args = [client, "-h", MARIADB_HOST, "-P", str(MARIADB_PORT), "-u", "root"]
    args += ["--batch", "--skip-column-names"]
    if database:
        args.append(database)
    result = subprocess.run(
        [*args, "-e", statements], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def order_time(order_id: int) -> str:
    """``updated_at`` of an order: one an hour from the test data's first day."""
    return f"TIMESTAMP '{START} 00:00:00' + INTERVAL {order_id} HOUR"


@dataclass(frozen=True)
class Source:
    """The module's database and the user an integration logs in as."""

    database: str
    user: str
    password: str

    @property
    def stream(self) -> str:
        return f"{self.database}-orders"

    @property
    def asset(self) -> str:
        return stream_key_part(self.stream)

    def config(self, **overrides: object) -> dict[str, object]:
        config: dict[str, object] = {
            "host": MARIADB_HOST,
            "port": MARIADB_PORT,
            "user": self.user,
            "password": self.password,
            "database": self.database,
            "filter_schemas": [self.database],
        }
        config.update(overrides)
        return config


@pytest.fixture(scope="module")
def mysql_database() -> Iterator[str]:
    """A new database with ``orders`` (ORDERS rows, one an hour from START) and a table
    no integration selects; dropped afterwards."""
    name = f"it_{uuid.uuid4().hex[:12]}"
    mariadb(f"CREATE DATABASE `{name}`")
    try:
        values = ", ".join(
            f"({i}, {order_time(i)}, {i * 1.5}, 'order {i}')" for i in range(1, ORDERS + 1)
        )
        mariadb(
            "CREATE TABLE orders (id INT PRIMARY KEY, updated_at DATETIME NOT NULL, "
            "amount DECIMAL(12,2), note VARCHAR(100));"
            f"INSERT INTO orders VALUES {values};"
            "CREATE TABLE ignored (id INT PRIMARY KEY); INSERT INTO ignored VALUES (1), (2);",
            name,
        )
        yield name
    finally:
        mariadb(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def source(mysql_database: str, canary: str) -> Iterator[Source]:
    """A user that may only read the module's database, with the canary as password."""
    user = f"it_{uuid.uuid4().hex[:12]}"
    mariadb(
        f"CREATE USER '{user}'@'%' IDENTIFIED BY '{canary}';"
        f"GRANT SELECT ON `{mysql_database}`.* TO '{user}'@'%';"
    )
    try:
        yield Source(mysql_database, user, canary)
    finally:
        mariadb(f"DROP USER IF EXISTS '{user}'@'%'")


def test_mysql_source_syncs_incrementally_and_its_password_stays_hidden(
    platform, source, canary, dagster_home
):
    platform.service.add(
        "mysql",
        "shop",
        source.config(),
        streams=[f"{source.stream}:updated_at"],
        start_date=START,
    )
    with platform.dagster_instance(dagster_home) as instance:
        first = materialize(platform, "shop", instance)
        assert rows_by_asset(first) == {source.asset: ORDERS}
        rows = jsonl_rows(platform, "shop", source.stream)
        assert [r["id"] for r in rows] == list(range(1, ORDERS + 1))
        assert rows[9]["note"] == "order 10" and float(rows[9]["amount"]) == 15.0
        assert rows[9]["updated_at"].startswith(f"{DATA_START.date().isoformat()}T10:00:00")

        # New rows, a changed row (its updated_at moves forward) and a row changed
        # without moving updated_at, which an incremental sync does not see.
        mariadb(
            "INSERT INTO orders VALUES "
            + ", ".join(f"({i}, {order_time(i)}, {i}, 'new {i}')" for i in (21, 22, 23))
            + f"; UPDATE orders SET note = 'changed 5', updated_at = {order_time(24)} "
            "WHERE id = 5; UPDATE orders SET note = 'unseen 2' WHERE id = 2;",
            source.database,
        )
        second = materialize(platform, "shop", instance)
        records = [e for run in (first.run_id, second.run_id) for e in instance.all_logs(run)]
        event_log = "\n".join(dg.serialize_value(r) for r in records)

    # Only rows at or after the bookmark came: 21-23 and 5, and the bookmark row (20) that
    # the SDK's `>=` reads again.
    assert rows_by_asset(second)[source.asset] in (4, 5)
    rows = {r["id"]: r for r in jsonl_rows(platform, "shop", source.stream)}
    assert sorted(rows) == list(range(1, 24))
    assert rows[5]["note"] == "changed 5"
    assert rows[2]["note"] == "order 2"
    assert rows[22]["note"] == "new 22"

    assert canary not in event_log
    for root in (dagster_home, platform.home, PROJECT_ROOT / "meltano"):
        assert files_containing(root, canary) == [], root


def test_mysql_discovery_names_streams_database_table(platform, source):
    platform.service.add(
        "mysql", "shop", source.config(), streams=[source.stream], start_date=START
    )
    discovered = platform.service.discover("shop")

    assert discovered.ok, discovered.outcome
    streams = {s.name: s for s in discovered.discovery.streams}
    # filter_schemas keeps discovery to the one database: no server tables.
    assert set(streams) == {source.stream, f"{source.database}-ignored"}
    orders = streams[source.stream]
    assert orders.primary_key == ("id",)
    assert "updated_at" in orders.replication_keys
    assert orders.column("updated_at").format == "date-time"
    assert orders.column("amount").type == "number"


def run_connection_test(platform, config: dict[str, object]) -> ct.ConnectionTestResult:  # noqa: ANN001
    connector = platform.catalog.get("mysql")
    return ct.test_connection(connector, config, platform.settings, dict(os.environ))


def test_mysql_connection_test_tells_ok_wrong_password_and_closed_port_apart(
    platform, source, canary
):
    wrong = f"{canary}-wrong"
    ok = run_connection_test(platform, source.config())
    refused = run_connection_test(platform, source.config(password=wrong))
    closed = run_connection_test(platform, source.config(port=free_port()))

    assert ok.ok and ok.reason == "ok", ok.message
    assert ok.details["extractor"] == "tap-mysql"
    assert not refused.ok and refused.reason == "authentication", refused.message
    assert "Access denied for user" in refused.message
    assert not closed.ok and closed.reason == "network", closed.message
    for result in (ok, refused, closed):
        shown = json.dumps(result.as_dict())
        assert canary not in shown and wrong not in shown
    runs = platform.settings.home / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []
    assert files_containing(platform.home, canary) == []
