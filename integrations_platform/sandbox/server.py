"""A local, Salesforce-compatible HTTP server for running Salesforce taps offline.

It implements the subset of the REST API that ``tap-salesforce`` uses: OAuth2
refresh-token login, global and per-object describe, SOQL ``query``/``queryAll`` (parsed
in ``soql.py``) with ``nextRecordsUrl`` paging, and ``limits``; the Bulk API 1.0 of its
BULK mode (``bulk.py``: jobs, batches, CSV results, PK chunking); plus fault injection
for tests. ``transport.py`` carries the HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .bulk import BulkApi
from .controls import OrgControls
from .data import (
    DEFAULT_INTERVAL,
    DEFAULT_START,
    Dataset,
    ObjectSpec,
    find_object,
    make_id,
    parse_datetime,
)
from .org import build_org
from .soql import ApiError, parse_query
from .tls import server_context, write_self_signed
from .transport import Response, SandboxHTTPServer

_ORG_ID, _USER_ID = make_id("00D", 0, 1), make_id("005", 0, 1)


@dataclass(frozen=True)
class SandboxCredentials:
    """The OAuth client and refresh token the sandbox accepts."""

    client_id: str = "demo-client-id"
    client_secret: str = "demo-client-secret"
    refresh_token: str = "demo-refresh-token"


class SalesforceSandbox(OrgControls):
    """A threaded local Salesforce REST API with deterministic data and fault injection."""

    def __init__(
        self,
        credentials: SandboxCredentials | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        records_per_object: int = 30,
        start: datetime = DEFAULT_START,
        page_size: int = 200,
        interval: timedelta = DEFAULT_INTERVAL,
        seed: int = 42,
        org: str = "core",
        https: bool = False,
        latency_s: float = 0.0,
    ) -> None:
        self.credentials = credentials or SandboxCredentials()
        self.page_size = page_size
        self._host, self._port = host, port
        self._lock = threading.RLock()
        self._data = Dataset(records_per_object, start, interval, seed, build_org(org))
        self._https = https
        # Salesforce is across a network: each answer can be made to take this long.
        self.latency_s = latency_s
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None
        self._httpsd: SandboxHTTPServer | None = None
        self._https_thread: threading.Thread | None = None
        self._tokens: set[str] = set()
        self._cursors: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        self._log: list[tuple[str, str]] = []
        self._queries: list[str] = []
        self._used, self._max = 0, 15000
        self._failure: str | None = None
        self._object_failures: dict[str, str] = {}
        self._httpd: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.bulk = BulkApi(self)

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> SalesforceSandbox:
        """Bind the port and serve from a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("sandbox already started")
        self._httpd = SandboxHTTPServer((self._host, self._port), self)
        self._thread = _serve(self._httpd, "salesforce-sandbox")
        if self._https:
            self._tls_dir = tempfile.TemporaryDirectory(prefix="sandbox-tls-")
            cert, key = write_self_signed(Path(self._tls_dir.name), self._host)
            self._httpsd = SandboxHTTPServer((self._host, 0), self)
            self._httpsd.socket = server_context(cert, key).wrap_socket(
                self._httpsd.socket, server_side=True
            )
            self._https_thread = _serve(self._httpsd, "salesforce-sandbox-https")
        return self

    def stop(self) -> None:
        """Stop serving and release the ports (and the certificate's folder)."""
        for server, thread in ((self._httpd, self._thread), (self._httpsd, self._https_thread)):
            if server is not None:
                server.shutdown()
                server.server_close()
                if thread:
                    thread.join()
        self._httpd = self._thread = self._httpsd = self._https_thread = None
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
            self._tls_dir = None

    def __enter__(self) -> SalesforceSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (only known after `start`)."""
        if self._httpd is None:
            raise RuntimeError("sandbox not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, used as both the login URL and the ``instance_url``."""
        return f"http://{self._host}:{self.port}"

    @property
    def https_url(self) -> str:
        """The HTTPS listener's base URL (``https=True``); trust :attr:`ca_file` to use it."""
        if self._httpsd is None:
            raise RuntimeError("sandbox not started with https=True")
        return f"https://{self._host}:{self._httpsd.server_address[1]}"

    @property
    def ca_file(self) -> Path:
        """The self-signed certificate of the HTTPS listener (a client's trust bundle)."""
        if self._tls_dir is None:
            raise RuntimeError("sandbox not started with https=True")
        return Path(self._tls_dir.name) / "cert.pem"

    # -- request handling ----------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer one HTTP request: (status, JSON payload, extra headers)."""
        parts = urlsplit(target)
        path, params = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self._log.append((method, path))
        if self.latency_s:
            time.sleep(self.latency_s)
        if path == "/services/oauth2/token" and method == "POST":
            return self._token(body)
        if m := re.fullmatch(r"/sandbox/records/(\w+)", path):
            return self._control(method, m[1], params)
        if m := re.fullmatch(r"/services/async/(\d+)\.0/(.*)", path):
            return self.bulk.handle(method, m[1], m[2], headers, body)
        if m := re.fullmatch(r"/services/data/v(\d+)\.0/(.*)", path):
            with self._lock:
                self._used += 1
                usage = {"Sforce-Limit-Info": f"api-usage={self._used}/{self._max}"}
            try:
                return 200, self._data_api(method, m[1], m[2].strip("/"), headers, params), usage
            except ApiError as e:
                return e.status, [{"message": e.message, "errorCode": e.code}], usage
        return (
            404,
            [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
            {},
        )

    def _token(self, body: bytes) -> Response:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        creds = self.credentials

        def bad(error: str, description: str) -> Response:
            return 400, {"error": error, "error_description": description}, {}

        if form.get("grant_type") != "refresh_token":
            return bad("unsupported_grant_type", "grant type not supported")
        if not _same(form.get("client_id", ""), creds.client_id):
            return bad("invalid_client_id", "client identifier invalid")
        if not _same(form.get("client_secret", ""), creds.client_secret):
            return bad("invalid_client", "invalid client credentials")
        if not _same(form.get("refresh_token", ""), creds.refresh_token):
            return bad("invalid_grant", "expired access/refresh token")
        token = f"{_ORG_ID[:15]}!{secrets.token_urlsafe(48)}"
        issued = str(int(time.time() * 1000))
        identity = f"{self.url}/id/{_ORG_ID}/{_USER_ID}"
        signature = hmac.new(
            creds.client_secret.encode(), (identity + issued).encode(), hashlib.sha256
        ).digest()
        with self._lock:
            self._tokens.add(token)
        # No refresh_token in the answer: tap-salesforce would rewrite its config file.
        return (
            200,
            {
                "access_token": token,
                "instance_url": self.url,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": issued,
                "scope": "api refresh_token",
                "signature": base64.b64encode(signature).decode(),
            },
            {},
        )

    def _control(self, method: str, sobject: str, params: dict[str, str]) -> Response:
        if method not in ("GET", "POST"):
            return 405, {"error": f"method {method} not allowed"}, {}
        try:
            if method == "GET":
                return 200, {"records": self.records(sobject)}, {}
            count = int(params.get("count", "1"))
            stamp = parse_datetime(params["modstamp"]) if "modstamp" in params else None
            created = self.add_records(sobject, count, stamp)
        except ValueError as e:
            return 400, {"error": str(e)}, {}
        return 201, {"ids": [r["Id"] for r in created]}, {}

    def _data_api(
        self, method: str, version: str, rest: str, headers: dict[str, str], params: dict[str, str]
    ) -> Any:
        auth = headers.get("authorization", "").split(" ", 1)
        with self._lock:
            authorized = (
                len(auth) == 2
                and auth[0].lower() in ("bearer", "oauth")
                and auth[1].strip() in self._tokens
            )
            failure = self._failure
        if not authorized:
            raise ApiError.injected("INVALID_SESSION_ID")
        if failure:
            raise ApiError.injected(failure)
        if method != "GET":
            raise ApiError(
                "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET", 405
            )
        if rest == "sobjects":
            return {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [o.summary(version) for o in self._objects().values()],
            }
        if m := re.fullmatch(r"sobjects/(\w+)/describe", rest):
            if spec := find_object(self._objects(), m[1]):
                return spec.describe(version)
            raise ApiError("NOT_FOUND", "The requested resource does not exist", 404)
        if rest == "limits":
            with self._lock:
                used, maximum = self._used, self._max
            return {
                "DailyApiRequests": {"Max": maximum, "Remaining": max(maximum - used, 0)},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "DataStorageMB": {"Max": 5, "Remaining": 5},
            }
        if rest in ("query", "queryAll"):
            if not params.get("q"):
                raise ApiError("MALFORMED_QUERY", "A query string has to be specified")
            sobject, rows = self._run_soql(params["q"], version, include_deleted=rest != "query")
            cursor = f"01g{secrets.token_hex(8)}"
            with self._lock:
                self._cursors[cursor] = (sobject, rows)
            return self._page(version, cursor, 0)
        if m := re.fullmatch(r"query(?:All)?/(\w+)-(\d+)", rest):
            return self._page(version, m[1], int(m[2]))
        raise ApiError("NOT_FOUND", "The requested resource does not exist", 404)

    def valid_token(self, token: str) -> bool:
        """Whether ``token`` is a live access token (the Bulk API's session header)."""
        with self._lock:
            return token in self._tokens

    def run_query(
        self, soql: str, version: str, include_deleted: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        """A SOQL query's object and rows, as the REST API answers it (the Bulk API's)."""
        with self._lock:
            self._used += 1
        return self._run_soql(soql, version, include_deleted)

    def _objects(self) -> dict[str, ObjectSpec]:
        with self._lock:
            return dict(self._data.objects)

    def _page(self, version: str, cursor: str, offset: int) -> dict[str, Any]:
        with self._lock:
            sobject, rows = self._cursors.get(cursor, ("", []))
            failure = self._object_failures.get(sobject)
        if not sobject:
            raise ApiError("INVALID_QUERY_LOCATOR", "invalid query locator")
        if failure:
            raise ApiError.injected(failure, sobject)
        chunk = rows[offset : offset + self.page_size]
        done = offset + len(chunk) >= len(rows)
        page: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": chunk}
        if not done:
            page["nextRecordsUrl"] = (
                f"/services/data/v{version}.0/query/{cursor}-{offset + len(chunk)}"
            )
        return page

    def _run_soql(
        self, soql: str, version: str, include_deleted: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        with self._lock:
            self._queries.append(soql)
        query = parse_query(soql, self._objects())
        name = query.spec.name
        with self._lock:
            failure = self._object_failures.get(name)
            rows = [r for r in self._data.records[name] if query.matches(r, include_deleted)]
        if failure:
            raise ApiError.injected(failure, name)
        url = f"/services/data/v{version}.0/sobjects/{name}/"
        return name, [
            {
                "attributes": {"type": name, "url": url + r["Id"]},
                **{f.name: r[f.name] for f in query.fields},
            }
            for r in query.arrange(rows)
        ]


def _serve(server: SandboxHTTPServer, name: str) -> threading.Thread:
    """Serve ``server`` from a daemon thread."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
    )
    thread.start()
    return thread


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of two texts, whatever characters they hold."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
