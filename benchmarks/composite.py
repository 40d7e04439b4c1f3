"""The composite against its floor, the original system's recipe, and MoviePy, in one run.

For a speech of ``--seconds`` (60 by default, a real Piper voice) and a 1080x1920 output, times:
1. ours: the ``composite`` asset as the pipeline runs it (9:16 picture-in-picture, round mask and
   border, crossfaded background loop, ducked source audio, two loudness passes, subtitles, size cap,
   thumbnail);
2. the floor: a bare libx264 encode of the same number of 1080x1920 test frames, same preset and CRF,
   no decoding and no filters;
3. the original recipe: the background time-stretched to the speech (up to 4x), a 92x92 square avatar
   in a corner, the background's audio dropped, encoded with libx264's defaults, then re-encoded at a
   lower bitrate while the file is over the 30 MiB cap (at most seven encodes);
4. MoviePy 2.2.1 (what MoneyPrinterTurbo composes with): the same layout as ours (background looped,
   covered and cropped, round avatar, speech as audio; no subtitles or ducking), same codec and preset;
5. ours again, and ours with the background stretched as the original does (same content as 3).
Inputs are made first and not timed: the speech, a 512x512 avatar clip of the same length, and a
12 s 720x1280 30 fps source clip with a tone. Wall and CPU seconds (of this process and its children)
are reported, with ours as ratios to each; for ours also the FFmpeg passes' own seconds and the
encode's alone (``ours encode / floor``: the graph against the floor, without the stage's Python
and the in-process Dagster run around it). It also renders a short sample of each layout and saves
their thumbnails, to look at.

    .venv/bin/python benchmarks/composite.py [--seconds 60] [--out benchmarks/out/composite] [--skip-moviepy]
        [--grain 25]   # camera-like grain on the source (and the floor's frames): content that costs bits
        [--smoke]      # about 1 s of speech on a 4 s source, and one layout sample
"""

import math
import os
import resource
import shutil
import subprocess
import sys
import time
import wave
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from harness import arguments, write_report

PARAGRAPH = (
    "Good morning, and thank you for watching. Today we look at three simple habits that make a big "
    "difference at work. First, plan your day the evening before, so the morning starts with a clear goal. "
    "Second, turn off notifications for one focused hour, and protect that hour like a meeting. "
    "Third, take a short walk after lunch: ten minutes of light movement helps you think more clearly. "
)
CAP = 30 * 1024 * 1024
KEY = "local-benchmark"


def main() -> int:
    parser = arguments(__doc__, "composite")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument(
        "--grain", type=int, default=0, help="film grain on the source (0-40): camera-like detail that costs bits"
    )
    args = parser.parse_args()
    if args.smoke:
        args.seconds = 1.0
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    from talking_head_dagster.media.binary import ffmpeg_binary
    from talking_head_dagster.media.style import CompositeStyle

    ffmpeg = ffmpeg_binary()
    inputs = make_inputs(out / "inputs", ffmpeg, args.seconds, args.grain, source_s=4.0 if args.smoke else 12.0)
    duration = inputs["duration"]
    frames = math.ceil(duration * 25)
    print(f"speech {duration:.2f} s, {frames} frames, load average {os.getloadavg()[0]:.1f}", flush=True)

    results: dict[str, dict[str, float]] = {}
    style = CompositeStyle()
    results["ours"] = timed(lambda: run_ours(out / "ours", inputs, style))
    results["floor"] = timed(lambda: run_floor(out / "floor.mp4", ffmpeg, frames, style, args.grain))
    results["original"] = timed(lambda: run_original(out / "original", ffmpeg, inputs))
    if not args.skip_moviepy:
        results["moviepy"] = timed(lambda: run_moviepy(out / "moviepy.mp4", inputs, style))
    results["ours (again)"] = timed(lambda: run_ours(out / "ours2", inputs, style))
    # The original's speed comes from its content: a 4.9x slow-motion background is mostly repeated
    # frames, which x264 encodes almost for free. Ours on that same content separates graph from content.
    stretched = style.model_copy(update={"background_timing": "stretch", "max_stretch": 4.0})
    results["ours, stretched like the original"] = timed(lambda: run_ours(out / "ours3", inputs, stretched))

    ours = min(results["ours"]["wall_s"], results["ours (again)"]["wall_s"])
    ours_stretched = results["ours, stretched like the original"]["wall_s"]
    report = {"speech_s": round(duration, 2), "grain": args.grain, "runs": results}
    report["ratios"] = {
        f"ours / {name}": round(ours / result["wall_s"], 3)
        for name, result in results.items()
        if not name.startswith("ours")
    }
    report["ratios"]["ours stretched / original"] = round(ours_stretched / results["original"]["wall_s"], 3)
    # The graph and its encode alone (no Python, no Dagster run around them) against the floor.
    encode = min(results["ours"]["encode_wall_s"], results["ours (again)"]["encode_wall_s"])
    report["ratios"]["ours encode / floor"] = round(encode / results["floor"]["wall_s"], 3)
    sizes = {"ours": (out / "ours" / KEY / "composite" / "composite.mp4").stat().st_size}
    sizes["original"] = max(p.stat().st_size for p in (out / "original").glob("encode-*.mp4"))
    report["bytes"] = sizes
    write_report(args, report)
    layout_thumbnails(out / "layouts", inputs, samples=1 if args.smoke else None)
    return 0


