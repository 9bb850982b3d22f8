"""Destinations on the page, in a real headless Chromium against the real API and config
store: an editor adds a MySQL integration (the local MariaDB) and, from inside the wizard,
configures a NEW PostgreSQL destination (the local server, a fresh database), tests its
connection, saves it, and finishes the wizard with it selected; the integration then
loads into it. Its password — a canary — is never sent back: not by the API, not in the
page. The destinations view lists it with the integration that uses it and refuses its
removal while in use; a viewer sees the same list without a control that changes it.

The API runs alone here (no ``dagster dev``): configuring destinations and saving an
integration need no Dagster (the save says its assets appear once Dagster is back). The
sync that proves the rows land in the new database runs in process, as the integration
tests' syncs do."""

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg2
import pytest
from playwright.sync_api import Locator, Page, expect

from integrations_platform.catalog import load_catalog
from integrations_platform.people import Accounts
from integrations_platform.service import IntegrationService
from integrations_platform.settings import PROJECT_ROOT, Settings, get_settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key
from tests.conftest import START, Platform
from tests.e2e.support import (
    ResponseRecorder,
    Stack,
    accessibility_violations,
    input_values,
    screenshot,
)
from tests.integration.helpers import (
    files_containing,
    free_port,
    materialize,
    rows_by_asset,
    stop_process_group,
    wait_for,
)
from tests.integration.test_mysql_sync import MARIADB_HOST, MARIADB_PORT, mariadb

