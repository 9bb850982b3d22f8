"""Run the Salesforce sandbox until Ctrl-C or SIGTERM.

Usage: ``python -m integrations_platform.sandbox --host 127.0.0.1 --port 8765``
"""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import datetime

from .data import DEFAULT_START
from .server import SalesforceSandbox, SandboxCredentials


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve, and return an exit code once signalled."""
    defaults = SandboxCredentials()
    parser = argparse.ArgumentParser(
        prog="python -m integrations_platform.sandbox",
        description="Local Salesforce-compatible API server.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument("--refresh-token", default=defaults.refresh_token)
    parser.add_argument("--records-per-object", type=int, default=30)
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=DEFAULT_START,
        help="SystemModstamp of the first records (ISO 8601, default UTC)",
    )
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument(
        "--org",
        choices=("core", "full"),
        default="full",
        help="full: 300+ objects like a real org; core: the demo's three objects",
    )
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    credentials = SandboxCredentials(args.client_id, args.client_secret, args.refresh_token)
    with SalesforceSandbox(
        credentials,
        host=args.host,
        port=args.port,
        records_per_object=args.records_per_object,
        start=args.start,
        page_size=args.page_size,
        org=args.org,
    ) as sandbox:
        print(f"Salesforce sandbox listening on {sandbox.url}", flush=True)
        # A timed wait keeps the main thread responsive to signals.
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
