"""Benchmark the flashhead backend through the project's adapter: load once, render ~30 s of speech.

Run on a CUDA machine with the pinned checkout in ``vendor/SoulX-FlashHead``::

    python benchmarks/flashhead.py --model lite                       # random weights, built once
    python benchmarks/flashhead.py --model pro --weights models/SoulX-FlashHead-1_3B \\
        --wav2vec models/wav2vec2-base-960h                           # the real weights

It renders the same Piper speech ``--renders`` times (2 by default) with one ``FlashHeadRenderer``,
exactly as the ``avatar_video`` asset does (preflight, import, ``get_pipeline`` once, then per
render ``get_base_data`` and the chunk loop into FFmpeg), and reports:

- the GPU, the attention kernel, and the pipeline load time (upstream ``torch.compile``s lazily, so
  compilation lands in the first render's first chunks: that render is the warm-up);
- per render: time to the first chunk's frames, frames per second over the chunks after the first
  ``--warmup-chunks`` (steady state) and over the whole render;
- peak GPU memory (PyTorch's allocator, and reserved);
- exactness: frames in the MP4 == ``ceil(duration * 25)`` and no speech sample left un-animated;
- how many times the pipeline was loaded for all renders (the target is once per process).

With ``--server`` the renders go through an avatar server on 127.0.0.1 (``talking-head
avatar-server``), started and warmed up (1 s of silence, which compiles the model) first, as a
GPU deployment with ``AVATAR__FLASHHEAD__SERVER_URL`` renders.

Random weights (the default) are the published architectures with random values
(``flashhead_weights.py``): the compute is the real model's, the frames are noise. ``--device cpu``
runs the real upstream code on the CPU (``flashhead_cpu.py``) to check the code path on a machine
without CUDA; with ``--layers`` the DiT is cut down too. Its figures say nothing about GPU speed.
``--device standin`` runs the adapter on the tests' stand-in checkout (``tests/avatar/flashhead_standin``,
numpy, no PyTorch): only the adapter's code path. ``--smoke``: 2 s of speech, two renders through a
warmed-up avatar server, on the stand-in unless ``--device`` is given (``--device cpu`` then cuts the
DiT to one layer). Writes ``--out`` (``benchmarks/out/flashhead/``): ``flashhead-<model>-<device>.json``
and the last render's MP4; random weights are kept in ``benchmarks/out/flashhead-weights/``.
"""

import argparse
import json
import math
import resource
import sys
import tempfile
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import imageio_ffmpeg
from harness import OUT, REPO, arguments, write_report
from lite_avatar import SMOKE_TEXT, TEXT, default_portrait, first_seconds, speech_wav

from talking_head_dagster.avatar.flashhead import weights as weight_files
from talking_head_dagster.avatar.flashhead.audio import load_speech
from talking_head_dagster.avatar.flashhead.options import FlashHeadOptions
from talking_head_dagster.avatar.flashhead.renderer import FlashHeadRenderer
from talking_head_dagster.media.probe import count_video_frames


