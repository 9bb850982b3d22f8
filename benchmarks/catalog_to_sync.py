"""From a new catalog file to the first successful sync of an integration of it.

    .venv/bin/python -m benchmarks.catalog_to_sync [--reps N] [--warmup N] [--demo]

``integrations up --no-demo`` is started once, in a temporary folder, on its own copy of
``connector_catalog/`` and of the Meltano project. The copy's ``.meltano`` is a real
folder in which every installed plugin of ``meltano/.meltano/{extractors,loaders,mappers,
utilities}`` is linked one by one, so that a newly added plugin installs into the copy
(and can be removed again) while the project's installed plugins are reused as they are.

Timed, for each new connector, with ``up`` running (the issue's flow, as the test
``test_a_catalog_file_added_while_up_runs_is_used_without_a_restart`` walks it):

1. **listed** – the catalog file written (renamed into the catalog folder) until
   ``GET /api/v1/connectors`` lists it (what the wizard shows);
2. **catalog_sync** – ``integrations catalog sync`` (renders meltano.yml, installs the
   missing plugins, compiles bytecode, reloads Dagster's code location);
3. **create** – ``POST /api/v1/integrations`` (stores it, reloads the code location)
   until its asset is in Dagster's GraphQL API;
4. **sync** – ``POST /api/v1/integrations/<name>/sync`` until the run's ``SUCCESS``.

Two connectors, interleaved (baseline, platform, baseline, …), each repetition a new
connector id and integration name:

* **baseline** – a copy of ``postgres.yaml`` under a new id: its plugin (tap-postgres) is
  already installed, so ``catalog sync`` installs nothing. It syncs a 7-row table of a
  fresh database on the local PostgreSQL (127.0.0.1:5432, user postgres, trust auth).
* **platform** – the test's ``tap-jsonl==0.3.1`` connector (a plugin the project does not
  have) reading a 7-line JSON Lines file. Its plugin folder is removed from the copy
  before each repetition, so each one installs it (the uv cache makes the later installs
  cheaper than the first: the first repetition is reported on its own).

Both sync into the embedded default destination (JSON Lines under the home) and each
must write exactly 7 lines. Reported: per side the median of each phase and of the
total, the phases' parts (from the CLI's output, the processes it starts and Dagster's
run events), the ratio of the totals (informational), and the issue's statement, "the
plugin install dominates; nothing else should add more than a few seconds": the seconds
outside phase 2 per side. Written to ``benchmarks/results/catalog_to_sync.json``.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import REPO_ROOT, environment, log, median, write_results

NAME = "catalog_to_sync"
BIN = Path(sys.executable).parent
TOKEN = "benchmark-token-0123456789abcdef"
PLUGIN_KINDS = ("extractors", "loaders", "mappers", "utilities")
PLATFORM_PLUGIN = "tap-jsonl"
BASELINE_PLUGIN = "tap-postgres"
ROWS = 7
# The daemon runs schedules: none of the benchmark's integrations may fire during it.
NEVER = "0 3 29 2 *"
# "Nothing else should add more than a few seconds."
FEW_SECONDS = 3.0
PHASES = ("listed", "catalog_sync", "create", "sync")
PHASE_LABELS = {
    "listed": "1 file written -> listed by the API",
    "catalog_sync": "2 integrations catalog sync",
    "create": "3 POST /integrations -> asset in Dagster",
    "sync": "4 POST .../sync -> run SUCCESS",
}

# A connector as someone would add it (tests/integration/test_quickstart.py adds it too),
# under a new id each time.
PLATFORM_CONNECTOR = """\
id: {id}
label: JSON Lines files ({n})
category: Files
description: Records from JSON Lines files in a folder.
docs_url: https://pypi.org/project/tap-jsonl/
logo: logos/community.svg
tier: community
extractor:
  name: tap-jsonl
  namespace: tap_jsonl
  pip_url: tap-jsonl==0.3.1
  executable: tap-jsonl
  capabilities: [about, catalog, discover, state]