def timed(work) -> dict[str, float]:
    """Wall and CPU seconds (this process and its children) of ``work()``, plus what it returns."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    extra = work() or {}
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True))
    result = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), **extra}
    print(f"  {result}", flush=True)
    return result


def make_inputs(folder: Path, ffmpeg: str, seconds: float, grain: int = 0, source_s: float = 12.0) -> dict:
    """Speech of about ``seconds`` (the paragraph, repeated or cut), an avatar clip, a source clip with a tone."""
    from talking_head_dagster.resources.speech import PiperSpeech

    folder.mkdir(parents=True)
    text = PARAGRAPH * max(1, math.ceil(seconds / 22)) if seconds >= 5 else "Good morning."
    result = PiperSpeech().synthesize(text, folder / "speech.wav")
    sentences = [s for s in result.sentences if s.end_s <= seconds + 0.01] or result.sentences
    duration = min(result.duration_s, max(s.end_s for s in sentences))
    with wave.open(str(folder / "speech.wav")) as wf:
        rate, data = wf.getframerate(), np.frombuffer(wf.readframes(wf.getnframes()), "<i2")
    with wave.open(str(folder / "speech.wav"), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(data[: round(duration * rate)].tobytes())
    ff = [ffmpeg, "-v", "error", "-y"]
    subprocess.run(
        [
            *ff,
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=512x512:rate=25:duration={duration + 0.1:.2f}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(folder / "avatar.mp4"),
        ],
        check=True,
    )
    subprocess.run(
        [
            *ff,
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=720x1280:rate=30:duration={source_s:g}" + (f",noise=alls={grain}:allf=t" if grain else ""),
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=330:duration={source_s:g}",
            "-c:a",
            "aac",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            str(folder / "source.mp4"),
        ],
        check=True,
    )
    return {
        "speech": folder / "speech.wav",
        "duration": duration,
        "sentences": sentences,
        "avatar": folder / "avatar.mp4",
        "source": folder / "source.mp4",
        "source_s": source_s,
    }


def run_ours(folder: Path, inputs: dict, style) -> dict:
    """The composite asset, materialised alone on prepared upstream artifacts."""
    from tests.support.composite_stage import Upstream, materialize_composite

    upstream = Upstream(
        background=inputs["source"],
        speech=inputs["speech"],
        avatar=inputs["avatar"],
        script=PARAGRAPH,
        sentences=inputs["sentences"],
        duration_s=inputs["duration"],
    )
    with ffmpeg_passes() as passes:
        _, result = materialize_composite(folder, KEY, upstream, style)
    if not result.success:
        raise RuntimeError(f"the composite failed in {folder}")
    metadata = result.asset_materializations_for_node("composite")[0].metadata
    return {"loudness_lufs": metadata["loudness_lufs"].value, "bytes": metadata["bytes"].value, **passes}


@contextmanager
def ffmpeg_passes():
    """The FFmpeg passes' own wall and CPU seconds (the encode's alone too), apart from the stage's Python and
    the in-process Dagster run around it."""
    from talking_head_dagster.resources.ffmpeg import FFmpegResource

    original, totals = FFmpegResource.run, {"ffmpeg_wall_s": 0.0, "ffmpeg_cpu_s": 0.0, "encode_wall_s": 0.0}

    def run(self, args, cwd=None, log_level="error"):
        before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        try:
            return original(self, args, cwd, log_level)
        finally:
            after, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - started
            totals["ffmpeg_wall_s"] += wall
            totals["ffmpeg_cpu_s"] += after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            if cwd is not None:  # the composite's one encode runs in its work folder
                totals["encode_wall_s"] += wall

    FFmpegResource.run = run
    try:
        yield totals
    finally:
        FFmpegResource.run = original
        for key, value in totals.items():
            totals[key] = round(value, 2)


def run_floor(path: Path, ffmpeg: str, frames: int, style, grain: int = 0) -> None:
    """Test frames at the output size (with the source's grain, if any) straight into libx264."""
    pattern = "testsrc2=size=1080x1920:rate=25" + (f",noise=alls={grain}:allf=t" if grain else "") + ",format=yuv420p"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            pattern,
            "-frames:v",
            str(frames),
            "-c:v",
            "libx264",
            "-preset",
            style.encoder_preset,
            "-crf",
            str(style.crf),
            str(path),
        ],
        check=True,
    )


