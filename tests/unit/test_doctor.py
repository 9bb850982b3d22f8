"""``integrations doctor`` against real databases and files: what it finds and the fix
it names, without ever printing a password or a key."""

import json
import re
import shutil
import socket
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from integrations_platform.catalog import load_catalog
from integrations_platform.cli import main
from integrations_platform.deployment import migrate_everything
from integrations_platform.doctor import Check, DoctorReport, run_doctor
from integrations_platform.service import IntegrationService
from integrations_platform.settings import PROJECT_ROOT, Settings, get_settings
from integrations_platform.store import ConfigStore, KeyRing, generate_key

PASSWORD = "doctor-pw-5f1c0e"  # trust auth: the local server accepts any password
SF_CONFIG = {
    "client_id": "doctor-client-id",
    "client_secret": "doctor-client-secret-77ab",
    "refresh_token": "doctor-refresh-token-c3d9",
    "instance_url": "https://acme.my.salesforce.com",
}
# Variables of the test process that would change what the doctor sees.
CLEARED = (
    "INTEGRATIONS_DATABASE_URL",
    "INTEGRATIONS_POSTGRES_URL",
    "INTEGRATIONS_DAGSTER_DATABASE_URL",
    "MELTANO_DATABASE_URI",
    "INTEGRATIONS_MELTANO_PROJECT",
    "INTEGRATIONS_RUN_LAUNCHER",
    "INTEGRATIONS_MAX_CONCURRENT_SYNCS_SALESFORCE",
    "DAGSTER_HOME",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check(report: DoctorReport, name: str) -> Check:
    found = [c for c in report.checks if c.name == name]
    assert found, [c.name for c in report.checks]
    return found[0]


def with_password(url: str) -> str:
    return make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


def add_integration(settings: Settings, key: str, name: str) -> None:
    store = ConfigStore.open(settings.database_url)
    try:
        service = IntegrationService(
            load_catalog(settings.catalog_dir), store, lambda: KeyRing.from_value(key)
        )
        service.add("salesforce", name, SF_CONFIG, start_date="2024-01-01")
    finally:
        store.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process environment without the test runner's deployment variables, put back
    exactly afterwards (``integrations migrate`` exports the derived URLs into it)."""
    for var in CLEARED:
        monkeypatch.setenv(var, "")  # records the original, even when it is absent
        monkeypatch.delenv(var)
    get_settings.cache_clear()


@pytest.fixture
def deployment(postgres_database: str, tmp_path: Path, clean_env: None) -> dict[str, str]:
    """Production mode on a fresh database, prepared by `integrations migrate`'s logic,
    with one integration stored; Dagster's webserver is not started."""
    environ = {
        "INTEGRATIONS_POSTGRES_URL": with_password(postgres_database),
        "INTEGRATIONS_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "INTEGRATIONS_ENCRYPTION_KEYS": generate_key(),
        "INTEGRATIONS_DAGSTER_URL": f"http://127.0.0.1:{free_port()}",
    }
    settings = Settings.from_env(environ)
    migrate_everything(settings, dict(environ))
    add_integration(settings, environ["INTEGRATIONS_ENCRYPTION_KEYS"], "crm")
    return environ


def test_a_migrated_postgres_deployment_is_healthy_except_the_absent_webserver(
    deployment: dict[str, str], meltano_plugins: Path
) -> None:
    report = run_doctor(deployment)

    statuses = {c.name: c.status for c in report.checks}
    assert statuses == {
        "config store": "ok",
        "encryption keys": "ok",
        "meltano state": "ok",
        "connector catalog": "ok",
        "meltano plugins": "ok",
        "dagster.yaml": "ok",
        "dagster storage": "ok",
        "run queue": "ok",
        "dagster webserver": "fail",
    }, report.as_dict()
    assert "integrations" in check(report, "config store").found
    assert "1 integration(s) stored" in check(report, "config store").found
    assert "all 1 stored integration(s) decrypt" in check(report, "encryption keys").found
    assert "connector/salesforce ≤ 2" in check(report, "run queue").found
    assert "one per integration" in check(report, "run queue").found
    webserver = check(report, "dagster webserver")
    assert deployment["INTEGRATIONS_DAGSTER_URL"] in webserver.found
    assert "INTEGRATIONS_DAGSTER_URL" in webserver.fix
    assert not report.ok
    text = json.dumps(report.as_dict())
    assert PASSWORD not in text
    assert deployment["INTEGRATIONS_ENCRYPTION_KEYS"] not in text


def test_the_cli_prints_one_line_per_check_and_exits_1_on_a_failure(
    deployment: dict[str, str],
) -> None:
    result = CliRunner().invoke(main, ["doctor"], env=deployment)

    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("9 checks: ")
    webserver = next(line for line in lines if "dagster webserver" in line)
    assert webserver.startswith("FAIL ")
    assert "Fix: Start the Dagster webserver" in webserver
    assert next(line for line in lines if "config store" in line).startswith("ok ")
    assert PASSWORD not in result.output

    as_json = CliRunner().invoke(main, ["doctor", "--json"], env=deployment)
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False
    assert {c["name"] for c in data["checks"] if c["status"] == "fail"} == {"dagster webserver"}


def test_pool_limits_that_drifted_from_the_settings_fail_until_migrated(
    deployment: dict[str, str],
) -> None:
    changed = {**deployment, "INTEGRATIONS_MAX_CONCURRENT_SYNCS_SALESFORCE": "3"}

    queue = check(run_doctor(changed), "run queue")
    assert queue.status == "fail"
    assert "connector/salesforce ≤ 2" in queue.found
    assert "connector/salesforce ≤ 3" in queue.found
    assert "`integrations migrate`" in queue.fix

    migrate_everything(Settings.from_env(changed), dict(changed))
    assert check(run_doctor(changed), "run queue").status == "ok"


def test_a_wrong_key_names_the_integrations_it_cannot_decrypt(
    tmp_path: Path, clean_env: None
) -> None:
    old_key, new_key = generate_key(), generate_key()
    environ = {"INTEGRATIONS_HOME": str(tmp_path / "home"), "INTEGRATIONS_ENCRYPTION_KEYS": old_key}
    settings = Settings.from_env(environ)
    add_integration(settings, old_key, "crm")
    add_integration(settings, old_key, "sales_eu")

    report = run_doctor({**environ, "INTEGRATIONS_ENCRYPTION_KEYS": new_key})

    keys = check(report, "encryption keys")
    assert keys.status == "fail"
    assert "2 of 2 stored integration(s) cannot be decrypted" in keys.found
    assert "crm, sales_eu" in keys.found
    assert "INTEGRATIONS_ENCRYPTION_KEYS=<current key>,<old key>" in keys.fix
    assert "`integrations rotate-keys`" in keys.fix
    assert "`integrations update NAME --config FILE`" in keys.fix
    text = json.dumps(report.as_dict())
    for secret in (old_key, new_key, SF_CONFIG["client_secret"], SF_CONFIG["refresh_token"]):
        assert secret not in text

    # The fix it names works: the old key after the new one decrypts, and says to rotate.
    both = run_doctor({**environ, "INTEGRATIONS_ENCRYPTION_KEYS": f"{new_key},{old_key}"})
    keys = check(both, "encryption keys")
    assert keys.status == "warn"
    assert "2 still use an older key: crm, sales_eu" in keys.found
    assert "`integrations rotate-keys`" in keys.fix


def test_a_config_copied_onto_another_integration_is_named(tmp_path: Path, clean_env: None) -> None:
    key = generate_key()
    environ = {"INTEGRATIONS_HOME": str(tmp_path / "home"), "INTEGRATIONS_ENCRYPTION_KEYS": key}
    settings = Settings.from_env(environ)
    add_integration(settings, key, "crm")
    add_integration(settings, key, "sales_eu")
    engine = sa.create_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE integrations SET config_ciphertext = (SELECT config_ciphertext "
                "FROM integrations WHERE name = 'crm') WHERE name = 'sales_eu'"
            )
        )
    engine.dispose()

    keys = check(run_doctor(environ), "encryption keys")

    assert keys.status == "fail"
    assert "sales_eu belongs to another integration" in keys.found
    assert "crm" not in keys.found
    assert "Re-enter" in keys.fix


