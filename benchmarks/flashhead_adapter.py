"""What the flashhead adapter costs on top of the model: its frame rate against the model's, per model speed.

Run: ``python benchmarks/flashhead_adapter.py [--seconds 30] [--model-fps 96 11] [--smoke]``. No GPU needed.

The model is emulated on the tests' stand-in checkout (``tests/avatar/flashhead_standin``): each
``run_pipeline`` call waits ``new_frames / model_fps`` seconds outside the GIL, as a CUDA
synchronisation does, and returns real talking-head frames (rendered once by the lite backend
from a photo and Piper speech), so the encoder has the work of a real face, not of flat colours.
Everything else is the adapter as it runs in production: preflight, the chunk loop, the audio
window and embedding calls, the uint8 conversion, FFmpeg (libx264, AAC) and the atomic publish.

For each model speed, in the same run, as ratios to the model's frame rate:
- ``encode in the render thread``: the chunk loop writing each frame into FFmpeg itself (the
  adapter before the encoder queue): the model waits while FFmpeg takes every chunk;
- ``adapter`` (``FlashHeadRenderer.render``): frames handed to FFmpeg through ``queued_sink``;
- ``avatar server``: the same render sent by a run to ``talking-head avatar-server`` over HTTP on
  127.0.0.1 (speech and portrait up, the MP4 back, base64 in JSON);
and once, the encoder alone: FFmpeg encoding the same frames with nothing else running (its ceiling).
``--smoke``: one short sentence (about 2 s), one model speed, once. The report goes to ``--out``
(``benchmarks/out/flashhead_adapter/``).
"""

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from harness import arguments, write_report
from lite_avatar import SMOKE_TEXT, TEXT, default_portrait, first_seconds, speech_wav

from talking_head_dagster.avatar.encode import avatar_mp4
from talking_head_dagster.avatar.flashhead.audio import load_speech, speech_frames
from talking_head_dagster.avatar.flashhead.renderer import FlashHeadRenderer
from talking_head_dagster.avatar.flashhead.server import AvatarServer
from talking_head_dagster.avatar.flashhead.stream import stream_frames
from talking_head_dagster.avatar.lipsync_score import decode_rgb
from talking_head_dagster.avatar.lite import LiteRenderer
from talking_head_dagster.resources.avatar_server import AvatarServerClient
from tests.avatar.flashhead.conftest import StandInMachine, standin_deployment

SIZE = 512


def main() -> None:
    args = _arguments()
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    portrait = default_portrait()
    spoken = speech_wav(args.out, SMOKE_TEXT if args.smoke else TEXT)
    speech = first_seconds(ffmpeg, spoken, args.seconds)
    faces = _face_frames(ffmpeg, portrait, first_seconds(ffmpeg, spoken, 4.0))
    results: dict = {"seconds": args.seconds, "face_frames": len(faces), "runs": []}
    with tempfile.TemporaryDirectory() as scratch:
        options = standin_deployment(Path(scratch))
        renderer = FlashHeadRenderer(options, StandInMachine())
        loaded = renderer.load()
        server = AvatarServer(("127.0.0.1", 0), renderer, ffmpeg)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        client = AvatarServerClient(server.url)
        _emulate_model(loaded.inference, faces, loaded.plan.new_frames)
        frames, _ = speech_frames(speech, loaded.plan.fps)
        encoder_alone = _encoder_alone(ffmpeg, faces, frames, speech, Path(scratch))
        results["encoder_alone_fps"] = round(encoder_alone, 1)
        print(f"encoder alone: {encoder_alone:.1f} fps ({frames} frames of {SIZE}x{SIZE})")
        for model_fps in args.model_fps:
            loaded.inference.MODEL_FPS = model_fps
            for _ in range(args.repeat):
                in_thread = _render_writing_in_thread(loaded, speech, Path(scratch) / "sync.mp4", ffmpeg)
                started = time.perf_counter()
                stats = renderer.render(portrait, speech, Path(scratch) / "adapter.mp4", ffmpeg)
                adapter = stats.frames / (time.perf_counter() - started)
                started = time.perf_counter()
                stats = client.render(portrait, speech, Path(scratch) / "server.mp4")
                via_server = stats.frames / (time.perf_counter() - started)
                run = {
                    "model_fps": model_fps,
                    "encode_in_render_thread_fps": round(in_thread, 1),
                    "adapter_fps": round(adapter, 1),
                    "server_fps": round(via_server, 1),
                    "encode_in_render_thread_ratio": round(in_thread / model_fps, 3),
                    "adapter_ratio": round(adapter / model_fps, 3),
                    "server_ratio": round(via_server / model_fps, 3),
                }
                results["runs"].append(run)
                print(json.dumps(run))
        server.shutdown()
        server.server_close()
    write_report(args, results)


def _emulate_model(inference, faces: np.ndarray, new_frames: int) -> None:
    """The stand-in's run_pipeline, made to take a model's time and return real face frames."""
    run_pipeline = inference.run_pipeline
    inference.MODEL_FPS = 96.0
    position = 0

    def timed_run_pipeline(pipeline, embedding):
        nonlocal position
        started = time.perf_counter()
        run_pipeline(pipeline, embedding)  # the stand-in's own checks
        count = len(embedding[0])
        chunk = faces[np.arange(position, position + count) % len(faces)]
        position += new_frames
        time.sleep(max(0.0, new_frames / inference.MODEL_FPS - (time.perf_counter() - started)))
        return chunk

    inference.run_pipeline = timed_run_pipeline


def _render_writing_in_thread(loaded, speech: Path, out: Path, ffmpeg: str) -> float:
    """The chunk loop with each frame written into FFmpeg by the rendering thread; frames per second."""
    started = time.perf_counter()
    loaded.inference.get_base_data(loaded.pipeline, "portrait.png", 42, False)
    frames, _ = speech_frames(speech, loaded.plan.fps)
    audio = load_speech(ffmpeg, speech, loaded.plan.sample_rate)
    with avatar_mp4(ffmpeg, out, speech, pix_fmt="rgb24", size=SIZE, fps=loaded.plan.fps) as write:
        for frame in stream_frames(loaded.inference, loaded.pipeline, loaded.plan, audio, frames):
            write(frame)
    return frames / (time.perf_counter() - started)


def _encoder_alone(ffmpeg: str, faces: np.ndarray, frames: int, speech: Path, scratch: Path) -> float:
    """FFmpeg encoding ``frames`` face frames, nothing else running; frames per second."""
    chunk = faces[np.arange(frames) % len(faces)]
    started = time.perf_counter()
    with avatar_mp4(ffmpeg, scratch / "alone.mp4", speech, pix_fmt="rgb24", size=SIZE, fps=25) as write:
        for frame in chunk:
            write(frame)
    return frames / (time.perf_counter() - started)


def _face_frames(ffmpeg: str, portrait: Path, speech: Path) -> np.ndarray:
    """The lite backend's talking head speaking ``speech`` (4 s: 100 frames), as RGB arrays (cached beside it)."""
    mp4 = speech.with_name(f"{speech.stem}-faces.mp4")
    if not mp4.exists():
        LiteRenderer(size=SIZE).render(portrait, speech, mp4, ffmpeg)
    return decode_rgb(ffmpeg, mp4, SIZE, SIZE)


def _arguments() -> argparse.Namespace:
    parser = arguments(__doc__, "flashhead_adapter")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--model-fps", type=float, nargs="+", default=[96.0, 11.0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.model_fps, args.repeat = 2.0, [96.0], 1
    return args


if __name__ == "__main__":
    main()
