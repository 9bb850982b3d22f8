"""The page's first load: with N integrations stored, from navigation to the installed
list rendered, in headless Chromium on loopback; and the JavaScript it ships.

    .venv/bin/python -m benchmarks.page_load                       # N=1000, 7 loads
    .venv/bin/python -m benchmarks.page_load --n 100 --reps 3
    .venv/bin/python -m benchmarks.page_load --source /path/to/other/checkout

A real uvicorn config API over a SQLite store of N Salesforce integrations (stored
through the service first, not timed; no Dagster, so the status columns are empty on both
sides). Each load is a fresh browser context with the API token already in the tab's
session storage, as after signing in once:

* ``page``: ``page.goto("/")`` until the list shows its rows and the page says it is
  ready (``body[data-ready]``), as ``performance.now()`` in the page;
* ``baseline``: in a blank page of the same origin, the same data the list shows
  (``GET /api/v1/integrations`` and the connectors) fetched by the browser, loads
  alternating with the page's. The ratio is what the page costs on top of its data.

Also: the JavaScript the first load fetched (every script response until ready), raw and
gzipped (level 6, as a server would send it), and the rows actually in the DOM.
``--source`` serves another checkout's page (e.g. the page before a change, from a
``git worktree``) over the same store.

Targets: the list rendered under 1 s; first-load JavaScript under 250 KB gzipped.
"""

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import (
    REPO_ROOT,
    environment,
    log,
    store_salesforce_integrations,
    write_results,
)

TOKEN = "benchmark-token-0123456789abcdef"
TARGET_S = 1.0
TARGET_GZIP_KB = 250.0
READY = "() => document.body.dataset.ready === 'true' && document.querySelector('tr[data-name]')"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(source: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server_env = dict(env, PYTHONPATH=str(source))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "integrations_platform.api.app:create_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=server_env,
        cwd=source,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def _load_page(browser: Any, base: str) -> tuple[float, int, int, int]:
    """(seconds to the list rendered, JS bytes, JS bytes gzipped, rows in the DOM)."""
    context = browser.new_context()
    context.add_init_script(f"sessionStorage.setItem('integrations.apiToken', '{TOKEN}')")
    page = context.new_page()
    scripts: list[Any] = []
    page.on(
        "response", lambda r: scripts.append(r) if r.request.resource_type == "script" else None
    )
    page.goto(f"{base}/")
    page.wait_for_function(READY, timeout=60_000)
    seconds = page.evaluate("performance.now()") / 1000
    rows = page.evaluate("document.querySelectorAll('tr[data-name]').length")
    raw = gz = 0
    for response in scripts:
        body = response.body()
        raw += len(body)
        gz += len(gzip.compress(body, compresslevel=6))
    context.close()
    return seconds, raw, gz, rows


def _load_data(browser: Any, base: str) -> float:
    """The list's data fetched by the browser from a blank page of the same origin."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/healthz")
    seconds = page.evaluate(
        """async (token) => {
            const started = performance.now();
            const headers = {Authorization: `Bearer ${token}`};
            const answers = await Promise.all([
                fetch('/api/v1/integrations', {headers}), fetch('/api/v1/connectors', {headers}),
                fetch('/api/v1/notifications?status=open&limit=50', {headers})]);
            await Promise.all(answers.map((a) => a.json()));
            return (performance.now() - started) / 1000; }""",
        TOKEN,
    )
    context.close()
    return float(seconds)


def run(n: int, reps: int, source: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from integrations_platform.store import generate_key

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "DAGSTER_"))
        }
        env.update(
            INTEGRATIONS_HOME=str(home),
            INTEGRATIONS_ENCRYPTION_KEYS=generate_key(),
            INTEGRATIONS_API_TOKEN=TOKEN,
            # No Dagster: the status columns are empty, on both sides alike.
            INTEGRATIONS_DAGSTER_URL="http://127.0.0.1:9",
        )
        log(f"storing {n} integrations...")
        store_salesforce_integrations(env, n)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _serve(source, env, port)
        try:
            _wait(f"{base}/healthz")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium")
                _load_page(browser, base)  # warm-up: the server's first answers
                _load_data(browser, base)
                page_s: list[float] = []
                data_s: list[float] = []
                shipped = (0, 0, 0)
                for rep in range(reps):
                    seconds, raw, gz, rows = _load_page(browser, base)
                    page_s.append(seconds)
                    shipped = (raw, gz, rows)
                    data_s.append(_load_data(browser, base))
                    log(f"  load {rep + 1}/{reps}: page {seconds:.3f} s, data {data_s[-1]:.3f} s")
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
    page_median, data_median = statistics.median(page_s), statistics.median(data_s)
    return {
        "integrations": n,
        "source": str(source),
        "page_s": [round(x, 4) for x in page_s],
        "baseline_data_s": [round(x, 4) for x in data_s],
        "page_median_s": round(page_median, 4),
        "baseline_median_s": round(data_median, 4),
        "ratio": round(page_median / data_median, 3) if data_median else None,
        "js_bytes": shipped[0],
        "js_gzip_kb": round(shipped[1] / 1024, 1),
        "rows_in_dom": shipped[2],
        "target_s": TARGET_S,
        "target_gzip_kb": TARGET_GZIP_KB,
        "meets_target": page_median < TARGET_S and shipped[1] / 1024 < TARGET_GZIP_KB,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.page_load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--n", type=int, default=1000, help="integrations stored (default 1000)")
    parser.add_argument("--reps", type=int, default=7, help="loads of each side (default 7)")
    parser.add_argument(
        "--source", type=Path, default=REPO_ROOT, help="checkout whose page is served"
    )
    parser.add_argument("--name", default="page_load", help="results file name (default page_load)")
    args = parser.parse_args(argv)
    result = run(args.n, args.reps, args.source.resolve())
    result["environment"] = environment()
    path = write_results(args.name, result)
    print(
        f"page_load n={args.n}: list rendered in {result['page_median_s']:.3f} s "
        f"(data alone {result['baseline_median_s']:.3f} s, ratio {result['ratio']}); "
        f"JS {result['js_bytes'] / 1024:.0f} KB, {result['js_gzip_kb']} KB gzipped; "
        f"{result['rows_in_dom']} rows in the DOM; target met: {result['meets_target']} -> {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