def test_a_malformed_or_missing_key_fails_with_its_fix(tmp_path: Path, clean_env: None) -> None:
    environ = {"INTEGRATIONS_HOME": str(tmp_path / "home")}

    missing = check(run_doctor(environ), "encryption keys")
    assert missing.status == "fail"
    assert "INTEGRATIONS_ENCRYPTION_KEYS is not set" in missing.found
    assert "`integrations keygen`" in missing.fix

    bad = check(
        run_doctor({**environ, "INTEGRATIONS_ENCRYPTION_KEYS": f"{generate_key()},not-a-key"}),
        "encryption keys",
    )
    assert bad.status == "fail"
    assert "key #2 is not a valid key" in bad.found
    assert "not-a-key" not in bad.found + bad.fix


def test_an_unreachable_database_fails_fast_without_showing_its_password(
    tmp_path: Path, clean_env: None
) -> None:
    environ = {
        "INTEGRATIONS_POSTGRES_URL": f"postgresql+psycopg2://postgres:{PASSWORD}@127.0.0.1:1/prod",
        "INTEGRATIONS_HOME": str(tmp_path / "home"),
        "INTEGRATIONS_ENCRYPTION_KEYS": generate_key(),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "INTEGRATIONS_DAGSTER_URL": f"http://127.0.0.1:{free_port()}",
    }
    started = time.monotonic()
    result = CliRunner().invoke(main, ["doctor", "--json"], env=environ)
    elapsed = time.monotonic() - started

    assert result.exit_code == 1, result.output
    assert elapsed < 15, elapsed
    report = json.loads(result.stdout)
    by_name = {c["name"]: c for c in report["checks"]}
    store = by_name["config store"]
    assert store["status"] == "fail"
    assert "cannot connect to postgresql+psycopg2://postgres:***@127.0.0.1:1/prod" in store["found"]
    assert "INTEGRATIONS_POSTGRES_URL" in store["fix"]
    assert "`integrations migrate`" in store["fix"]
    assert by_name["meltano state"]["status"] == "fail"
    assert by_name["encryption keys"]["status"] == "warn"  # nothing to decrypt against
    assert PASSWORD not in result.output


