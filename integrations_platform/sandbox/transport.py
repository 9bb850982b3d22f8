"""The sandbox's HTTP transport: threads, JSON bodies, silence; the sandbox decides
every answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast

Response = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class RawBody:
    """A payload sent as it is (the Bulk API's XML and CSV), not as JSON."""

    text: str
    content_type: str


class Handles(Protocol):
    """What the transport asks of the sandbox."""

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """Status, JSON payload and extra headers for one request."""
        ...


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that hands every request to ``sandbox``."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: Handles) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response are routine for a test server; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    """Transport only: the sandbox decides every answer."""

    server_version = "SFDC"
    sys_version = ""

    def _dispatch(self) -> None:
        sandbox = cast(SandboxHTTPServer, self.server).sandbox
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, payload, extra = sandbox.handle(self.command, self.path, headers, body)
        except Exception as e:  # noqa: BLE001 - a test server must answer, not hang up
            status, extra = 500, {}
            payload = [{"message": f"{type(e).__name__}: {e}", "errorCode": "UNKNOWN_EXCEPTION"}]
        if isinstance(payload, RawBody):
            data, content_type = payload.text.encode(), payload.content_type
        else:
            data, content_type = json.dumps(payload).encode(), "application/json;charset=UTF-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # Silenced: request lines and bodies may carry credentials.
        pass
