"""The flashhead renderer end to end on the stand-in: order, count, the last words, encoding, one load.

The stand-in (tests/avatar/flashhead_standin) paints each frame with where it came from: red the
pipeline call, green the frame's index within the call, blue the loudness of the frame's own
audio. See its README. This proves our streaming, not the model.
"""

import os
import runpy
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from talking_head_dagster.avatar.flashhead import loader
from talking_head_dagster.avatar.flashhead.audio import load_speech, speech_frames
from talking_head_dagster.avatar.flashhead.loader import import_inference, load_pipeline
from talking_head_dagster.avatar.flashhead.options import FlashHeadOptions
from talking_head_dagster.avatar.flashhead.renderer import FlashHeadRenderer
from talking_head_dagster.avatar.flashhead.stream import stream_frames
from talking_head_dagster.errors import DeploymentError, PermanentInputError
from talking_head_dagster.media.probe import probe
from tests.avatar.conftest import write_wav
from tests.avatar.flashhead.conftest import StandInMachine, speech_with_tail, standin_module

SECONDS = 2.3  # 58 frames: not a whole number of chunks (24 or 28 frames each)
TAIL_S = 0.4  # the "last words": a tone from 1.9 s to the end


def expected_colour(frame: int, new_frames: int, motion_frames: int) -> tuple[int, int]:
    """(red, green) the stand-in gives output frame ``frame`` when every call adds ``new_frames``."""
    call, index = divmod(frame, new_frames)
    return 8 + 16 * call, 8 + 7 * (motion_frames + index)


@pytest.fixture
def tail_wav(tmp_path: Path) -> Path:
    return speech_with_tail(tmp_path / "speech.wav", SECONDS, TAIL_S)


def frames_of(options: FlashHeadOptions, wav: Path, ffmpeg: str) -> np.ndarray:
    loaded = load_pipeline(options, StandInMachine())
    loaded.inference.get_base_data(loaded.pipeline, "portrait.png", options.seed, options.face_crop)
    frames, _ = speech_frames(wav, loaded.plan.fps)
    audio = load_speech(ffmpeg, wav, loaded.plan.sample_rate)
    return np.stack(list(stream_frames(loaded.inference, loaded.pipeline, loaded.plan, audio, frames)))


@pytest.mark.parametrize(("model_type", "new_frames", "motion_frames"), [("lite", 24, 9), ("pro", 28, 5)])
def test_frames_are_in_order_complete_and_end_with_the_last_words(
    deployment: FlashHeadOptions, tail_wav: Path, ffmpeg: str, model_type: str, new_frames: int, motion_frames: int
) -> None:
    frames = frames_of(replace(deployment, model_type=model_type), tail_wav, ffmpeg)

    # Exactly ceil(2.3 s x 25) frames, each a new frame of its call, calls in order, none twice.
    assert frames.shape == (58, 512, 512, 3) and frames.dtype == np.uint8
    colours = frames[:, 0, 0, :].astype(int)
    assert [tuple(c[:2]) for c in colours] == [expected_colour(i, new_frames, motion_frames) for i in range(58)]
    assert (frames == frames[:, :1, :1, :]).all()  # flat frames: nothing else got mixed in

    # The tone starts at 1.9 s, inside frame 47, and lasts to the end: exactly frames 47-57 hear
    # it, so each frame is driven by its own audio and the last words are animated by the padded
    # last call. (Whole chunks only, as the original integration cut, stop at frame 48 or 56.)
    loud = colours[:, 2] > 100
    assert loud.tolist() == [i >= 47 for i in range(58)]


def test_the_render_is_an_mp4_of_exactly_the_speech_length(
    deployment: FlashHeadOptions, tail_wav: Path, ffmpeg: str, portrait: Path, tmp_path: Path
) -> None:
    renderer = FlashHeadRenderer(deployment, machine=StandInMachine())
    out = tmp_path / "avatar.mp4"
    progress: list[tuple[int, int]] = []
    stats = renderer.render(portrait, tail_wav, out, ffmpeg, progress=lambda *call: progress.append(call))

    assert (stats.frames, stats.chunks, stats.width, stats.fps) == (58, 3, 512, 25)
    assert stats.duration_s == pytest.approx(SECONDS, abs=1e-4) and stats.model_type == "lite"
    assert progress == [(24, 58), (48, 58), (58, 58)]
    info = probe(out, ffmpeg)
    assert (info.video.width, info.video.height, info.audio.codec) == (512, 512, "aac")
    assert info.duration_s == pytest.approx(SECONDS, abs=0.05)
    decoded = decode_rgb(ffmpeg, out)
    assert len(decoded) == 58
    centre = decoded[:, 256, 256, :].astype(int)  # H.264 keeps flat colours within a few levels
    expected = [expected_colour(i, 24, 9) for i in range(58)]
    assert np.abs(centre[:, :2] - np.array(expected)).max() <= 4
    assert (centre[47:, 2] > 100).all() and (centre[:47, 2] < 20).all()
    # The stand-in got the portrait, seed and face crop of the configuration.
    assert standin_module().LOADS[-1]["model_type"] == "lite"
    assert renderer.load().pipeline.base_data == {"image": str(portrait), "seed": 42, "face_crop": False}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".avatar")]  # no temporary file left