def main() -> None:
    args = _arguments()
    args.out.mkdir(parents=True, exist_ok=True)
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    options, machine = _deployment(args)
    renderer = FlashHeadRenderer(options, machine)
    speech = _speech(args, ffmpeg)
    report = {"model": args.model, "device": args.device, "layers": args.layers, "speech": str(speech)}

    # Load (preflight, import, get_pipeline): once for the process.
    started = time.perf_counter()
    loaded = renderer.load()
    report |= {"load_s": round(time.perf_counter() - started, 2), "attention": loaded.attention}
    report |= _device_facts(args.device)
    print(f"loaded {args.model} in {report['load_s']} s on {report['gpu']} (attention: {loaded.attention})")
    render = renderer.render
    if args.server:
        render, report["server_start_s"] = _through_server(renderer, Path(args.portrait), ffmpeg)

    renders = []
    pipelines = {id(loaded)}  # the loaded pipeline each render used: one for the process is the target
    for index in range(args.renders):
        _reset_peak_memory(args.device)
        out_mp4 = args.out / f"flashhead-{args.model}-{args.device}.mp4"
        renders.append(_render(render, Path(args.portrait), speech, out_mp4, ffmpeg, args.warmup_chunks))
        renders[-1] |= _peak_memory(args.device)
        pipelines.add(id(renderer.load()))
        print(f"render {index + 1}: {json.dumps(renders[-1])}")
    report["renders"] = renders
    report["pipeline_loads"] = len(pipelines)

    # Exactness on the last render's MP4.
    stats = renders[-1]
    frames_in_mp4 = count_video_frames(args.out / f"flashhead-{args.model}-{args.device}.mp4", ffmpeg)
    audio = load_speech(ffmpeg, speech, loaded.plan.sample_rate)
    animated = loaded.plan.chunks_for(stats["frames"]) * loaded.plan.chunk_samples
    report["exactness"] = {
        "frames_expected": math.ceil(stats["duration_s"] * loaded.plan.fps - 1e-9),
        "frames_rendered": stats["frames"],
        "frames_in_mp4": frames_in_mp4,
        "speech_samples": len(audio),
        "speech_samples_not_animated": max(0, len(audio) - animated),
    }
    write_report(args, report, f"flashhead-{args.model}-{args.device}.json")


def _render(render, portrait: Path, speech: Path, out_mp4: Path, ffmpeg: str, warmup: int) -> dict:
    """One render, with the time at which each chunk's frames were handed to the encoder."""
    marks: list[tuple[float, int]] = []
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        marks.append((time.perf_counter(), done))

    stats = render(portrait, speech, out_mp4, ffmpeg, progress=progress)
    finished = time.perf_counter()
    first_chunk_s = marks[0][0] - started
    steady = marks[warmup:] if len(marks) > warmup + 1 else marks
    steady_fps = (steady[-1][1] - steady[0][1]) / (steady[-1][0] - steady[0][0]) if len(steady) > 1 else float("nan")
    result = asdict(stats) | {
        "wall_s": round(finished - started, 3),
        "first_chunk_s": round(first_chunk_s, 3),
        "fps_overall": round(stats.frames / (finished - started), 2),
        "fps_steady": round(steady_fps, 2),
        "steady_chunks": max(0, len(steady) - 1),
        "realtime_factor": round(stats.duration_s / (finished - started), 3),
    }
    result["render_seconds"] = round(result["render_seconds"], 3)
    return result


def serve_loaded(renderer: FlashHeadRenderer, portrait: Path, ffmpeg: str):
    """An avatar server on 127.0.0.1 holding ``renderer``, loaded and warmed up, serving from a thread."""
    from talking_head_dagster.avatar.flashhead.server import AvatarServer

    server = AvatarServer(("127.0.0.1", 0), renderer, ffmpeg)
    server.load(warmup_portrait=portrait)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _through_server(renderer: FlashHeadRenderer, portrait: Path, ffmpeg: str):
    """An avatar server holding ``renderer`` (``serve_loaded``); a render function that goes through it."""
    from talking_head_dagster.resources.avatar_server import AvatarServerClient

    started = time.perf_counter()
    server = serve_loaded(renderer, portrait, ffmpeg)
    client = AvatarServerClient(server.url)
    start_s = round(time.perf_counter() - started, 2)
    print(f"avatar server at {server.url}, warmed up in {start_s} s")

    def render(portrait, speech, out_mp4, ffmpeg, progress=None):
        return client.render(portrait, speech, out_mp4, progress=progress)

    return render, start_s


def _speech(args: argparse.Namespace, ffmpeg: str) -> Path:
    """The WAV to speak: ``--speech`` or the Piper speech, cut to its first ``--seconds`` if given."""
    speech = Path(args.speech) if args.speech else speech_wav(args.out, SMOKE_TEXT if args.smoke else TEXT)
    return speech if args.seconds is None else first_seconds(ffmpeg, speech, args.seconds)


