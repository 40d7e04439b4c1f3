"""The sensor when NocoDB is down, slow or answers garbage: the tick skips with a reason and keeps its cursor.

A fake NocoDB stands in here (no real one answers garbage on demand); the same faults against the
real NocoDB are in tests/test_faults.py.
"""

import contextlib
import http.server
import json
import socket
import threading
from collections.abc import Iterator

import dagster as dg
import pytest

from talking_head_dagster.definitions import build_definitions
from talking_head_dagster.resources.factory import NOCODB_TOKEN_ENV
from talking_head_dagster.settings import NocoDBSettings, Settings, TableSettings

CURSOR = json.dumps({"after_id": {"tbl": 41}})

ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "html page": (200, "text/html", b"<html><body>502 Bad Gateway</body></html>"),
    "cut json": (200, "application/json", b'{"list": [{"Id": 42, "url": "http'),
    "list is not a list": (200, "application/json", b'{"list": "nothing", "pageInfo": {}}'),
    "row without id": (200, "application/json", b'{"list": [{"url": "https://example.com/a.mp4"}], "pageInfo": {}}'),
    "id is not a number": (200, "application/json", b'{"list": [{"Id": "../../etc"}], "pageInfo": {}}'),
    "not an object": (200, "application/json", b"[1, 2, 3]"),
    "server error": (502, "text/plain", b"bad gateway"),
    "throttled": (429, "text/plain", b"slow down"),
}


class _Fake(http.server.BaseHTTPRequestHandler):
    answer: tuple[int, str, bytes] = (200, "application/json", b"{}")
    hold: threading.Event | None = None  # when set: answer only once the test releases it
    received = 0

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        type(self).received += 1
        if self.hold is not None:
            self.hold.wait(timeout=60)
        status, content_type, body = self.answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that gave up waiting
            self.wfile.write(body)


@pytest.fixture
def fake_nocodb() -> Iterator[type[_Fake]]:
    handler = type("Handler", (_Fake,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def _tick(url: str, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch) -> dg.SensorResult:
    monkeypatch.setenv(NOCODB_TOKEN_ENV, "token")
    settings = Settings(
        nocodb=NocoDBSettings(url=url, api_token="token", tables=[TableSettings(id="tbl")], timeout_s=0.5)
    )
    defs = build_definitions(settings)
    with dg.build_sensor_context(
        instance=instance, cursor=CURSOR, definitions=defs, resources=defs.resources
    ) as context:
        return defs.resolve_sensor_def("nocodb_rows")(context)


@pytest.mark.parametrize("kind", sorted(ANSWERS))
def test_garbage_skips_the_tick_and_keeps_the_cursor(kind: str, fake_nocodb, instance, monkeypatch) -> None:
    fake_nocodb.answer = ANSWERS[kind]
    result = _tick(fake_nocodb.url, instance, monkeypatch)
    assert not result.run_requests
    assert result.skip_reason.skip_message.startswith("tbl: NocoDB"), result.skip_reason
    assert json.loads(result.cursor) == json.loads(CURSOR)


def test_a_slow_nocodb_skips_the_tick(fake_nocodb, instance, monkeypatch) -> None:
    """NocoDB holds its answer until the test ends: the tick gives up after one request's timeout."""
    fake_nocodb.hold = threading.Event()
    try:
        result = _tick(fake_nocodb.url, instance, monkeypatch)
        assert not fake_nocodb.hold.is_set()  # the tick ended while NocoDB still held its answer
    finally:
        fake_nocodb.hold.set()
    assert fake_nocodb.received == 1
    assert not result.run_requests and "unreachable: ReadTimeout" in result.skip_reason.skip_message
    assert json.loads(result.cursor) == json.loads(CURSOR)


def test_a_stopped_nocodb_skips_the_tick(instance, monkeypatch) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    result = _tick(url, instance, monkeypatch)
    assert not result.run_requests and "unreachable: ConnectionError" in result.skip_reason.skip_message
    assert json.loads(result.cursor) == json.loads(CURSOR)