def test_the_pipeline_is_loaded_once_for_many_renders(
    deployment: FlashHeadOptions, tail_wav: Path, ffmpeg: str, portrait: Path, tmp_path: Path
) -> None:
    renderer = FlashHeadRenderer(replace(deployment, seed=7), machine=StandInMachine())
    loads_before = len(renderer.load().inference.LOADS)
    for n in range(3):
        FlashHeadRenderer(replace(deployment, seed=7), machine=StandInMachine()).render(
            portrait, tail_wav, tmp_path / f"{n}.mp4", ffmpeg
        )
    assert len(standin_module().LOADS) == loads_before
    assert renderer.load().pipeline.base_data["seed"] == 7  # per render: seed and face crop are not load settings


def test_another_configuration_replaces_the_loaded_pipeline(deployment: FlashHeadOptions) -> None:
    lite = load_pipeline(deployment, StandInMachine())
    pro = load_pipeline(replace(deployment, model_type="pro"), StandInMachine())
    assert (lite.plan.motion_frames, pro.plan.motion_frames) == (9, 5)
    assert list(loader._loaded.values()) == [pro]


def test_a_frame_size_upstream_does_not_render_is_refused(deployment: FlashHeadOptions) -> None:
    with pytest.raises(DeploymentError, match="renders 512x512 at 25 fps; set AVATAR__SIZE=512"):
        load_pipeline(replace(deployment, size=256), StandInMachine())


def test_upstream_imports_without_changing_the_working_directory(
    deployment: FlashHeadOptions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Upstream opens its parameters relative to the working directory: run plainly, it fails here...
    monkeypatch.chdir(tmp_path)
    source = deployment.vendor_dir / "flash_head" / "inference.py"
    with pytest.raises(FileNotFoundError, match=r"flash_head/configs/infer_params\.yaml"):
        runpy.run_path(str(source))
    # ...through the adapter it imports, and the working directory stays where it was.
    module = import_inference(deployment.vendor_dir)
    assert module.get_infer_params()["frame_num"] == 33
    assert os.getcwd() == str(tmp_path)
    assert import_inference(deployment.vendor_dir) is module


def test_an_empty_speech_file_is_the_rows_problem(deployment: FlashHeadOptions, tmp_path: Path, portrait: Path) -> None:
    wav = write_wav(tmp_path / "empty.wav", np.zeros(0, np.int16), 22050)
    with pytest.raises(PermanentInputError, match="holds no audio"):
        FlashHeadRenderer(deployment, machine=StandInMachine()).render(portrait, wav, tmp_path / "a.mp4", "ffmpeg")


def test_a_model_failure_mid_render_leaves_no_video_and_no_temporary_file(
    deployment: FlashHeadOptions, tail_wav: Path, ffmpeg: str, portrait: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    renderer = FlashHeadRenderer(deployment, machine=StandInMachine())
    inference = renderer.load().inference
    run_pipeline = inference.run_pipeline

    def fails_on_the_third_call(pipeline, embedding):
        if pipeline.calls == 2:
            raise RuntimeError("CUDA out of memory")
        return run_pipeline(pipeline, embedding)

    monkeypatch.setattr(inference, "run_pipeline", fails_on_the_third_call)
    out = tmp_path / "out" / "avatar.mp4"
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        renderer.render(portrait, tail_wav, out, ffmpeg)
    assert list(out.parent.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name == "frame-writer"]


def test_an_encoder_failure_mid_render_is_raised_with_its_message_and_leaves_nothing(
    deployment: FlashHeadOptions, tail_wav: Path, ffmpeg: str, portrait: Path, tmp_path: Path
) -> None:
    # An ffmpeg that resamples the speech as usual but, as the encoder, takes 2 frames and dies.
    failing = tmp_path / "ffmpeg"
    failing.write_text(
        "#!/bin/sh\n"
        'case "$*" in *pipe:0*) head -c 1572864 >/dev/null; echo "No space left on device" >&2; exit 1;; esac\n'
        f'exec "{ffmpeg}" "$@"\n'
    )
    failing.chmod(0o755)
    out = tmp_path / "out" / "avatar.mp4"
    with pytest.raises(RuntimeError, match="No space left on device"):
        FlashHeadRenderer(deployment, machine=StandInMachine()).render(portrait, tail_wav, out, str(failing))
    assert list(out.parent.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name == "frame-writer"]


def decode_rgb(ffmpeg: str, mp4: Path) -> np.ndarray:
    cmd = [ffmpeg, "-v", "error", "-i", str(mp4), "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, 512, 512, 3)
