"""The avatar server and its client when something breaks: a run that hangs up, a server that drops the
connection, a deployment error on the GPU machine, and an answer that is not the protocol's.

The server renders with the stand-in checkout on a thread (conftest's ``server``); the dropped
connection and the deployment error go through a real job run of ``avatar_video`` with the transient
retry policy, so what Dagster does with them is read from the event log.
"""

import json
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from talking_head_dagster.assets.avatar_video import avatar_video
from talking_head_dagster.avatar.flashhead import server as server_module
from talking_head_dagster.avatar.flashhead.server import AvatarServer
from talking_head_dagster.errors import DeploymentError
from talking_head_dagster.failures import step_failure
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.avatar import AvatarRenderer
from talking_head_dagster.resources.avatar_server import AvatarServerClient, AvatarServerUnavailableError
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.settings import RetrySettings
from tests.avatar.flashhead.conftest import commit_speech, speech_with_tail
from tests.support.hostile_server import QuietReplies
from tests.support.stage_job import logged, run_stage

RETRY = RetrySettings(base_delay_s=0.1, max_total_s=1.0)


def _held_pipeline(server: AvatarServer, monkeypatch: pytest.MonkeyPatch, hold_call: int) -> tuple[list, dict]:
    """Count the pipeline's chunk calls; call ``hold_call`` waits until the test sets ``events['go']``."""
    inference = server.renderer.load().inference
    run_pipeline, calls = inference.run_pipeline, [0]
    events = {"holding": threading.Event(), "go": threading.Event()}

    def held(pipeline, embedding):
        calls[0] += 1
        if calls[0] == hold_call:
            events["holding"].set()
            assert events["go"].wait(timeout=60)
        return run_pipeline(pipeline, embedding)

    monkeypatch.setattr(inference, "run_pipeline", held)
    return calls, events