def meltano_plugins() -> list[tuple[str, str, str]]:
    """(kind folder, name, executable) of every plugin meltano.yml declares."""
    project = yaml.safe_load((PROJECT_ROOT / "meltano" / "meltano.yml").read_text())
    return [
        (f"{kind}", plugin["name"], plugin.get("executable") or plugin["name"])
        for kind, plugins in project["plugins"].items()
        for plugin in plugins
    ]


def test_missing_plugins_are_named_with_the_install_command(
    tmp_path: Path, clean_env: None
) -> None:
    project = tmp_path / "meltano"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "meltano" / "meltano.yml", project / "meltano.yml")
    environ = {
        "INTEGRATIONS_HOME": str(tmp_path / "home"),
        "INTEGRATIONS_MELTANO_PROJECT": str(project),
    }

    plugins = check(run_doctor(environ), "meltano plugins")

    count = len(meltano_plugins())
    assert plugins.status == "fail"
    assert f"{count} of {count} plugins not installed in {project / '.meltano'}" in plugins.found
    for name in (
        "tap-mysql",
        "tap-rest-api-msdk",
        "tap-salesforce",
        "tap-salesforce-sandbox",
        "tap-postgres",
        "target-jsonl",
        "target-postgres",
        "singer-window-filter",
    ):
        assert f"{name} (missing" in plugins.found
    # Each extractor is named with the catalog file that asks for it.
    assert "tap-mysql (missing, for mysql.yaml)" in plugins.found
    assert "tap-salesforce-sandbox (missing, for salesforce.yaml)" in plugins.found
    assert "target-jsonl (missing)" in plugins.found
    assert plugins.fix.startswith("`integrations catalog sync` (or ")
    assert f"cd {project} && UV_PYTHON_DOWNLOADS=never " in plugins.fix
    assert plugins.fix.rstrip("`.)").endswith("meltano install")

    # A project that is not the catalog's rendering also says to regenerate it.
    (project / "meltano.yml").write_text("project_id: stale\nplugins: {}\n", encoding="utf-8")
    stale = check(run_doctor(environ), "meltano plugins")
    assert stale.fix.startswith("`integrations catalog sync` (renders meltano.yml")
    assert "`integrations meltano-yml --write`, then " in stale.fix


