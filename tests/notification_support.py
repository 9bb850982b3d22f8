"""Shared by the notification tests: a webhook receiver and a sensor harness."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dagster as dg

from integrations_platform.integration import Integration
from integrations_platform.orchestration.sensors import (
    FAILURE_SENSOR,
    SUCCESS_SENSOR,
    build_notification_sensors,
)

DAGSTER_UI = "http://dagster.example.test:3000"
API_URL = "http://api.example.test:8000"
WEBHOOK_SECRET = "webhook-signing-key-for-tests"


@dataclass
class Received:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local webhook receiver; ``statuses`` are answered first, then 200."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    url: str = ""
    delay_s: float = 0.0


@contextmanager
def webhook_receiver(port: int = 0, **kwargs: Any) -> Iterator[Receiver]:
    """Serve a receiver on 127.0.0.1 until the block ends."""
    receiver = Receiver(**kwargs)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            item = Received(dict(self.headers.items()), body)
            if receiver.delay_s:
                threading.Event().wait(receiver.delay_s)
            with lock:
                receiver.received.append(item)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status < 300:
                    receiver.accepted.append(item)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


class SensorHarness:
    """The real run-status sensors, evaluated tick by tick against a real instance."""

    def __init__(self, instance: dg.DagsterInstance, snapshots: list[Integration]):
        self.instance = instance
        sensors = {s.name: s for s in build_notification_sensors(snapshots)}
        self.sensors = [sensors[FAILURE_SENSOR], sensors[SUCCESS_SENSOR]]
        self.cursors: dict[str, str | None] = {}
        self.tick()  # the first tick only places the cursors

    def tick(self) -> None:
        """Evaluate every sensor until it has nothing new (5 runs per tick at most)."""
        for sensor in self.sensors:
            for _ in range(20):
                before = self.cursors.get(sensor.name)
                context = dg.build_sensor_context(instance=self.instance, cursor=before)
                result = sensor.evaluate_tick(context)
                self.cursors[sensor.name] = result.cursor
                if result.cursor == before:
                    break


def tick_run_status_sensors(
    instance: dg.DagsterInstance, defs: dg.Definitions, cursors: dict[str, Any]
) -> None:
    """Evaluate the failure and success sensors of ``defs`` until they have read every
    run (``cursors`` carries their cursors from one call to the next)."""
    repo = defs.get_repository_def()
    for name in (FAILURE_SENSOR, SUCCESS_SENSOR):
        sensor = repo.get_sensor_def(name)
        for _ in range(10):
            before = cursors.get(name)
            result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=before))
            cursors[name] = result.cursor
            if result.cursor == before:
                break
