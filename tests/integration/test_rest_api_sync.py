"""The REST API source (tap-rest-api-msdk, imported from its own description): real syncs
from a local JSON API, with bearer-token and API-key authentication, through Dagster into
the embedded destination; the credentials never leave the config store."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import START
from tests.integration.helpers import jsonl_rows, materialize, rows_by_asset

pytestmark = pytest.mark.usefixtures("meltano_plugins")

CUSTOMERS = [
    {"id": n, "name": f"customer {n}", "updated_at": f"2026-11-{n:02d}T00:00:00Z"}
    for n in range(1, 13)
]


class FakeApi(ThreadingHTTPServer):
    """A JSON API: GET /customers answers ``{"data": [...]}`` to the right credential."""

    daemon_threads = True

    def __init__(self, credential: tuple[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.credential = credential  # (header, exact value)
        self.seen: list[tuple[str, int]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeApi

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        header, value = self.server.credential
        allowed = self.headers.get(header) == value
        path = self.path.split("?", 1)[0]
        status = 200 if allowed and path == "/customers" else 401 if not allowed else 404
        self.server.seen.append((path, status))
        body = json.dumps({"data": CUSTOMERS} if status == 200 else {"error": "nope"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[FakeApi]:
    server = FakeApi(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


STREAMS = [
    {
        "name": "customers",
        "path": "/customers",
        "records_path": "$.data[*]",
        "primary_keys": ["id"],
        "replication_key": "updated_at",
    }
]


def _everything_written(platform: Any, instance: Any, run_id: str) -> str:
    """The run's event log and every file the platform left under its home."""
    events = "\n".join(
        str(record.event_log_entry) for record in instance.get_records_for_run(run_id).records
    )
    files = "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in platform.home.rglob("*")
        if path.is_file() and path.suffix not in (".db", ".sqlite")
    )
    return events + files


@pytest.mark.parametrize(
    ("api", "auth"),
    [
        (
            ("Authorization", "Bearer rest-canary-bearer-4f1d8a"),
            {"auth_method": "bearer_token", "bearer_token": "rest-canary-bearer-4f1d8a"},
        ),
        (
            ("X-API-Key", "rest-canary-api-key-9c2e71"),
            {"auth_method": "api_key", "api_keys": {"X-API-Key": "rest-canary-api-key-9c2e71"}},
        ),
    ],
    indirect=["api"],
    ids=["bearer-token", "api-key"],
)
def test_a_rest_api_syncs_every_record_with_its_credential(
    platform: Any, api: FakeApi, auth: dict[str, Any], dagster_home: Any
) -> None:
    secret = api.credential[1].removeprefix("Bearer ")
    platform.service.add(
        "rest_api",
        "crm_api",
        {"api_url": api.url, "streams": STREAMS, **auth},
        streams=["customers:updated_at"],
        start_date=START,
    )
    with platform.dagster_instance(dagster_home) as instance:
        result = materialize(platform, "crm_api", instance)
        assert rows_by_asset(result) == {"customers": len(CUSTOMERS)}
        rows = jsonl_rows(platform, "crm_api", "customers")
        assert sorted(r["id"] for r in rows) == [c["id"] for c in CUSTOMERS]
        assert ("/customers", 200) in api.seen
        written = _everything_written(platform, instance, result.run_id)
    assert written and secret not in written


@pytest.mark.parametrize(
    "api", [("Authorization", "Bearer rest-canary-right-token-77aa")], indirect=True
)
def test_a_refused_token_fails_the_sync_and_is_never_written(
    platform: Any, api: FakeApi, dagster_home: Any
) -> None:
    wrong = "rest-canary-wrong-token-0b3c"
    platform.service.add(
        "rest_api",
        "crm_api",
        {
            "api_url": api.url,
            "streams": STREAMS,
            "auth_method": "bearer_token",
            "bearer_token": wrong,
        },
        streams=["customers:updated_at"],
        start_date=START,
    )
    with platform.dagster_instance(dagster_home) as instance:
        result = materialize(platform, "crm_api", instance, raise_on_error=False)
        assert not result.success
        assert ("/customers", 401) in api.seen
        written = _everything_written(platform, instance, result.run_id)
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "the run failed without a step failure"
    assert wrong not in written
