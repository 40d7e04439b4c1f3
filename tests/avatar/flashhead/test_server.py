"""The avatar server and its client over real HTTP on 127.0.0.1, rendering with the stand-in checkout.

The server holds one pipeline for every run that sends it a render; the runs' errors keep their
kinds across the wire (the row's problem, the GPU machine's problem, transient unavailability).
"""

import base64
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import requests

from talking_head_dagster.avatar.flashhead.options import FlashHeadOptions
from talking_head_dagster.avatar.flashhead.renderer import FlashHeadRenderer
from talking_head_dagster.avatar.flashhead.server import AvatarServer
from talking_head_dagster.cli import main
from talking_head_dagster.doctor import build_report
from talking_head_dagster.errors import DeploymentError, PermanentInputError, TransientError
from talking_head_dagster.manifests import AvatarManifest
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.avatar import AvatarRenderer, FlashHeadServerBackend, LiteBackend
from talking_head_dagster.resources.avatar_server import AvatarServerClient, AvatarServerUnavailableError
from talking_head_dagster.settings import AvatarSettings, FlashHeadSettings, Settings
from tests.avatar.conftest import write_wav
from tests.avatar.flashhead.conftest import StandInMachine, materialize_avatar, speech_with_tail, standin_loads
from tests.avatar.flashhead.test_renderer import decode_rgb
from tests.support.processes import free_port


def resource(url: str, backend: str = "flashhead", portrait: Path | None = None) -> AvatarRenderer:
    return AvatarRenderer(backend=backend, portrait=str(portrait) if portrait else None, flashhead_server_url=url)


def progress_into(calls: list[tuple[int, int]]):
    return lambda done, total: calls.append((done, total))


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_runs_render_on_the_server_which_loads_the_pipeline_once(
    server: AvatarServer, tmp_path: Path, ffmpeg: str, portrait: Path
) -> None:
    wav = speech_with_tail(tmp_path / "speech.wav", 2.3, 0.4)
    loads = standin_loads()
    for row in range(3):
        progress: list[tuple[int, int]] = []
        out = tmp_path / f"{row}" / "avatar.mp4"
        result = resource(server.url, portrait=portrait).render(wav, out, ffmpeg, progress=progress_into(progress))
        assert (result.backend, result.frames, result.model, result.server) == ("flashhead", 58, "lite", server.url)
        assert progress == [(24, 58), (48, 58), (58, 58)]
        frames = decode_rgb(ffmpeg, out)
        assert len(frames) == 58
        assert (frames[47:, 256, 256, 2] > 100).all()  # the last words reached the last frames
        assert [p.name for p in out.parent.iterdir()] == ["avatar.mp4"]
    assert standin_loads() == loads  # loaded (and warmed up) once, before the first run
    assert requests.get(f"{server.url}/health", timeout=5).json() | {"load_s": 0} == {
        "status": "ready", "model": "lite", "attention": "sdpa", "load_s": 0, "renders": 3,
    }  # fmt: skip
    # The server renders the portrait the run sent, under a name of its own with the run's file type.
    assert Path(server.renderer.load().pipeline.base_data["image"]).name == "portrait" + portrait.suffix