def _deployment(args: argparse.Namespace) -> tuple[FlashHeadOptions, object]:
    """The checkout, weights and Machine to render with: the stand-in's, or the named ones with ``_weights``."""
    if args.device == "standin":
        from tests.avatar.flashhead.conftest import StandInMachine, standin_deployment

        options = standin_deployment(Path(tempfile.mkdtemp(prefix="flashhead-standin-", dir=args.out)))
        return replace(options, model_type=args.model, seed=42), StandInMachine()
    machine = _prepare_device(args)
    ckpt_dir, wav2vec_dir = _weights(args)
    options = FlashHeadOptions(
        vendor_dir=args.vendor, ckpt_dir=ckpt_dir, wav2vec_dir=wav2vec_dir, model_type=args.model, seed=42
    )
    return options, machine


def _prepare_device(args: argparse.Namespace):
    """The Machine for the preflight: this one on CUDA; on the CPU, upstream patched to run there."""
    if args.device == "cuda":
        sys.path.insert(0, str(args.vendor.resolve()))
        return None
    from flashhead_cpu import CpuMachine, use_cpu

    use_cpu(args.vendor)
    return CpuMachine()


def _weights(args: argparse.Namespace) -> tuple[Path, Path]:
    """The real weights the user named, or random ones built (once) under ``benchmarks/out``."""
    if args.weights != "random":
        return Path(args.weights), Path(args.wav2vec)
    from flashhead_weights import build_random_weights

    name = f"ckpt-{args.model}" + (f"-{args.layers}layers" if args.layers else "")
    ckpt_dir, wav2vec_dir = OUT / "flashhead-weights" / name, OUT / "flashhead-weights" / "wav2vec2"
    started = time.perf_counter()
    build_random_weights(args.model, ckpt_dir, wav2vec_dir, layers=args.layers)
    print(f"random weights ready in {time.perf_counter() - started:.1f} s: {ckpt_dir}")
    if args.layers:
        # A cut-down DiT is smaller than the published file the preflight expects.
        weight_files.INCOMPLETE_BELOW = 0.0
    return ckpt_dir, wav2vec_dir


def _device_facts(device: str) -> dict:
    if device == "standin":
        return {"gpu": "none (the tests' stand-in checkout: a code-path check of the adapter)"}
    import torch

    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        return {
            "gpu": torch.cuda.get_device_name(0),
            "gpu_memory_gib": round(props.total_memory / 2**30, 1),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
        }
    return {"gpu": "none (CPU code-path check)", "torch": torch.__version__, "cpu_threads": torch.get_num_threads()}


def _reset_peak_memory(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()


def _peak_memory(device: str) -> dict:
    if device == "cuda":
        import torch

        return {
            "peak_gpu_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "peak_gpu_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2),
        }
    return {"peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}


def _arguments() -> argparse.Namespace:
    parser = arguments(__doc__, "flashhead")
    parser.add_argument("--model", choices=["lite", "pro"], default="lite")
    parser.add_argument("--device", choices=["cuda", "cpu", "standin"], default=None, help="default: cuda")
    parser.add_argument("--renders", type=int, default=2, help="renders with one loaded pipeline (default 2)")
    parser.add_argument("--warmup-chunks", type=int, default=3, help="chunks left out of the steady fps (default 3)")
    parser.add_argument("--weights", default="random", help="'random' (default) or the checkpoint folder")
    parser.add_argument("--wav2vec", default=str(REPO / "models" / "wav2vec2-base-960h"))
    parser.add_argument("--vendor", type=Path, default=REPO / "vendor" / "SoulX-FlashHead")
    parser.add_argument("--layers", type=int, default=None, help="cut the DiT to N layers (CPU checks only)")
    parser.add_argument("--speech", default=None, help="a WAV to speak (default: ~30 s of Piper speech)")
    parser.add_argument("--seconds", type=float, default=None, help="speak only the first N seconds of it")
    parser.add_argument("--portrait", default=str(default_portrait()))
    parser.add_argument(
        "--server", action="store_true", help="render through an avatar server (warmed up first), as runs do with one"
    )
    args = parser.parse_args()
    if args.smoke:
        args.device, args.server, args.seconds = args.device or "standin", True, 2.0
        args.layers = args.layers or (1 if args.device == "cpu" else None)
    args.device = args.device or "cuda"
    return args


if __name__ == "__main__":
    main()