settings:
  - name: path
    label: Files
    type: string
    required: true
    help: A glob of the files to read, e.g. /data/*.jsonl.
  - name: stream_name
    label: Stream name
    type: string
    default: records
    advanced: true
  - name: primary_keys
    label: Primary keys
    type: array
    default: [id]
    advanced: true
streams:
  - name: records
    primary_key: [id]
"""

LOCATIONS_QUERY = """{ workspaceOrError { ... on Workspace {
  locationEntries { name loadStatus } } } }"""
ASSETS_QUERY = "{ assetNodes { assetKey { path } } }"
RUN_QUERY = """query($id: ID!) { runOrError(runId: $id) { __typename
  ... on Run { status creationTime startTime endTime } } }"""
EVENTS_QUERY = """query($id: ID!) { logsForRun(runId: $id, limit: 5000) { __typename
  ... on EventConnection { events { __typename
    ... on MessageEvent { timestamp message stepKey } } } } }"""
RELOAD = """mutation($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name) {
  __typename } }"""
TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- set-up --------------------------------------------------------------------------


def copy_catalog_and_project(root: Path) -> dict[str, str]:
    """The catalog and the Meltano project copied under ``root``; in the copy's
    ``.meltano`` each installed plugin folder is a link to the project's (a new plugin
    installs into the copy). The variables that point the platform at them."""
    catalog = root / "catalog"
    shutil.copytree(REPO_ROOT / "connector_catalog", catalog)
    source = REPO_ROOT / "meltano"
    project = root / "meltano"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns(".meltano"))
    for kind in PLUGIN_KINDS:
        (project / ".meltano" / kind).mkdir(parents=True)
        if not (source / ".meltano" / kind).is_dir():
            continue
        for plugin in sorted((source / ".meltano" / kind).iterdir()):
            # The platform side's plugin must be installed by the benchmark, every time.
            if plugin.is_dir() and plugin.name != PLATFORM_PLUGIN:
                (project / ".meltano" / kind / plugin.name).symlink_to(plugin)
    return {"INTEGRATIONS_CATALOG_DIR": str(catalog), "INTEGRATIONS_MELTANO_PROJECT": str(project)}


def drop_uninstalled_connectors(catalog_dir: Path, project: Path) -> list[str]:
    """Remove from the copied catalog the source files whose plugin is not installed
    (files others added to the tree): ``up`` would install them at start, and the
    baseline's ``catalog sync`` must have nothing to install. Returns their names."""
    from integrations_platform.catalog import load_catalog
    from integrations_platform.runner.meltano_project import missing_plugins

    catalog = load_catalog(catalog_dir)
    missing = set(missing_plugins(catalog, project))
    dropped = []
    for connector in catalog:
        names = {connector.extractor.name}
        if connector.local_login:
            names.add(connector.local_login.extractor.name)
        if names & missing:
            (catalog_dir / f"{connector.id}.yaml").unlink()
            dropped.append(connector.id)
    still = missing_plugins(load_catalog(catalog_dir), project)
    if still:
        raise RuntimeError(f"plugins not installed in meltano/.meltano: {', '.join(still)}")
    return dropped


def _descendants(pid: int) -> list[tuple[int, int, list[str]]]:
    """``(pid, process group, argv)`` of every living descendant of ``pid``."""
    parents: dict[int, int] = {}
    groups: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        groups[int(entry)] = int(fields[2])
    found: list[tuple[int, int, list[str]]] = []
    wanted = {pid}
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in wanted and child not in wanted:
                wanted.add(child)
                changed = True
    for child in wanted - {pid}:
        try:
            with open(f"/proc/{child}/cmdline", "rb") as handle:
                argv = [a.decode(errors="replace") for a in handle.read().split(b"\0") if a]
        except OSError:
            continue
        found.append((child, groups.get(child, child), argv))
    return found


class Up:
    """``integrations up`` in its own process group, its output in ``up.log``."""

    def __init__(self, root: Path, env: dict[str, str], demo: bool) -> None:
        self.root = root
        self.env = env
        self.dagster_port, self.api_port, sandbox_port = (_free_port() for _ in range(3))
        self.log_path = root / "up.log"
        command = [
            str(BIN / "integrations"),
            "up",
            "--dagster-port",
            str(self.dagster_port),
            "--api-port",
            str(self.api_port),
            "--sandbox-port",
            str(sandbox_port),
        ]
        if not demo:
            command.append("--no-demo")
        with self.log_path.open("wb") as handle:
            self.process = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.graphql_url = f"http://127.0.0.1:{self.dagster_port}/graphql"
        self.api = httpx.Client(
            base_url=f"http://127.0.0.1:{self.api_port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=600,
        )
        self.gql = httpx.Client(timeout=120)
        self.groups: set[int] = set()

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self.gql.post(self.graphql_url, json={"query": query, "variables": variables})
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()["data"]
        return data

    def _alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"integrations up exited with {self.process.returncode}:\n{self.log_tail()}"
            )

    def wait_ready(self, seconds: float = 900) -> None:
        """Until Dagster has loaded the code location and the API answers."""

        def loaded() -> bool:
            entries = self.graphql(LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
            return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)

        def healthy() -> bool:
            return self.api.get("/healthz", timeout=5).status_code == 200

        deadline = time.monotonic() + seconds
        for check in (loaded, healthy):
            while True:
                self._alive()
                self.remember_groups()
                with suppress(httpx.HTTPError, KeyError, TypeError, ValueError):
                    if check():
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"integrations up not ready:\n{self.log_tail()}")
                time.sleep(1)

    def remember_groups(self) -> None:
        """The process groups `up` started (dagster dev and the API have their own), to
        stop whatever is left of them if `up` does not."""
        for _, group, _argv in _descendants(self.process.pid):
            if group != os.getpgid(0):
                self.groups.add(group)

    def stop(self) -> int | None:
        """SIGTERM to `up`'s process group (it stops its children), as the test fixture
        does; SIGKILL after a minute; then any group it started that is still there."""
        with suppress(ProcessLookupError, OSError):
            self.remember_groups()
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            log("integrations up did not stop in 90 s: killing its process group")
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        for group in sorted(self.groups - {self.process.pid}):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(group, 0)
                log(f"process group {group} left behind by up: stopping it")
                os.killpg(group, signal.SIGTERM)
                time.sleep(5)
                os.killpg(group, signal.SIGKILL)
        self.api.close()
        self.gql.close()
        return self.process.returncode


# --- the timed flow -------------------------------------------------------------------


class ChildWatch(threading.Thread):
    """When descendants of ``pid`` running ``meltano install`` and ``compileall`` were
    first and last seen (sampled from /proc every ``every`` seconds)."""

    def __init__(self, pid: int, started: float, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.started, self.every = pid, started, every
        self.seen: dict[str, list[float]] = {}
        self.done = threading.Event()

    @staticmethod
    def kind(argv: list[str]) -> str | None:
        if "compileall" in argv:
            return "compileall"
        if argv[:1] and Path(argv[0]).name == "uv":
            return "uv"
        if any(Path(a).name == "meltano" for a in argv[:2]) and "install" in argv:
            return "meltano_install"
        return None

    def run(self) -> None:
        while not self.done.is_set():
            now = time.perf_counter() - self.started
            for _, _, argv in _descendants(self.pid):
                kind = self.kind(argv)
                if kind:
                    kinds = [kind]
                    if kind == "compileall":  # and which plugin: compileall ... <venv>/lib
                        kinds.append(f"compileall {Path(argv[-1]).parent.parent.name}")
                    for key in kinds:
                        first_last = self.seen.setdefault(key, [now, now])
                        first_last[1] = now
            self.done.wait(self.every)


def catalog_sync(env: dict[str, str], cwd: Path, timeout: float = 1800) -> dict[str, Any]:
    """Run ``integrations catalog sync``; its seconds and their parts."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "integrations"), "catalog", "sync"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        start_new_session=True,
    )
    lines: list[tuple[float, str]] = []
    errors: list[str] = []

    def read_out() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append((time.perf_counter() - started, line.rstrip()))

    def read_err() -> None:
        assert process.stderr is not None
        errors.extend(process.stderr)

    readers = [threading.Thread(target=f, daemon=True) for f in (read_out, read_err)]
    watch = ChildWatch(process.pid, started)
    for thread in (*readers, watch):
        thread.start()
    try:
        process.wait(timeout=timeout)
        seconds = time.perf_counter() - started
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    finally:
        for thread in readers:
            thread.join(timeout=10)
        watch.done.set()
        watch.join(timeout=10)
    out = "\n".join(line for _, line in lines)
    if process.returncode != 0 or "Reloaded Dagster's code location" not in out:
        raise RuntimeError(
            f"integrations catalog sync failed ({process.returncode}):\n{out}\n"
            + "".join(errors)[-3000:]
        )

    def at(prefix: str) -> float | None:
        return next((t for t, line in lines if line.startswith(prefix)), None)

    rendered = at("Rendered ")
    installing = at("Installing ")
    reloaded = at("Reloaded Dagster's code location")
    seen = watch.seen
    parts: dict[str, float | None] = {
        # Python and the platform imported, the catalog loaded, meltano.yml written.
        "start_and_render_s": rendered,
        "meltano_install_s": None,
        "compile_s": None,
        "compile_new_plugin_s": None,
        # The platform's own files compiled, then Dagster's reload (and, without an
        # install, the check of what is missing).
        "reload_s": None,
        "exit_s": None if reloaded is None else seconds - reloaded,
    }
    if installing is not None:
        # The install ends where the compilation starts (or when `meltano install` was
        # last seen, without one).
        if "compileall" in seen:
            install_end = seen["compileall"][0]
        else:
            install_end = seen.get("meltano_install", [installing, installing])[1]
        parts["meltano_install_s"] = install_end - installing
        if "compileall" in seen:
            parts["compile_s"] = seen["compileall"][1] - seen["compileall"][0]
            new = seen.get(f"compileall {PLATFORM_PLUGIN}")
            # The new plugin's files compiled; the rest of compile_s checks the others.
            parts["compile_new_plugin_s"] = None if new is None else new[1] - new[0]
            if reloaded is not None:
                parts["reload_s"] = reloaded - seen["compileall"][1]
    elif rendered is not None and reloaded is not None:
        parts["reload_s"] = reloaded - rendered
    return {
        "seconds": seconds,
        "installed": installing is not None,
        "parts": {k: None if v is None else round(v, 3) for k, v in parts.items()},
        "processes_seen": {k: [round(v, 2) for v in fl] for k, fl in seen.items()},
        "output": out,
    }


def _wait(predicate: Callable[[], Any], seconds: float, every: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        with suppress(httpx.HTTPError, KeyError, TypeError, ValueError):
            value = predicate()
            if value:
                return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(every)


def run_parts(events: list[dict[str, Any]], posted_at: float, seen_at: float) -> dict[str, Any]:
    """Phase 4 in parts, from Dagster's run events (epoch milliseconds): the POST until
    the run is queued, the queue, the run worker's start, the step (the Meltano sync),
    the end of the run, and the poll that saw it."""
    first: dict[str, float] = {}
    for event in events:
        if event.get("timestamp"):
            first.setdefault(event["__typename"], float(event["timestamp"]) / 1000)
    dequeued = first.get("RunDequeuedEvent") or first.get("RunStartingEvent")
    marks = [
        ("launch_s", posted_at, first.get("RunEnqueuedEvent")),
        # The daemon's queue: until it hands the run to the launcher.
        ("queue_s", first.get("RunEnqueuedEvent"), dequeued),
        # A new process: Python, Dagster, the platform and the code location loaded.
        ("worker_start_s", dequeued, first.get("RunStartEvent")),
        ("to_step_s", first.get("RunStartEvent"), first.get("ExecutionStepStartEvent")),
        ("step_s", first.get("ExecutionStepStartEvent"), first.get("ExecutionStepSuccessEvent")),
        ("run_end_s", first.get("ExecutionStepSuccessEvent"), first.get("RunSuccessEvent")),
        ("observed_s", first.get("RunSuccessEvent"), seen_at),
    ]
    parts = {
        name: round(end - start, 3) if start is not None and end is not None else None
        for name, start, end in marks
    }
    step_start = first.get("ExecutionStepStartEvent")
    # What the step logged, and when (from the step's start): where a sync's time goes.
    step_log = [
        f"{float(e['timestamp']) / 1000 - step_start:7.2f}s "
        + " | ".join((e.get("message") or "").split("\n"))[:200]
        for e in events
        if step_start is not None
        and e["__typename"] in ("LogMessageEvent", "EngineEvent")
        and e.get("timestamp")
        and float(e["timestamp"]) / 1000 >= step_start
    ]
    marks_s = {name: round(t - posted_at, 3) for name, t in first.items()}
    return {"parts": parts, "step_log": step_log[:60], "event_marks_s": marks_s}


class Bench:
    """The interleaved flow against one running `up`."""

    def __init__(self, up: Up, root: Path, database_url: Any) -> None:
        self.up = up
        self.root = root
        self.catalog = Path(up.env["INTEGRATIONS_CATALOG_DIR"])
        self.project = Path(up.env["INTEGRATIONS_MELTANO_PROJECT"])
        self.cli_env = {**up.env, "INTEGRATIONS_DAGSTER_URL": f"http://127.0.0.1:{up.dagster_port}"}
        self.postgres_text = (self.catalog / "postgres.yaml").read_text()
        self.db_config = {
            "host": database_url.host or "127.0.0.1",
            "port": database_url.port or 5432,
            "user": database_url.username or "postgres",
            "password": "trust-auth-accepts-any",
            "database": database_url.database,
            "filter_schemas": ["public"],
        }
        self.data = root / "data"
        self.data.mkdir()
        (self.data / "events.jsonl").write_text(
            "".join(f'{{"id": {n}, "name": "event {n}"}}\n' for n in range(1, ROWS + 1))
        )

    def connector(self, side: str, label: str) -> tuple[str, str, dict[str, Any], str]:
        """``(id, catalog text, integration config, stream)`` of a new connector."""
        cid = f"bench_{'pg' if side == 'baseline' else 'jsonl'}_{label}"
        if side == "baseline":
            text = re.sub(r"(?m)^id: .*$", f"id: {cid}", self.postgres_text, count=1)
            text = re.sub(
                r"(?m)^label: .*$", f"label: PostgreSQL (benchmark {label})", text, count=1
            )
            return cid, text, dict(self.db_config), "public-events"
        text = PLATFORM_CONNECTOR.format(id=cid, n=label)
        return cid, text, {"path": str(self.data / "*.jsonl")}, "records"

    def listed(self, cid: str) -> bool:
        reply = self.up.api.get("/api/v1/connectors", timeout=30)
        reply.raise_for_status()
        return cid in {c["id"] for c in reply.json()}

    def asset_visible(self, name: str) -> bool:
        nodes = self.up.graphql(ASSETS_QUERY)["assetNodes"]
        return any(n["assetKey"]["path"][0] == name for n in nodes)

    def run_status(self, run_id: str) -> str | None:
        run = self.up.graphql(RUN_QUERY, {"id": run_id})["runOrError"]
        status = run.get("status")
        return status if status in TERMINAL else None

    def rep(self, side: str, label: str) -> dict[str, Any]:
        """One new connector, from its file to its first successful sync."""
        cid, text, config, stream = self.connector(side, label)
        name = f"{cid}_sync"
        plugin_dir = self.project / ".meltano" / "extractors" / PLATFORM_PLUGIN
        if side == "platform":
            # Each repetition installs the plugin (uv's cache is left as it is).
            if plugin_dir.is_symlink():
                raise RuntimeError(f"{plugin_dir} links the project's: it would be removed")
            shutil.rmtree(plugin_dir, ignore_errors=True)
        load_before = os.getloadavg()
        result: dict[str, Any] = {"side": side, "connector": cid, "integration": name}
        pending = self.catalog / f".{cid}.yaml.tmp"
        pending.write_text(text)

        # 1. The file appears (renamed in whole: the API never reads half a file).
        t0 = time.perf_counter()
        os.replace(pending, self.catalog / f"{cid}.yaml")
        _wait(lambda: self.listed(cid), 120, 0.1, f"{cid} in GET /api/v1/connectors")
        t1 = time.perf_counter()

        # 2. integrations catalog sync.
        synced = catalog_sync(self.cli_env, self.root)
        t2 = time.perf_counter()
        if side == "baseline" and synced["installed"]:
            log(f"  warning: the baseline's catalog sync installed a plugin:\n{synced['output']}")
        if side == "platform" and not (plugin_dir / "venv" / "bin" / PLATFORM_PLUGIN).exists():
            raise RuntimeError(f"catalog sync did not install {PLATFORM_PLUGIN}")

        # 3. The integration, through the API; until its asset is in Dagster.
        created = self.up.api.post(
            "/api/v1/integrations",
            json={
                "name": name,
                "connector": cid,
                "config": config,
                "streams": [{"name": stream}],
                "schedule": NEVER,
            },
        )
        if created.status_code != 201:
            raise RuntimeError(f"POST /api/v1/integrations: {created.status_code} {created.text}")
        t3_post = time.perf_counter()
        _wait(lambda: self.asset_visible(name), 300, 0.1, f"the assets of {name}")
        t3 = time.perf_counter()

        # 4. The first sync, until Dagster says SUCCESS.
        posted_at = time.time()
        launched = self.up.api.post(f"/api/v1/integrations/{name}/sync")
        if launched.status_code != 202:
            raise RuntimeError(f"POST .../sync: {launched.status_code} {launched.text}")
        run_id = launched.json()["run_id"]
        status = _wait(lambda: self.run_status(run_id), 1200, 0.2, f"run {run_id}")
        t4 = time.perf_counter()
        seen_at = time.time()
        events_reply = self.up.graphql(EVENTS_QUERY, {"id": run_id})["logsForRun"]
        events = events_reply.get("events", [])
        if status != "SUCCESS":
            messages = "\n".join(str(e.get("message"))[:300] for e in events[-30:])
            raise RuntimeError(f"run {run_id} of {name}: {status}\n{messages}")
        output = Path(self.up.env["INTEGRATIONS_HOME"]) / "output" / name
        lines = sum(len(p.read_text().splitlines()) for p in output.glob("*.jsonl"))
        if lines != ROWS:
            raise RuntimeError(f"{name} wrote {lines} lines into {output}, not {ROWS}")

        parts = run_parts(events, posted_at, seen_at)
        result.update(
            listed_s=round(t1 - t0, 3),
            catalog_sync_s=round(t2 - t1, 3),
            create_s=round(t3 - t2, 3),
            sync_s=round(t4 - t3, 3),
            total_s=round(t4 - t0, 3),
            create_post_s=round(t3_post - t2, 3),
            create_definitions=created.json().get("definitions"),
            catalog_sync_installed=synced["installed"],
            catalog_sync_parts=synced["parts"],
            catalog_sync_processes=synced["processes_seen"],
            catalog_sync_output=synced["output"].splitlines(),
            run_id=run_id,
            sync_parts=parts["parts"],
            step_log=parts["step_log"],
            run_event_marks_s=parts["event_marks_s"],
            rows=lines,
            loadavg_before=[round(x, 2) for x in load_before],
            loadavg_after=[round(x, 2) for x in os.getloadavg()],
        )
        result["outside_install_s"] = round(result["total_s"] - result["catalog_sync_s"], 3)
        return result

    def reload_only(self) -> float:
        """Dagster's own reload of the code location (untimed in the flow): how much of
        phases 2 and 3 is Dagster reloading."""
        started = time.perf_counter()
        reply = self.up.graphql(RELOAD, {"name": "integrations"})["reloadRepositoryLocation"]
        if reply["__typename"] != "WorkspaceLocationEntry":
            raise RuntimeError(f"reload: {reply}")
        return time.perf_counter() - started


@contextmanager
def fresh_database(admin_url: str) -> Iterator[Any]:
    """A new database holding ``public.events`` (``ROWS`` rows); dropped afterwards."""
    import sqlalchemy as sa

    from benchmarks._common import temporary_database

    with temporary_database(admin_url, "bench_catalog_sync") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE public.events (id integer PRIMARY KEY, name text, "
                    "updated_at timestamptz NOT NULL DEFAULT now())"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO public.events (id, name) "
                    "SELECT n, 'event ' || n FROM generate_series(1, :rows) AS n"
                ),
                {"rows": ROWS},
            )
        engine.dispose()
        yield url


def uv_cache_has(package: str) -> bool:
    cache = Path(os.environ.get("UV_CACHE_DIR") or Path.home() / ".cache" / "uv")
    return any(cache.glob(f"wheels-*/pypi/{package}"))


