"""Several processes on one PostgreSQL deployment: migrations, and two run workers that
sync one integration at the same time, corrupt nothing."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from integrations_platform.deployment import prepare_dagster_home
from integrations_platform.keys import state_id
from integrations_platform.runner.state import get_state
from integrations_platform.settings import PROJECT_ROOT, Settings
from tests.conftest import START, salesforce_config
from tests.integration.helpers import jsonl_rows

INTEGRATIONS = str(Path(sys.executable).parent / "integrations")
DAGSTER = str(Path(sys.executable).parent / "dagster")
DEFINITIONS = "integrations_platform.orchestration.definitions"


def test_processes_migrating_one_fresh_database_at_once_all_succeed(postgres_database, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "MELTANO_"))}
    env.update(INTEGRATIONS_POSTGRES_URL=postgres_database, INTEGRATIONS_ENCRYPTION_KEYS="unused")
    processes = [
        subprocess.Popen(
            [INTEGRATIONS, "migrate"],
            env={
                **env,
                "INTEGRATIONS_HOME": str(tmp_path / f"home{i}"),
                "DAGSTER_HOME": str(tmp_path / f"dagster{i}"),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(4)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
    engine = sa.create_engine(postgres_database)
    try:
        with engine.connect() as conn:
            schemas = set(conn.execute(sa.text("SELECT nspname FROM pg_namespace")).scalars().all())
            versions = conn.execute(
                sa.text("SELECT version_num FROM integrations.alembic_version")
            ).all()
            limits = conn.execute(
                sa.text('SELECT concurrency_key, "limit" FROM dagster.concurrency_limits')
            ).all()
    finally:
        engine.dispose()
    assert {"integrations", "meltano", "dagster"} <= schemas
    assert len(versions) == 1
    assert [tuple(r) for r in limits] == [("connector/salesforce", 2)]


@pytest.mark.usefixtures("meltano_plugins")
@pytest.mark.parametrize("platform", ["postgres"], indirect=True)
def test_two_run_workers_syncing_one_integration_take_turns(
    platform, sandbox, tmp_path, monkeypatch
):
    stored = platform.service.add(
        "salesforce",
        "crm",
        salesforce_config(sandbox),
        streams=["Account"],
        start_date=START,
    )
    environ = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster")}
    dagster_home, _ = prepare_dagster_home(Settings.from_env(environ), environ)
    # Two run workers started around the queue (which would have kept them apart), each
    # its own process: the sync lock makes the second wait instead of sharing the state.
    command = [DAGSTER, "job", "execute", "-m", DEFINITIONS, "-a", "defs"]
    command += ["-j", "__ASSET_JOB", "-o", "crm_sync"]
    workers = [
        subprocess.Popen(
            command,
            env=environ,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [o[-3000:] for o in outputs]

    monkeypatch.setenv(
        "INTEGRATIONS_DAGSTER_DATABASE_URL", environ["INTEGRATIONS_DAGSTER_DATABASE_URL"]
    )
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_run_records(dg.RunsFilter(tags={"integration": "crm"}))
        assert len(runs) == 2 and all(r.dagster_run.is_success for r in runs)
        rows, waited = [], []
        for run in runs:
            logs = instance.all_logs(run.dagster_run.run_id)
            waited += [e for e in logs if "Another sync of 'crm' is running" in e.message]
            rows += [
                e.asset_materialization.metadata["rows"].value
                for e in logs
                if e.asset_materialization is not None
                and "rows" in e.asset_materialization.metadata
            ]
    assert waited, "neither run waited for the other"
    total = len(sandbox.records("Account"))
    # One run loaded everything, the other only the record at the bookmark: one after
    # the other on one state, not side by side from the same bookmark.
    assert sorted(rows) == [1, total]
    assert len(jsonl_rows(platform, "crm", "Account")) == total  # one row per Id
    state = get_state(platform.settings, os.environ, state_id(stored.name, stored.integration.id))
    assert set(state["bookmarks"]) == {"Account"}
