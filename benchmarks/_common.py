"""Shared helpers: interleaved timing, medians, result files, environment facts."""

import gc
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
REPO_ROOT = BENCH_DIR.parent


def median(values: Iterable[float]) -> float:
    """The median of ``values`` (a list of seconds)."""
    return statistics.median(list(values))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """``(wall seconds, result)`` of ``fn()``, after a full garbage collection."""
    gc.collect()
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def cpu_seconds() -> float:
    """CPU time used so far by this process and by its waited-for child processes."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def comparison(
    baseline_s: list[float],
    platform_s: list[float],
    target_ratio: float,
    baseline_cpu_s: list[float] | None = None,
    platform_cpu_s: list[float] | None = None,
) -> dict[str, Any]:
    """Medians, their ratio and whether it meets the target (wall time).

    With CPU times, also their medians and ratio: CPU time hardly moves when other
    processes compete for the machine, so it tells noise from a real difference.
    """
    base = median(baseline_s)
    plat = median(platform_s)
    ratio = plat / base if base > 0 else float("inf")
    row: dict[str, Any] = {
        "baseline_s": [round(x, 4) for x in baseline_s],
        "platform_s": [round(x, 4) for x in platform_s],
        "baseline_median_s": round(base, 4),
        "platform_median_s": round(plat, 4),
        "ratio": round(ratio, 4),
        "target_ratio": target_ratio,
        "meets_target": ratio <= target_ratio,
        # Informational: best run against best run, less sensitive to other load.
        "min_ratio": round(min(platform_s) / min(baseline_s), 4),
    }
    if baseline_cpu_s and platform_cpu_s:
        base_cpu = median(baseline_cpu_s)
        plat_cpu = median(platform_cpu_s)
        row.update(
            {
                "baseline_cpu_s": [round(x, 4) for x in baseline_cpu_s],
                "platform_cpu_s": [round(x, 4) for x in platform_cpu_s],
                "baseline_cpu_median_s": round(base_cpu, 4),
                "platform_cpu_median_s": round(plat_cpu, 4),
                "cpu_ratio": round(plat_cpu / base_cpu, 4) if base_cpu > 0 else None,
            }
        )
    return row


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "python": sys.version.split()[0],
        "dagster": _version("dagster"),
        "meltano": _version("meltano"),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "cpus": _cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _cpu_count() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count()


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` (the folder is created on demand)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    return path


def log(message: str) -> None:
    """Progress on stderr, so that stdout stays the report."""
    print(message, file=sys.stderr, flush=True)


def print_table(title: str, rows: dict[str, dict[str, Any]]) -> None:
    """One line per compared variant (wall-time medians; CPU ratio when measured)."""
    print(f"\n{title}")
    print(
        f"  {'variant':<24} {'baseline':>10} {'platform':>10} {'ratio':>7} {'target':>7}  ok "
        f"  {'min-ratio':>9} {'cpu-ratio':>9}"
    )
    for variant, row in rows.items():
        cpu = row.get("cpu_ratio")
        print(
            f"  {variant:<24} {row['baseline_median_s']:>9.3f}s {row['platform_median_s']:>9.3f}s"
            f" {row['ratio']:>6.3f}x {row['target_ratio']:>6.2f}x  "
            f"{'yes' if row['meets_target'] else 'NO ':<3}"
            f" {row['min_ratio']:>8.3f}x {f'{cpu:.3f}x' if cpu else '-':>9}"
        )


@contextmanager
def patched_environ(
    values: dict[str, str],
    remove: tuple[str, ...] = (),
    on_change: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Set ``values`` and unset ``remove`` in ``os.environ``; restore everything after.

    ``on_change`` runs after each change (e.g. to clear a cached settings object).
    """
    saved = {k: os.environ.get(k) for k in (*values, *remove)}
    for key in remove:
        os.environ.pop(key, None)
    os.environ.update(values)
    if on_change:
        on_change()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if on_change:
            on_change()


def copy_catalog(destination: Path) -> Path:
    """A private copy of ``connector_catalog/`` taken now.

    The Python code is imported once, at start; pointing ``INTEGRATIONS_CATALOG_DIR`` at a
    copy keeps the catalog consistent with it while the tree is edited during a long run.
    """
    shutil.copytree(REPO_ROOT / "connector_catalog", destination)
    return destination


@contextmanager
def temporary_database(admin_url: str, prefix: str, keep: bool = False) -> Iterator[Any]:
    """A new empty PostgreSQL database (its SQLAlchemy URL); dropped afterwards unless
    ``keep``. ``admin_url`` is a database to run ``CREATE DATABASE`` from."""
    import uuid

    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name)
    finally:
        if keep:
            log(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


DEMO_SALESFORCE_CONFIG = {
    "client_id": "demo-client-id",
    "client_secret": "demo-client-secret",
    "refresh_token": "demo-refresh-token",
}


def store_salesforce_integrations(env: dict[str, str], count: int) -> None:
    """Store ``count`` Salesforce integrations (``crm_0000`` …) through the service, in the
    config store ``env`` names (set-up, not timed)."""
    from integrations_platform.catalog import load_catalog
    from integrations_platform.service import IntegrationService
    from integrations_platform.settings import Settings
    from integrations_platform.store import ConfigStore, KeyRing

    settings = Settings.from_env(env)
    store = ConfigStore.open(settings.database_url)
    service = IntegrationService(
        load_catalog(settings.catalog_dir), store, lambda: KeyRing.from_env(env)
    )
    for i in range(count):
        service.add("salesforce", f"crm_{i:04d}", DEMO_SALESFORCE_CONFIG, start_date="2024-01-01")
    store.close()