def _hang_up_after_first_progress(url: str, speech: Path, portrait: Path, holding: threading.Event) -> None:
    """A run's render request on a raw socket, reset (RST) once the server is busy with the second chunk."""
    import base64

    body = json.dumps(
        {
            "portrait": base64.b64encode(portrait.read_bytes()).decode(),
            "portrait_name": portrait.name,
            "speech": base64.b64encode(speech.read_bytes()).decode(),
        }
    ).encode()
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        head = f"POST /render HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        sock.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        received = b""
        while b'"progress"' not in received:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
        assert holding.wait(timeout=60)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_run_that_hangs_up_mid_render_stops_it_and_frees_the_gpu_for_the_next(
    server: AvatarServer, tmp_path: Path, ffmpeg: str, portrait: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "QUEUED_EVERY_S", 0.05)
    speech = speech_with_tail(tmp_path / "speech.wav", 2.3, 0.4)  # 58 frames: three chunks
    calls, events = _held_pipeline(server, monkeypatch, hold_call=2)
    _hang_up_after_first_progress(server.url, speech, portrait, events["holding"])
    events["go"].set()  # the server renders the second chunk for a run that is gone

    # The next run's render goes through: the GPU lock was released (a leaked one would queue it forever).
    done: dict[str, object] = {}

    def next_run() -> None:
        done["stats"] = AvatarServerClient(server.url).render(portrait, speech, tmp_path / "next.mp4")

    thread = threading.Thread(target=next_run, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert done and done["stats"].frames == 58
    # The hung-up render stopped at its next progress line: 2 chunks, then the next run's 3.
    assert calls[0] == 2 + 3
    assert server.renders == 1
    assert server.gpu.acquire(timeout=60)  # and the next run's handler lets go of it too
    server.gpu.release()


def _avatar_job(server_url: str, tmp_path: Path, portrait: Path, instance: dg.DagsterInstance):
    artifacts = ArtifactStore(local_dir=str(tmp_path / "artifacts"))
    key = "local-avatarfault"
    commit_speech(artifacts, key)
    avatar = AvatarRenderer(backend="flashhead", portrait=str(portrait), flashhead_server_url=server_url)
    resources = {"artifacts": artifacts, "avatar": avatar, "ffmpeg": FFmpegResource()}
    return run_stage(avatar_video, resources, key, RETRY, instance)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def test_a_server_that_drops_the_connection_mid_render_is_retried(
    server: AvatarServer, tmp_path: Path, portrait: Path, instance: dg.DagsterInstance
) -> None:
    """The first render's connection is reset at its first progress line (a restarted server); the retry renders."""
    dropped: list[str] = []

    class DropsTheFirst(server.RequestHandlerClass):
        def _line(self, body: dict) -> None:
            if "progress" in body and not dropped:
                dropped.append(self.path)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.shutdown(socket.SHUT_RDWR)
                raise ConnectionResetError("the server went away")
            super()._line(body)

    server.RequestHandlerClass = DropsTheFirst
    result = _avatar_job(server.url, tmp_path, portrait, instance)
    assert result.success
    assert dropped == ["/render"]
    [retry] = logged(instance, result.run_id, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    reason = retry.event_specific_data.error.to_string()
    assert "AvatarServerUnavailableError" in reason and "closed the connection before the render ended" in reason
    assert server.renders == 1


def test_a_deployment_error_on_the_server_fails_the_row_as_the_operators_without_retries(
    server: AvatarServer, tmp_path: Path, portrait: Path, instance: dg.DagsterInstance, monkeypatch
) -> None:
    inference = server.renderer.load().inference

    def broken(pipeline, embedding):
        raise DeploymentError("the CUDA driver was updated under the server: restart it")

    monkeypatch.setattr(inference, "run_pipeline", broken)
    result = _avatar_job(server.url, tmp_path, portrait, instance)
    assert not result.success
    assert logged(instance, result.run_id, dg.DagsterEventType.STEP_UP_FOR_RETRY) == []
    [failure] = logged(instance, result.run_id, dg.DagsterEventType.STEP_FAILURE)
    failed = step_failure(failure)
    assert failed.kind == "deployment"
    assert failed.reason == (
        f"The avatar server at {server.url} cannot render: the CUDA driver was updated under the server: restart it"
    )


class _Garbled(QuietReplies):
    """Answers every render with 200 and the class's ``answer`` lines, as a broken or foreign server might."""

    answer = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self._send(200, self.answer, "application/x-ndjson")


@pytest.fixture
def garbled() -> Iterator[tuple[type[_Garbled], str]]:
    import http.server

    handler = type("Handler", (_Garbled,), {})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    "answer",
    [
        b"<html>502 Bad Gateway</html>\n",
        b'{"progress": [24, 58]}\n{"result": {"frames": 58}, "mp4": "AAAA"}\n',
        b'{"result": {"frames": 1}}\n',
        b'{"progress": [24, 58]}\n{"result": {}, "mp4": "not base64!"}\n',
        b"42\n",
        b'"a string"\n',
        b'{"progress": "half"}\n',
        b'{"error": "not an object"}\n',
    ],
    ids=["html", "stats-cut", "no-mp4", "bad-base64", "number", "string", "bad-progress", "bad-error"],
)
def test_an_answer_line_that_is_not_the_protocols_is_a_deployment_error_that_says_so(
    garbled, tmp_path: Path, answer: bytes
) -> None:
    handler, url = garbled
    handler.answer = answer
    speech = speech_with_tail(tmp_path / "speech.wav", 1.0, 0.2)
    with pytest.raises(DeploymentError, match="answered a line that is not its protocol's") as raised:
        AvatarServerClient(url).render(speech, speech, tmp_path / "a.mp4")
    assert url in str(raised.value) and "\n" not in str(raised.value)
    assert not (tmp_path / "a.mp4").exists()


def test_an_answer_cut_off_mid_line_is_a_dropped_connection(garbled, tmp_path: Path) -> None:
    handler, url = garbled
    handler.answer = b'{"progress": [24, 58]}\n{"result": {"frames": 58, "fp'
    speech = speech_with_tail(tmp_path / "speech.wav", 1.0, 0.2)
    with pytest.raises(AvatarServerUnavailableError, match="closed the connection before the render ended"):
        AvatarServerClient(url).render(speech, speech, tmp_path / "a.mp4")
