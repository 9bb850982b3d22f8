"""The scale-out recipe in docs/deployment/, checked as far as a machine without a
Docker engine allows: the compose file's wiring, every command it runs against the real
CLIs, the Dockerfile's sources and names, and the Docker-launcher instance it yields."""

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from integrations_platform.deployment import export_derived, migrate_everything
from integrations_platform.orchestration.client import LOCATION_NAME
from integrations_platform.orchestration.run_queue import RUN_WORKER_ENV
from integrations_platform.settings import PROJECT_ROOT, Settings

RECIPE = PROJECT_ROOT / "docs" / "deployment"
BIN = Path(sys.executable).parent
KEYS = "INTEGRATIONS_ENCRYPTION_KEYS"
# What an operator exports before `docker compose up` (see the compose file's header).
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "compose-pw-1f7e",
    KEYS: "compose-key-placeholder",
    "INTEGRATIONS_API_TOKEN": "compose-token-0123456789",
    "DOCKER_GID": "998",
}
_VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def replace(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if variables.get(name):
            return variables[name]
        if kind == "?":
            raise AssertionError(f"compose would stop: {rest}")
        return rest if kind == "-" else ""

    return _VARIABLE.sub(replace, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((RECIPE / "docker-compose.yaml").read_text(encoding="utf-8"))


def service_env(compose: dict[str, Any], service: str) -> dict[str, str]:
    raw = compose["services"][service].get("environment") or {}
    return {k: interpolate(str(v), OPERATOR_ENV) for k, v in raw.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (RECIPE / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def test_the_services_and_who_holds_the_keys(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "code-server", "webserver", "daemon", "api"}
    holders = {name for name in services if KEYS in (services[name].get("environment") or {})}
    assert holders == {"code-server", "daemon", "api"}
    for name in ("migrate", "code-server", "webserver", "daemon", "api"):
        env = service_env(compose, name)
        assert env["INTEGRATIONS_POSTGRES_URL"].startswith("postgresql+psycopg2://integrations:")
        assert env["INTEGRATIONS_POSTGRES_URL"].endswith("@postgres:5432/integrations")
        # One image for all, and the runs' containers start from it too.
        assert interpolate(services[name]["image"], OPERATOR_ENV) == "integrations-platform"
        assert env.get("INTEGRATIONS_RUN_IMAGE") == "integrations-platform"
    assert services["migrate"]["restart"] == "no"
    for name in ("code-server", "webserver", "daemon", "api"):
        assert services[name]["depends_on"].get("migrate", {}).get("condition") in (
            None,
            "service_completed_successfully",
        )


def test_the_daemon_has_every_variable_the_docker_launcher_passes_on(
    compose: dict[str, Any],
) -> None:
    # The launcher reads each name from the daemon's environment, after the image's
    # entrypoint (`integrations exec`) exported the derived URLs.
    env = service_env(compose, "daemon")
    export_derived(Settings.from_env(env), env)
    assert [name for name in RUN_WORKER_ENV if name not in env] == []
    assert env["INTEGRATIONS_RUN_IMAGE"] == "integrations-platform"
    assert env["INTEGRATIONS_DOCKER_NETWORK"] == compose["networks"]["default"]["name"]
    # Empty values read as "not set": the config store still derives from the one URL.
    settings = Settings.from_env(env)
    assert settings.database_url.endswith("options=-csearch_path%3Dintegrations")
    assert settings.warehouse_url is None


def test_the_processes_that_launch_or_stop_runs_reach_docker(compose: dict[str, Any]) -> None:
    dagster_home = dockerfile_env()["DAGSTER_HOME"]
    for name in ("webserver", "daemon"):
        service = compose["services"][name]
        assert "/var/run/docker.sock:/var/run/docker.sock" in service["volumes"]
        assert service["group_add"]
    for name in ("migrate", "webserver", "daemon", "api"):
        assert f"dagster_home:{dagster_home}" in compose["services"][name]["volumes"]


def test_the_workspace_points_at_the_code_server(compose: dict[str, Any]) -> None:
    workspace = yaml.safe_load((RECIPE / "workspace.yaml").read_text(encoding="utf-8"))
    (entry,) = workspace["load_from"]
    server = entry["grpc_server"]
    command = compose["services"]["code-server"]["command"]
    assert server["host"] == "code-server"
    assert str(server["port"]) == command[command.index("-p") + 1]
    assert server["location_name"] == LOCATION_NAME
    assert command[command.index("--location-name") + 1] == LOCATION_NAME
    # The webserver and the daemon load the copy the Dockerfile puts in the image.
    copies = [rest.split() for keyword, rest in dockerfile_instructions() if keyword == "COPY"]
    assert ["docs/deployment/workspace.yaml", "./deploy/workspace.yaml"] in copies
    workdir = next(rest for keyword, rest in dockerfile_instructions() if keyword == "WORKDIR")
    for name in ("webserver", "daemon"):
        command = compose["services"][name]["command"]
        assert command[command.index("-w") + 1] == f"{workdir}/deploy/workspace.yaml"


def test_every_command_the_recipe_runs_exists_with_those_options(
    compose: dict[str, Any],
) -> None:
    entrypoint = next(
        yaml.safe_load(rest)
        for keyword, rest in dockerfile_instructions()
        if keyword == "ENTRYPOINT"
    )
    assert entrypoint == ["integrations", "exec", "--"]
    commands = [entrypoint[:2]]
    for name, service in compose["services"].items():
        if name == "postgres":
            continue
        commands.append(service["command"])
        health = (service.get("healthcheck") or {}).get("test")
        if health:
            assert health[0] == "CMD"
            commands.append(health[1:])
    for command in commands:
        # Every option of the real command line is parsed before --help answers, so an
        # unknown option or subcommand fails here.
        result = subprocess.run(
            [str(BIN / command[0]), *command[1:], "--help"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (command, result.stderr[-2000:])
        assert "Usage:" in result.stdout, command


def test_the_dockerfile_copies_what_exists_and_names_the_real_lock_and_extra() -> None:
    instructions = dockerfile_instructions()
    base = instructions[[k for k, _ in instructions].index("FROM")][1]
    args = {
        rest.split("=")[0]: rest.split("=")[1] for keyword, rest in instructions if keyword == "ARG"
    }
    assert base.replace("${PYTHON_IMAGE}", args["PYTHON_IMAGE"]) == "python:3.11-slim"
    for keyword, rest in instructions:
        if keyword == "COPY" and not rest.startswith("--from"):
            *sources, _ = rest.split()
            for source in sources:
                assert (PROJECT_ROOT / source).exists(), source
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert 'pip install -c requirements.lock -e ".[docker]"' in runs
    assert "meltano install" in runs
    assert "integrations page build" in runs  # the page is built into the image
    ignored = (RECIPE / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert "integrations_platform/web/frontend/node_modules" in ignored
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "dagster-docker==0.29.27" in pyproject["project"]["optional-dependencies"]["docker"]
    lock = (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert re.search(r"^dagster-docker==0\.29\.27$", lock, re.MULTILINE)
    env = dockerfile_env()
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    # No secret in the image: neither a value nor a slot for one.
    assert not {KEYS, "INTEGRATIONS_API_TOKEN", "INTEGRATIONS_POSTGRES_URL"} & set(env)
    assert not [rest for keyword, rest in instructions if keyword == "ARG" and "KEY" in rest]
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_the_compose_migration_yields_a_docker_launcher_instance(
    compose: dict[str, Any],
    postgres_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dagster as dg
    from dagster_docker import DockerRunLauncher

    # The migrate service's environment, on the local server instead of `postgres`.
    env = {
        **service_env(compose, "migrate"),
        "INTEGRATIONS_POSTGRES_URL": postgres_database,
        "INTEGRATIONS_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }
    for name in ("INTEGRATIONS_DAGSTER_DATABASE_URL", "MELTANO_DATABASE_URI"):
        # migrate exports it into this process: record the original to put it back.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    report = migrate_everything(Settings.from_env(env), env)
    assert report.pool_limits == {"connector/salesforce": 2}

    # What the daemon's instance sees (its own variables for the {env: ...} references).
    daemon = service_env(compose, "daemon")
    for name in ("INTEGRATIONS_RUN_IMAGE", "INTEGRATIONS_DOCKER_NETWORK"):
        monkeypatch.setenv(name, daemon[name])
    monkeypatch.setenv(
        "INTEGRATIONS_DAGSTER_DATABASE_URL", env["INTEGRATIONS_DAGSTER_DATABASE_URL"]
    )
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        launcher = instance.run_launcher  # built without a Docker engine
        assert isinstance(launcher, DockerRunLauncher)
        assert launcher.image == "integrations-platform"
        assert launcher.networks == ["integrations"]
        assert launcher.env_vars == list(RUN_WORKER_ENV)
        assert type(instance.run_coordinator).__name__ == "IntegrationsRunCoordinator"
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert limits == {"connector/salesforce": 2}