def _uptime() -> str:
    with suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    return ""


def measure(reps: int, warmup: int, admin_url: str, demo: bool) -> dict[str, Any]:
    """Start `up`, run the interleaved repetitions, stop `up`."""
    uv_cached = uv_cache_has(PLATFORM_PLUGIN)
    with (
        tempfile.TemporaryDirectory(prefix="catalog_to_sync_") as tmp,
        fresh_database(admin_url) as database_url,
    ):
        root = Path(tmp)
        own = ("INTEGRATIONS_", "DAGSTER_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
        env.update(
            INTEGRATIONS_HOME=str(root / "home"),
            INTEGRATIONS_API_TOKEN=TOKEN,
        )
        env.update(copy_catalog_and_project(root))
        dropped = drop_uninstalled_connectors(
            Path(env["INTEGRATIONS_CATALOG_DIR"]), Path(env["INTEGRATIONS_MELTANO_PROJECT"])
        )
        if dropped:
            log(f"left out of the catalog copy (plugins not installed): {', '.join(dropped)}")
        log("starting integrations up...")
        started = time.perf_counter()
        up = Up(root, env, demo)
        runs: list[dict[str, Any]] = []
        reloads: list[float] = []
        uptimes: list[str] = []
        try:
            up.wait_ready()
            up_ready_s = time.perf_counter() - started
            log(f"up ready in {up_ready_s:.1f} s; {_uptime()}")
            bench = Bench(up, root, database_url)
            for w in range(warmup):
                log(f"warm-up {w + 1} (baseline shape, untimed)")
                bench.rep("baseline", f"warmup{w}")
            for rep in range(reps):
                for side in ("baseline", "platform"):
                    uptimes.append(_uptime())
                    row = bench.rep(side, str(rep))
                    row["rep"] = rep
                    runs.append(row)
                    log(
                        f"rep {rep + 1} {side:<8}: total {row['total_s']:.2f} s = listed "
                        f"{row['listed_s']:.2f} + catalog sync {row['catalog_sync_s']:.2f} + "
                        f"create {row['create_s']:.2f} + sync {row['sync_s']:.2f}   "
                        f"(load {row['loadavg_before'][0]:.1f})"
                    )
                reloads.append(bench.reload_only())
            uptimes.append(_uptime())
        finally:
            log("stopping integrations up...")
            code = up.stop()
            log(f"integrations up exited with {code}")
    return {
        "runs": runs,
        "dagster_reload_only_s": [round(x, 3) for x in reloads],
        "up_ready_s": round(up_ready_s, 1),
        "up_exit_code": code,
        "uptime": uptimes,
        "dropped_from_catalog_copy": dropped,
        "uv_cache_had_platform_plugin": uv_cached,
    }


def _median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), 3) if present else None


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per side: the median of every phase, of its parts and of the total."""
    sides: dict[str, Any] = {}
    for side in ("baseline", "platform"):
        rows = [r for r in runs if r["side"] == side]
        if not rows:
            continue
        summary: dict[str, Any] = {"reps": len(rows)}
        for key in (*(f"{p}_s" for p in PHASES), "total_s", "outside_install_s"):
            summary[f"{key[:-2]}_median_s"] = _median_or_none([r[key] for r in rows])
            summary[key] = [r[key] for r in rows]
        for group in ("catalog_sync_parts", "sync_parts"):
            keys = rows[0][group].keys()
            summary[group] = {k: _median_or_none([r[group][k] for r in rows]) for k in keys}
        sides[side] = summary
    if "platform" in sides:
        first = next(r for r in runs if r["side"] == "platform")
        later = [r for r in runs if r["side"] == "platform"][1:]
        sides["platform"]["first_rep"] = {
            k: first[k] for k in (*(f"{p}_s" for p in PHASES), "total_s", "outside_install_s")
        }
        sides["platform"]["first_rep"]["catalog_sync_parts"] = first["catalog_sync_parts"]
        sides["platform"]["first_rep"]["sync_parts"] = first["sync_parts"]
        if later:
            sides["platform"]["later_reps_total_median_s"] = _median_or_none(
                [r["total_s"] for r in later]
            )
            sides["platform"]["later_reps_catalog_sync_median_s"] = _median_or_none(
                [r["catalog_sync_s"] for r in later]
            )
    return sides


def statement(sides: dict[str, Any]) -> dict[str, Any]:
    """The issue's: the plugin install dominates; nothing else adds more than a few
    seconds. Per side the seconds outside phase 2; and every phase or part outside the
    install longer than ``FEW_SECONDS``."""
    base, plat = sides["baseline"], sides["platform"]
    install = plat["catalog_sync_parts"].get("meltano_install_s") or 0.0
    phases = {p: plat[f"{p}_median_s"] for p in PHASES}
    over: dict[str, float] = {}
    for p in ("listed", "create", "sync"):
        if (phases[p] or 0) > FEW_SECONDS:
            over[f"platform {p}"] = phases[p]
    for part, value in plat["catalog_sync_parts"].items():
        if part != "meltano_install_s" and (value or 0) > FEW_SECONDS:
            over[f"platform catalog_sync {part}"] = value
    for part, value in plat["sync_parts"].items():
        if (value or 0) > FEW_SECONDS:
            over[f"platform sync {part}"] = value
    return {
        "baseline_outside_install_median_s": base["outside_install_median_s"],
        "platform_outside_install_median_s": plat["outside_install_median_s"],
        "platform_minus_baseline_outside_install_s": round(
            plat["outside_install_median_s"] - base["outside_install_median_s"], 3
        ),
        "platform_meltano_install_median_s": install,
        "install_is_largest_phase": max(phases, key=lambda p: phases[p] or 0) == "catalog_sync",
        "install_share_of_total": round(install / plat["total_median_s"], 3),
        "longer_than_a_few_seconds": over,
        "few_seconds": FEW_SECONDS,
    }


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure; returns (and writes) the results."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.catalog_to_sync", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions per side")
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed baseline-shaped repetitions first"
    )
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "INTEGRATIONS_TEST_POSTGRES_URL",
            "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
        ),
        help="a PostgreSQL database to run CREATE DATABASE from",
    )
    parser.add_argument(
        "--demo", action="store_true", help="start up with its demo (sandbox, hourly schedule)"
    )
    args = parser.parse_args(argv)
    measured = measure(args.reps, args.warmup, args.admin_url, args.demo)
    sides = summarize(measured["runs"])
    base_total = sides["baseline"]["total_median_s"]
    plat_total = sides["platform"]["total_median_s"]
    results: dict[str, Any] = {
        "params": {"reps": args.reps, "warmup": args.warmup, "demo": args.demo, "rows": ROWS},
        "environment": environment(),
        "sides": sides,
        "ratio_total": round(plat_total / base_total, 3),
        "statement": statement(sides),
        **measured,
    }
    path = write_results(NAME, results)
    results["results_file"] = str(path)
    log(f"written to {path}")
    return results


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_report(results: dict[str, Any]) -> None:
    sides = results["sides"]
    base, plat = sides["baseline"], sides["platform"]
    first = plat["first_rep"]
    print(
        f"\ncatalog_to_sync {json.dumps(results['params'])}  (medians, seconds; "
        f"uv cache had {PLATFORM_PLUGIN}: {results['uv_cache_had_platform_plugin']})"
    )
    print(f"  {'phase':<44} {'baseline':>9} {'platform':>9} {'plat. 1st':>9}")
    for p in PHASES:
        print(
            f"  {PHASE_LABELS[p]:<44} {_s(base[f'{p}_median_s']):>9} "
            f"{_s(plat[f'{p}_median_s']):>9} {_s(first[f'{p}_s']):>9}"
        )
        group = {"catalog_sync": "catalog_sync_parts", "sync": "sync_parts"}.get(p)
        if group:
            for part in plat[group]:
                print(
                    f"      {part:<40} {_s(base[group][part]):>9} {_s(plat[group][part]):>9} "
                    f"{_s(first[group][part]):>9}"
                )
    print(
        f"  {'total':<44} {_s(base['total_median_s']):>9} {_s(plat['total_median_s']):>9} "
        f"{_s(first['total_s']):>9}"
    )
    print(
        f"  {'total - phase 2 (outside the install)':<44} "
        f"{_s(base['outside_install_median_s']):>9} {_s(plat['outside_install_median_s']):>9} "
        f"{_s(first['outside_install_s']):>9}"
    )
    st = results["statement"]
    print(f"  ratio platform/baseline of the totals (informational): {results['ratio_total']:.2f}")
    print(
        f"  Dagster's reload alone (GraphQL, per rep): "
        f"{', '.join(f'{x:.2f}' for x in results['dagster_reload_only_s'])} s"
    )
    print(
        "  issue: 'the plugin install dominates; nothing else should add more than a few seconds'"
    )
    print(
        f"    meltano install {_s(st['platform_meltano_install_median_s'])} s = "
        f"{st['install_share_of_total']:.0%} of the platform's total; catalog sync is the "
        f"largest phase: {'yes' if st['install_is_largest_phase'] else 'NO'}"
    )
    print(
        f"    outside phase 2: baseline {_s(st['baseline_outside_install_median_s'])} s, "
        f"platform {_s(st['platform_outside_install_median_s'])} s "
        f"({st['platform_minus_baseline_outside_install_s']:+.2f} s)"
    )
    over = st["longer_than_a_few_seconds"]
    print(
        f"    longer than {FEW_SECONDS:.0f} s outside `meltano install`:"
        + ("" if over else " nothing")
    )
    for what, value in over.items():
        print(f"      {what:<50} {value:>7.2f} s")
    print("  load while measuring (uptime before each side's repetition, and at the end):")
    for line in results["uptime"]:
        print(f"    {line}")


def main(argv: list[str] | None = None) -> int:
    """Print a table and the JSON summary."""
    results = run(argv)
    print_report(results)
    print(json.dumps({k: results[k] for k in ("sides", "ratio_total", "statement")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