def run_original(folder: Path, ffmpeg: str, inputs: dict) -> dict:
    """The original system's recipe, as its issue describes it, with libx264's default preset and CRF."""
    folder.mkdir()
    duration = inputs["duration"]
    stretch = min(4.0, duration / inputs["source_s"])
    graph = (
        f"[0:v]setpts={stretch:.4f}*PTS,scale=1080:1920,setsar=1[bg];"
        "[1:v]scale=92:92[av];[bg][av]overlay=x=W-w-20:y=H-h-20:eof_action=repeat[v]"
    )
    first = folder / "encode-1.mp4"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "-1",
            "-i",
            str(inputs["source"]),
            "-i",
            str(inputs["avatar"]),
            "-i",
            str(inputs["speech"]),
            "-filter_complex",
            graph,
            "-map",
            "[v]",
            "-map",
            "2:a",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "-t",
            f"{duration:.3f}",
            str(first),
        ],
        check=True,
    )
    encodes, current = 1, first
    while current.stat().st_size > CAP and encodes < 7:
        encodes += 1
        kbps = int(CAP * 8 / 1000 / duration * 0.8 ** (encodes - 1))
        following = folder / f"encode-{encodes}.mp4"
        subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-i",
                str(current),
                "-c:v",
                "libx264",
                "-b:v",
                f"{kbps}k",
                "-c:a",
                "copy",
                str(following),
            ],
            check=True,
        )
        current = following
    return {"encodes": encodes}


def run_moviepy(path: Path, inputs: dict, style) -> None:
    """Our default layout made with MoviePy's compositing."""
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, VideoFileClip, vfx

    from talking_head_dagster.media.layout import frame_layout
    from talking_head_dagster.media.masks import shape_alpha

    layout = frame_layout(style)
    duration = inputs["duration"]
    box = layout.avatar
    background = VideoFileClip(str(inputs["source"]), audio=False).with_effects([vfx.Loop(duration=duration)])
    background = background.resized(height=layout.height).cropped(
        x_center=background.w * layout.height / background.h / 2, width=layout.width, height=layout.height
    )
    mask = ImageClip(shape_alpha(box.width, box.height, "circle") / 255.0, is_mask=True).with_duration(duration)
    avatar = (
        VideoFileClip(str(inputs["avatar"]), audio=False)
        .resized((box.width, box.height))
        .with_mask(mask)
        .with_position((box.x, box.y))
    )
    video = CompositeVideoClip([background, avatar], size=(layout.width, layout.height)).with_duration(duration)
    video = video.with_audio(AudioFileClip(str(inputs["speech"])))
    video.write_videofile(
        str(path),
        fps=style.fps,
        codec="libx264",
        preset=style.encoder_preset,
        audio_codec="aac",
        threads=2,
        ffmpeg_params=["-crf", str(style.crf), "-pix_fmt", "yuv420p"],
        logger=None,
    )


def layout_thumbnails(folder: Path, inputs: dict, samples: int | None = None) -> None:
    """A 6 s sample of each layout (or of the first ``samples``), for its thumbnail (not timed)."""
    from talking_head_dagster.media.style import CompositeStyle

    short = dict(inputs, sentences=[s for s in inputs["sentences"] if s.end_s <= 6.0])
    short["duration"] = max(s.end_s for s in short["sentences"])
    layouts = {
        "pip-circle-9x16": CompositeStyle(),
        "pip-rounded-16x9": CompositeStyle(aspect="16:9", avatar_shape="rounded", avatar_size=0.5),
        "pip-top-left-1x1-blur": CompositeStyle(aspect="1:1", avatar_corner="top-left", background_fit="blur"),
        "split-9x16": CompositeStyle(layout="split"),
        "full-9x16-blur": CompositeStyle(layout="full", background_fit="blur"),
    }
    for name, style in list(layouts.items())[:samples]:
        run_ours(folder / name, short, style)
        thumbnail = folder / name / KEY / "composite" / "thumbnail.png"
        shutil.copyfile(thumbnail, folder / f"{name}.png")
        print(f"thumbnail {folder / f'{name}.png'}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