def test_a_plugin_whose_interpreter_is_gone_is_broken(tmp_path: Path, clean_env: None) -> None:
    project = tmp_path / "meltano"
    shutil.copytree(PROJECT_ROOT / "meltano", project, ignore=shutil.ignore_patterns(".meltano"))
    every = meltano_plugins()
    for kind, plugin, executable in every:
        script = project / ".meltano" / kind / plugin / "venv" / "bin" / executable
        script.parent.mkdir(parents=True)
        interpreter = "/nonexistent/venv/bin/python" if plugin == "target-jsonl" else "/bin/sh"
        script.write_text(f"#!{interpreter}\n", encoding="utf-8")
        script.chmod(0o755)
    environ = {
        "INTEGRATIONS_HOME": str(tmp_path / "home"),
        "INTEGRATIONS_MELTANO_PROJECT": str(project),
    }

    plugins = check(run_doctor(environ), "meltano plugins")

    assert plugins.status == "fail"
    assert plugins.found == (
        f"1 of {len(every)} plugins not installed in {project / '.meltano'}: "
        "target-jsonl (broken: its interpreter /nonexistent/venv/bin/python is gone)"
    )


def test_dagster_storage_not_yet_migrated_fails_with_migrate(
    postgres_database: str, tmp_path: Path, clean_env: None
) -> None:
    environ = {
        "INTEGRATIONS_POSTGRES_URL": postgres_database,
        "INTEGRATIONS_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "INTEGRATIONS_ENCRYPTION_KEYS": generate_key(),
    }

    report = run_doctor(environ)

    store = check(report, "config store")
    assert store.status == "fail"
    assert "schema 'integrations' does not exist" in store.found
    assert store.fix == "Run `integrations migrate`."
    assert check(report, "meltano state").status == "fail"
    home = check(report, "dagster.yaml")
    assert home.status == "fail"
    assert "no dagster.yaml" in home.found
    assert "`integrations migrate`" in home.fix
    # Read-only: the doctor created nothing.
    assert not (tmp_path / "dagster").exists()
    engine = sa.create_engine(postgres_database)
    with engine.connect() as conn:
        schemas = set(sa.inspect(conn).get_schema_names())
    engine.dispose()
    assert not schemas & {"integrations", "meltano", "dagster"}


def test_a_sqlite_dagster_yaml_under_postgres_settings_fails(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    embedded = (PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8")
    (Path(deployment["DAGSTER_HOME"]) / "dagster.yaml").write_text(embedded, encoding="utf-8")

    home = check(run_doctor(deployment), "dagster.yaml")

    assert home.status == "fail"
    assert "SQLite under DAGSTER_HOME, but the settings put it on PostgreSQL" in home.found
    assert "`integrations migrate`" in home.fix
    assert PASSWORD not in home.found


def test_the_docker_launcher_warns_about_variables_the_daemon_lacks(
    deployment: dict[str, str],
) -> None:
    docker = {**deployment, "INTEGRATIONS_RUN_LAUNCHER": "docker"}
    migrate_everything(Settings.from_env(docker), dict(docker))

    launcher = check(run_doctor(docker), "run launcher")
    assert launcher.status == "warn"
    assert "INTEGRATIONS_RUN_IMAGE" in launcher.found
    assert "INTEGRATIONS_WAREHOUSE_URL" in launcher.found
    assert "dagster-daemon" in launcher.fix

    complete = {
        **docker,
        "INTEGRATIONS_RUN_IMAGE": "integrations-platform:test",
        "INTEGRATIONS_DATABASE_URL": "",
        "INTEGRATIONS_WAREHOUSE_URL": "",
    }
    launcher = check(run_doctor(complete), "run launcher")
    assert launcher.status == "ok", launcher
    assert "dagster_docker.DockerRunLauncher" in launcher.found


def test_a_config_store_behind_or_ahead_of_this_release_fails(
    tmp_path: Path, clean_env: None
) -> None:
    environ = {"INTEGRATIONS_HOME": str(tmp_path / "home"), "INTEGRATIONS_ENCRYPTION_KEYS": ""}
    settings = Settings.from_env(environ)
    ConfigStore.open(settings.database_url).close()
    engine = sa.create_engine(settings.database_url)

    def stamp(revision: str) -> Check:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        return check(run_doctor(environ), "config store")

    behind = stamp("0003")
    assert behind.status == "fail"
    needed = re.search(r"at revision 0003, this release needs (\d{4})", behind.found)
    assert needed and int(needed.group(1)) > 3, behind.found
    assert behind.fix == "Run `integrations migrate`."

    ahead = stamp("9999_future")
    assert ahead.status == "fail"
    assert "at revision 9999_future, which this release does not know" in ahead.found
    engine.dispose()
