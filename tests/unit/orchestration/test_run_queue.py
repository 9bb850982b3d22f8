"""The run queue's configuration: rendered dagster.yaml, connector limits, pools."""

from pathlib import Path

import dagster as dg
import pytest
import yaml
from click.testing import CliRunner

from integrations_platform.catalog import load_catalog
from integrations_platform.cli import main
from integrations_platform.errors import PlatformError
from integrations_platform.integration import Integration, StreamSelection
from integrations_platform.orchestration.definitions import build_definitions
from integrations_platform.orchestration.run_queue import (
    apply_pool_limits,
    connector_limits,
    instance_config,
    render_dagster_yaml,
)
from integrations_platform.settings import PROJECT_ROOT, Settings

CATALOG = load_catalog(PROJECT_ROOT / "connector_catalog")


def test_the_projects_dagster_yaml_is_the_embedded_rendering(monkeypatch):
    for var in (
        "INTEGRATIONS_POSTGRES_URL",
        "INTEGRATIONS_DAGSTER_DATABASE_URL",
        "INTEGRATIONS_MAX_CONCURRENT_RUNS",
        "INTEGRATIONS_RUN_LAUNCHER",
    ):
        monkeypatch.delenv(var, raising=False)
    result = CliRunner().invoke(main, ["dagster-yaml", "--check"])
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert "storage" not in config  # SQLite under DAGSTER_HOME
    assert config["concurrency"]["pools"] == {"granularity": "run"}


def test_production_storage_is_referenced_by_variable_never_written_out():
    url = "postgresql://sync:p%40ss-word@db.internal:5432/integrations"
    settings = Settings.from_env({"INTEGRATIONS_POSTGRES_URL": url})
    text = render_dagster_yaml(settings, {})
    assert "p%40ss-word" not in text and "db.internal" not in text
    config = yaml.safe_load(text)
    assert config["storage"] == {
        "postgres": {"postgres_url": {"env": "INTEGRATIONS_DAGSTER_DATABASE_URL"}}
    }
    assert settings.dagster_database_url.endswith("options=-csearch_path%3Ddagster")
    assert settings.meltano_database_uri.endswith("options=-csearch_path%3Dmeltano")
    assert settings.database_url.endswith("options=-csearch_path%3Dintegrations")


def test_run_limits_come_from_settings_and_the_catalog():
    settings = Settings.from_env({"INTEGRATIONS_MAX_CONCURRENT_RUNS": "7"})
    runs = instance_config(settings, {})["concurrency"]["runs"]
    assert runs["max_concurrent_runs"] == 7
    assert runs["tag_concurrency_limits"] == [
        {"key": "integration", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    ]
    assert connector_limits(CATALOG, {}) == {"salesforce": 2}
    overridden = {
        "INTEGRATIONS_MAX_CONCURRENT_SYNCS_SALESFORCE": "1",
        "INTEGRATIONS_MAX_CONCURRENT_SYNCS_POSTGRES": "3",
    }
    assert connector_limits(CATALOG, overridden) == {"salesforce": 1, "postgres": 3}


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"INTEGRATIONS_MAX_CONCURRENT_SYNCS_SALESFORCE": "0"}, "MAX_CONCURRENT_SYNCS_SALESFORCE"),
        ({"INTEGRATIONS_MAX_CONCURRENT_SYNCS_POSTGRES": "two"}, "MAX_CONCURRENT_SYNCS_POSTGRES"),
    ],
)
def test_a_bad_limit_names_its_variable(environ, named):
    with pytest.raises(PlatformError, match=named):
        connector_limits(CATALOG, environ)


def test_a_bad_global_limit_or_launcher_is_refused():
    with pytest.raises(PlatformError, match="INTEGRATIONS_MAX_CONCURRENT_RUNS"):
        Settings.from_env({"INTEGRATIONS_MAX_CONCURRENT_RUNS": "-1"})
    with pytest.raises(PlatformError, match="INTEGRATIONS_RUN_LAUNCHER"):
        instance_config(Settings.from_env({}), {"INTEGRATIONS_RUN_LAUNCHER": "k8s"})


def test_the_docker_launcher_passes_the_run_workers_variables_by_name():
    config = instance_config(
        Settings.from_env({}),
        {"INTEGRATIONS_RUN_LAUNCHER": "docker", "INTEGRATIONS_DOCKER_NETWORK": "sync-net"},
    )
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    assert launcher["config"]["image"] == {"env": "INTEGRATIONS_RUN_IMAGE"}
    assert launcher["config"]["network"] == {"env": "INTEGRATIONS_DOCKER_NETWORK"}
    assert "INTEGRATIONS_ENCRYPTION_KEYS" in launcher["config"]["env_vars"]


def test_pool_limits_are_written_into_a_real_instance_and_dropped_when_unset(tmp_path: Path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        applied = apply_pool_limits(instance, CATALOG, {})
        assert applied == {"connector/salesforce": 2}
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert limits == {"connector/salesforce": 2}

        apply_pool_limits(instance, CATALOG, {"INTEGRATIONS_MAX_CONCURRENT_SYNCS_POSTGRES": "1"})
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert limits == {"connector/salesforce": 2, "connector/postgres": 1}

        instance.event_log_storage.set_concurrency_slots("someone-elses-pool", 5)
        apply_pool_limits(instance, CATALOG, {})
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert limits == {"connector/salesforce": 2, "someone-elses-pool": 5}


def test_every_integrations_sync_runs_in_its_connectors_pool():
    snapshots = [
        Integration(
            id=f"id-{name}",
            name=name,
            connector=connector,
            enabled=True,
            schedule="0 * * * *",
            streams=(StreamSelection(stream),),
            start_date="2024-01-01",
            destination="jsonl",
        )
        for name, connector, stream in (
            ("crm", "salesforce", "Account"),
            ("shop", "postgres", "public-orders"),
        )
    ]
    defs = build_definitions(CATALOG, snapshots)
    pools = {a.op.name: a.op.pool for a in defs.assets}
    assert pools == {"crm_sync": "connector/salesforce", "shop_sync": "connector/postgres"}