def test_progress_reaches_the_run_while_the_server_is_still_rendering(
    server: AvatarServer, tmp_path: Path, ffmpeg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server holds the second chunk until the run has heard of the first one's frames.
    inference = server.renderer.load().inference
    run_pipeline, calls, heard = inference.run_pipeline, [0], threading.Event()

    def held(pipeline, embedding):
        calls[0] += 1
        if calls[0] == 2 and not heard.wait(timeout=10):
            raise RuntimeError("the run never heard of the first chunk")
        return run_pipeline(pipeline, embedding)

    monkeypatch.setattr(inference, "run_pipeline", held)
    wav = speech_with_tail(tmp_path / "speech.wav", 2.3, 0.4)
    progress: list[tuple[int, int]] = []

    def hear(done: int, total: int) -> None:
        progress.append((done, total))
        heard.set()

    assert resource(server.url).render(wav, tmp_path / "a.mp4", ffmpeg, progress=hear).frames == 58
    assert progress == [(24, 58), (48, 58), (58, 58)]


def test_renders_sent_at_once_take_the_gpu_one_after_the_other(
    server: AvatarServer, tmp_path: Path, ffmpeg: str, portrait: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("talking_head_dagster.avatar.flashhead.server.QUEUED_EVERY_S", 0.05)
    inference = server.renderer.load().inference
    run_pipeline, running, most = inference.run_pipeline, [0], [0]
    lock = threading.Lock()

    def counted(pipeline, embedding):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            threading.Event().wait(0.05)
            return run_pipeline(pipeline, embedding)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(inference, "run_pipeline", counted)
    wav = speech_with_tail(tmp_path / "speech.wav", 1.0, 0.2)
    results: dict[int, object] = {}

    def render(row: int) -> None:
        results[row] = resource(server.url, portrait=portrait).render(wav, tmp_path / f"{row}.mp4", ffmpeg)

    threads = [threading.Thread(target=render, args=(row,)) for row in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1, 2] and all(r.frames == 25 for r in results.values())
    assert most[0] == 1


def test_the_rows_problem_comes_back_as_the_rows_problem(server: AvatarServer, tmp_path: Path, ffmpeg: str) -> None:
    empty = write_wav(tmp_path / "empty.wav", np.zeros(0, np.int16), 22050)
    with pytest.raises(PermanentInputError, match="holds no audio"):
        resource(server.url).render(empty, tmp_path / "a.mp4", ffmpeg)
    assert not (tmp_path / "a.mp4").exists()


def test_a_model_failure_fails_the_run_and_the_server_goes_on(
    server: AvatarServer, tmp_path: Path, ffmpeg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inference = server.renderer.load().inference
    run_pipeline = inference.run_pipeline

    def fails(pipeline, embedding):
        raise RuntimeError("CUDA error: ECC")

    monkeypatch.setattr(inference, "run_pipeline", fails)
    wav = speech_with_tail(tmp_path / "speech.wav", 1.0, 0.2)
    with pytest.raises(RuntimeError, match="failed to render: RuntimeError: CUDA error: ECC"):
        resource(server.url).render(wav, tmp_path / "a.mp4", ffmpeg)
    assert not (tmp_path / "a.mp4").exists()
    monkeypatch.setattr(inference, "run_pipeline", run_pipeline)
    assert resource(server.url).render(wav, tmp_path / "b.mp4", ffmpeg).frames == 25


def test_an_unreachable_server_is_a_transient_error_and_auto_falls_back_to_lite(tmp_path: Path, ffmpeg: str) -> None:
    url = closed_port_url()
    wav = speech_with_tail(tmp_path / "speech.wav", 1.0, 0.2)
    with pytest.raises(TransientError, match=r"cannot be reached .* is `talking-head avatar-server` running there"):
        resource(url).render(wav, tmp_path / "a.mp4", ffmpeg)
    backend, choice = resource(url, backend="auto").resolved_backend()
    assert isinstance(backend, LiteBackend) and choice.startswith(f"auto: The avatar server at {url} cannot be reached")


def test_auto_renders_on_a_server_that_answers(server: AvatarServer) -> None:
    backend, choice = resource(server.url, backend="auto").resolved_backend()
    assert isinstance(backend, FlashHeadServerBackend) and choice == f"auto: the avatar server at {server.url} answers"


def test_a_bad_request_and_a_server_that_is_not_one_are_told_apart(server: AvatarServer, tmp_path: Path) -> None:
    answer = requests.post(f"{server.url}/render", data=b"{not json", timeout=5)
    assert answer.status_code == 400 and "not a render request" in answer.json()["error"]["message"]
    wav = speech_with_tail(tmp_path / "speech.wav", 1.0, 0.2)
    with pytest.raises(DeploymentError, match="refused the render"):
        AvatarServerClient(f"{server.url}/elsewhere").render(wav, wav, tmp_path / "a.mp4")
    with pytest.raises(AvatarServerUnavailableError):
        AvatarServerClient(closed_port_url()).health()


def test_a_server_that_cannot_run_flashhead_does_not_start(deployment: FlashHeadOptions, ffmpeg: str) -> None:
    no_gpu = AvatarServer(
        ("127.0.0.1", 0), FlashHeadRenderer(replace(deployment, seed=1), StandInMachine(gpu_error="no CUDA")), ffmpeg
    )
    try:
        with pytest.raises(DeploymentError, match="no CUDA"):
            no_gpu.load()
    finally:
        no_gpu.server_close()


def test_the_cli_server_exits_with_the_reasons_on_a_machine_without_a_gpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TALKING_HEAD_AVATAR__FLASHHEAD__VENDOR_DIR", str(tmp_path / "no-checkout"))
    assert main(["avatar-server", "--port", "0", "--no-warmup"]) == 1
    error = capsys.readouterr().err
    assert "cannot run on this machine" in error and "no SoulX-FlashHead checkout" in error


def test_the_asset_records_the_server_that_rendered(server: AvatarServer, tmp_path: Path, portrait: Path) -> None:
    key = "local-server"
    artifacts = ArtifactStore(local_dir=str(tmp_path / "artifacts"))
    metadata = materialize_avatar(artifacts, key, resource(server.url, "auto", portrait))
    assert (metadata["backend"].value, metadata["avatar_server"].value, metadata["frames"].value) == (
        "flashhead", server.url, 38,
    )  # fmt: skip
    assert artifacts.manifest(key, "avatar_video", AvatarManifest).server == server.url


def test_the_doctor_reports_the_server_and_whether_it_answers(server: AvatarServer) -> None:
    def report_for(url: str) -> str:
        flashhead = FlashHeadSettings(server_url=url)
        return build_report(Settings(avatar=AvatarSettings(flashhead=flashhead))).render()

    ready = report_for(server.url)
    assert f"[ok] flashhead on the avatar server {server.url}: ready (lite, attention sdpa" in ready
    assert "AVATAR__BACKEND=auto, which picks flashhead here" in ready
    down = report_for(closed_port_url())
    assert "[--] flashhead on the avatar server: The avatar server at" in down and "cannot be reached" in down
    assert "AVATAR__BACKEND=auto, which picks lite here" in down


def test_a_portrait_name_never_leaves_the_servers_scratch_folder(
    server: AvatarServer, tmp_path: Path, portrait: Path
) -> None:
    wav = speech_with_tail(tmp_path / "speech.wav", 1.0, 0.2)
    body = {
        "portrait": base64.b64encode(portrait.read_bytes()).decode(),
        "portrait_name": "../../../tmp/evil.JPG",
        "speech": base64.b64encode(wav.read_bytes()).decode(),
    }
    answer = requests.post(f"{server.url}/render", json=body, timeout=60)
    assert '"result"' in answer.text.splitlines()[-1]
    image = Path(server.renderer.load().pipeline.base_data["image"])
    assert image.name == "portrait.jpg" and image.parent.name.startswith("avatar-render-")