pytestmark = pytest.mark.usefixtures("meltano_plugins")

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
INTEGRATION, DESTINATION = "shop_orders", "shop_warehouse"
EDITOR, VIEWER = "dora", "vic"
CHANGING = re.compile(r"^(Add|Edit|Remove|Test|Save|Configure)\b")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real API (uvicorn) over a fresh platform home, without Dagster (its address
    is a closed port) and without the Salesforce sandbox (this module uses neither)."""
    root = tmp_path_factory.mktemp("e2e-destinations")
    home, dagster_home, logs = root / "home", root / "dagster", root / "logs"
    for path in (home, dagster_home, logs):
        path.mkdir()
    # The API reads run status from the Dagster instance there (no run in this module).
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    token = f"e2e-token-{uuid.uuid4().hex}"
    api_url = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "DAGSTER_"))}
    env.update(
        INTEGRATIONS_HOME=str(home),
        DAGSTER_HOME=str(dagster_home),
        INTEGRATIONS_ENCRYPTION_KEYS=generate_key(),
        INTEGRATIONS_DAGSTER_URL=f"http://127.0.0.1:{free_port()}",
        INTEGRATIONS_API_URL=api_url,
        INTEGRATIONS_API_TOKEN=token,
    )
    state = Stack(home, api_url, env["INTEGRATIONS_DAGSTER_URL"], token, None, env, logs)  # type: ignore[arg-type]
    ConfigStore.open(state.database_url).close()
    api_log = (logs / "api.log").open("wb")
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "integrations_platform.api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            api_url.rsplit(":", 1)[1],
            "--log-level",
            "warning",
        ],
        cwd=root,
        env=env,
        stdout=api_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def api_up() -> bool:
            assert api.poll() is None, (logs / "api.log").read_text()[-3000:]
            return httpx.get(f"{api_url}/healthz", timeout=2).status_code == 200

        wait_for(api_up, 60, "the config API")
        yield state
    finally:
        stop_process_group(api)
        api_log.close()


@dataclass(frozen=True)
class MySqlSource:
    database: str
    user: str
    password: str


@pytest.fixture
def mysql_source() -> Iterator[MySqlSource]:
    """A MariaDB database with ``orders`` (5 rows), and a user that may only read it,
    whose password is a canary; both dropped afterwards."""
    database, user = f"e2e_{uuid.uuid4().hex[:10]}", f"e2e_{uuid.uuid4().hex[:10]}"
    password = f"canary-mysql-{uuid.uuid4().hex}"
    mariadb(f"CREATE DATABASE `{database}`")
    try:
        mariadb(
            "CREATE TABLE orders (id INT PRIMARY KEY, updated_at DATETIME NOT NULL, "
            "note VARCHAR(100));"
            "INSERT INTO orders VALUES "
            + ", ".join(
                f"({i}, TIMESTAMP '{START} 00:00:00' + INTERVAL {i} HOUR, 'order {i}')"
                for i in range(1, 6)
            ),
            database,
        )
        mariadb(
            f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}';"
            f"GRANT SELECT ON `{database}`.* TO '{user}'@'%';"
        )
        yield MySqlSource(database, user, password)
    finally:
        mariadb(f"DROP USER IF EXISTS '{user}'@'%'; DROP DATABASE IF EXISTS `{database}`")


def _run_sql(statement: str, database: str = "postgres") -> list[tuple]:
    """Run one statement on the local PostgreSQL server (outside a transaction)."""
    connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=database)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


@pytest.fixture
def warehouse_database() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server (trust auth), dropped afterwards."""
    name = f"e2e_dest_{uuid.uuid4().hex[:10]}"
    _run_sql(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        _run_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sign_in_link(stack: Stack, name: str, role: str) -> str:
    """A user with ``role`` (added), and a one-time sign-in link's address for them."""
    store = ConfigStore.open(stack.database_url)
    try:
        accounts = Accounts(store)
        accounts.add_user(name, role)
        return f"{stack.api_url}/#sign-in={accounts.create_link(name)}"
    finally:
        store.close()


def follow_link(page: Page, address: str, name: str) -> None:
    page.goto("about:blank")
    page.goto(address)
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    expect(page.locator("#signed-in-name")).to_have_text(name)


def sync_in_process(
    stack: Stack, name: str, dagster_home: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, int]:
    """Sync integration ``name`` of the stack's platform in this process (a real Meltano
    run through Dagster's in-process executor); its rows per asset."""
    for var in [v for v in os.environ if v.startswith("INTEGRATIONS_")]:
        monkeypatch.delenv(var)
    for var in ("INTEGRATIONS_HOME", "INTEGRATIONS_ENCRYPTION_KEYS"):
        monkeypatch.setenv(var, stack.env[var])
    get_settings.cache_clear()
    settings = Settings.from_env()
    store = ConfigStore.open(settings.database_url)
    try:
        service = IntegrationService(
            load_catalog(settings.catalog_dir), store, lambda: KeyRing.from_env(os.environ)
        )
        platform = Platform(
            stack.home, settings, stack.env["INTEGRATIONS_ENCRYPTION_KEYS"], service
        )
        with platform.dagster_instance(dagster_home) as instance:
            return rows_by_asset(materialize(platform, name, instance))
    finally:
        store.close()
        get_settings.cache_clear()


def review_rows(review: Locator) -> dict[str, str]:
    return dict(
        zip(
            review.locator("dt").all_inner_texts(),
            review.locator("dd").all_inner_texts(),
            strict=True,
        )
    )


def test_an_editor_configures_a_postgres_destination_from_the_wizard(
    page: Page,
    stack: Stack,
    artifacts: Path,
    mysql_source: MySqlSource,
    warehouse_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack.delete_all()
    pg_password = f"canary-pg-{uuid.uuid4().hex}"
    canaries = (pg_password, mysql_source.password)
    recorder = ResponseRecorder().attach(page)
    follow_link(page, sign_in_link(stack, EDITOR, "editor"), EDITOR)

    # The wizard: a MySQL integration on the local MariaDB.
    page.get_by_role("button", name="Add integration").click()
    wizard = page.get_by_role("dialog", name="Add an integration")
    wizard.get_by_role("radio", name=re.compile("MySQL")).check()
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard = page.locator("#wizard")
    expect(wizard.get_by_role("heading", name="Add a MySQL / MariaDB integration")).to_be_visible()
    wizard.locator("#field-name").fill(INTEGRATION)
    wizard.locator("#field-config-host").fill(MARIADB_HOST)
    wizard.locator("#field-config-port").fill(str(MARIADB_PORT))
    wizard.locator("#field-config-user").fill(mysql_source.user)
    wizard.locator("#field-config-password").fill(mysql_source.password)
    wizard.locator("#field-config-database").fill(mysql_source.database)
    wizard.locator("#field-config-filter_schemas").fill(mysql_source.database)
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard.get_by_role("button", name="Next: streams").click()
    expect(wizard.locator("#discovery-status")).to_contain_text("streams found", timeout=60_000)
    wizard.get_by_role("checkbox", name=f"{mysql_source.database}-orders", exact=True).check()
    wizard.get_by_label("Start date").fill(START)

    # The destination field lists the live destinations; a new one is configured here.
    destination_field = wizard.locator("#field-destination")
    expect(destination_field.locator("option")).to_have_text(
        ["jsonl — JSON Lines files (embedded)", "postgres — PostgreSQL"]
    )
    wizard.get_by_role("button", name="Configure a new destination…").click()
    form = page.locator("#destination-dialog")
    expect(form.get_by_role("heading", name="Configure a destination")).to_be_visible()
    choice = form.locator('[data-connector="postgres"]')
    expect(choice.locator("[data-tier]")).to_have_text("Verified")
    form.get_by_role("radio", name=re.compile("PostgreSQL")).check()
    form.get_by_role("button", name="Next", exact=True).click()
    expect(form.get_by_role("heading", name="Configure a PostgreSQL destination")).to_be_visible()
    expect(form.locator("#dest-config-port")).to_have_value("5432")
    form.locator("#dest-name").fill(DESTINATION)
    form.locator("#dest-config-host").fill(PG_HOST)
    form.locator("#dest-config-user").fill(PG_USER)
    form.locator("#dest-config-password").fill(pg_password)
    form.locator("#dest-config-database").fill(warehouse_database)
    form.get_by_role("button", name="Test connection").click()
    result = form.locator("#destination-test-result .result")
    expect(result).to_have_attribute("data-ok", "true", timeout=30_000)
    expect(result).to_contain_text("Connection works")
    expect(result).to_contain_text(warehouse_database)
    form.evaluate("(dialog) => { dialog.scrollTop = dialog.scrollHeight; }")
    screenshot(page, artifacts, "destinations-wizard-new-destination")
    blocking = accessibility_violations(page, "destination form", "#destination-dialog")
    assert blocking == [], "\n".join(blocking)
    form.get_by_role("button", name="Save destination").click()
    expect(form).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text(f"Saved the destination '{DESTINATION}'")
    # Saved, and selected.
    expect(destination_field).to_have_value(DESTINATION)
    expect(destination_field.locator("option:checked")).to_have_text(f"{DESTINATION} — PostgreSQL")

    wizard.get_by_role("button", name="Next: review").click()
    rows = review_rows(wizard.locator("#wizard-review"))
    assert rows["Destination"] == f"{DESTINATION} — PostgreSQL", rows
    assert rows["Password"] == "set", rows
    screenshot(page, artifacts, "destinations-wizard-review")
    wizard.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#wizard")).to_be_hidden(timeout=60_000)
    expect(page.locator("#toasts")).to_contain_text(f"Saved '{INTEGRATION}'.")
    expect(page.locator(f'tr[data-name="{INTEGRATION}"]')).to_contain_text("Enabled")

    # The API: the integration loads into the new destination; its password is only "set".
    integration = stack.api("GET", f"/api/v1/integrations/{INTEGRATION}").json()
    assert integration["destination"] == DESTINATION, integration
    assert integration["destination_connector"] == "postgres", integration
    destination = stack.api("GET", f"/api/v1/destinations/{DESTINATION}").json()
    assert destination["secrets"] == {"password": "set"}, destination
    assert destination["config"]["database"] == warehouse_database
    assert "password" not in destination["config"]
    assert destination["used_by"] == [INTEGRATION]

    # A sync loads the orders into the new database, a schema named after the integration.
    (tmp_path / "dagster").mkdir()
    rows = sync_in_process(stack, INTEGRATION, tmp_path / "dagster", monkeypatch)
    assert list(rows.values()) == [5], rows
    loaded = _run_sql(f"SELECT id, note FROM {INTEGRATION}.orders ORDER BY id", warehouse_database)
    assert loaded == [(i, f"order {i}") for i in range(1, 6)], loaded

    # The destinations view: the new one, with the integration that uses it.
    page.get_by_role("link", name="Destinations").click()
    expect(page.get_by_role("heading", name="Destinations")).to_be_focused()
    row = page.locator(f'#destinations-table tr[data-destination="{DESTINATION}"]')
    expect(row).to_contain_text("PostgreSQL")
    expect(row.locator(".used-by")).to_have_text(INTEGRATION)
    built_in = page.locator('#destinations-table tr[data-destination="jsonl"]')
    expect(built_in).to_contain_text("Nothing to configure")
    expect(built_in.get_by_role("button", name=re.compile("^(Edit|Remove)"))).to_have_count(0)
    row.get_by_role("button", name=f"Test {DESTINATION}").click()
    expect(page.locator("#destination-test .result")).to_have_attribute("data-ok", "true")
    # Removing it is refused while the integration loads into it: the page says why.
    row.get_by_role("button", name=f"Remove {DESTINATION}").click()
    page.get_by_role("alertdialog").get_by_role("button", name=f"Remove {DESTINATION}").click()
    expect(page.locator("#destinations-error")).to_contain_text(
        f"Destination '{DESTINATION}' is in use by {INTEGRATION}"
    )
    expect(row).to_have_count(1)
    screenshot(page, artifacts, "destinations-view-editor")
    blocking = accessibility_violations(page, "destinations view", "#destinations")
    assert blocking == [], "\n".join(blocking)

    # Editing it: the password is write-only (blank keeps it).
    row.get_by_role("button", name=f"Edit {DESTINATION}").click()
    form = page.locator("#destination-dialog")
    expect(form.locator("#dest-config-host")).to_have_value(PG_HOST)
    expect(form.locator("#dest-config-password")).to_have_value("")
    expect(form.locator("#dest-config-password-hint")).to_have_text(
        "Set — leave blank to keep the stored value."
    )
    form.get_by_role("button", name="Save changes").click()
    expect(form).to_have_count(0)

    # The canary never came back: not from the API, not in the page.
    for canary in canaries:
        assert recorder.containing(canary) == [], canary
        assert canary not in page.content()
        assert not any(canary in value for value in input_values(page))
        assert canary not in stack.api("GET", f"/api/v1/destinations/{DESTINATION}").text
        assert canary not in stack.api("GET", f"/api/v1/integrations/{INTEGRATION}").text
        assert files_containing(stack.home, canary) == [], canary
    assert recorder.unreadable == []

    # A viewer sees the destinations, and no control that changes them.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("dialog", name="Sign in")).to_be_visible()
    follow_link(page, sign_in_link(stack, VIEWER, "viewer"), VIEWER)
    page.get_by_role("link", name="Destinations").click()
    expect(
        page.locator(f'#destinations-table tr[data-destination="{DESTINATION}"]')
    ).to_contain_text(INTEGRATION)
    expect(page.locator("#destinations-table tbody tr")).to_have_count(3)
    section = page.locator("#destinations")
    expect(section.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("button", name=CHANGING)).to_have_count(0)
    screenshot(page, artifacts, "destinations-view-viewer")

    stack.delete_all()
    assert stack.api("DELETE", f"/api/v1/destinations/{DESTINATION}").status_code == 204
