"""The private Dagster names the platform uses still exist where it imports them from.

A Dagster upgrade that moves one fails here, by name, instead of in a run."""

import ast
from pathlib import Path

from integrations_platform.dagster_private import (
    cron_string_iterator,
    is_valid_cron_string,
    private_names,
)
from integrations_platform.settings import PROJECT_ROOT

EXPECTED = {
    "DefinitionsLoadContext",
    "DefinitionsLoadType",
    "InstigatorState",
    "InstigatorStatus",
    "InstigatorType",
    "ScheduleInstigatorData",
    "InstanceRef",
    "DagsterEvent.asset_materialization",
    "DagsterEventBatchMetadata",
    "generate_event_batch_id",
    "cron_string_iterator",
    "is_valid_cron_string",
}


def test_every_private_name_imports() -> None:
    names = private_names()
    assert set(names) == EXPECTED
    assert all(value is not None for value in names.values())


def test_the_private_helpers_behave_as_the_platform_expects() -> None:
    assert is_valid_cron_string("0 * * * *") and not is_valid_cron_string("every hour")
    first = next(cron_string_iterator(60.0, "0 * * * *", "UTC"))
    assert first.timestamp() == 3600.0


def test_no_other_module_imports_dagster_privates() -> None:
    package = PROJECT_ROOT / "integrations_platform"
    offenders = []
    for path in package.rglob("*.py"):
        if path.name == "dagster_private.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            module = (
                node.module
                if isinstance(node, ast.ImportFrom)
                else next((a.name for a in node.names), None)
                if isinstance(node, ast.Import)
                else None
            )
            if module and module.startswith("dagster._"):
                offenders.append(f"{Path(path).relative_to(PROJECT_ROOT)}: {module}")
    assert offenders == []
