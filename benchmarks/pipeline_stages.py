"""Wall time per stage for one 30 s English record, as a real-time factor, plus peak memory.

Runs the demo record (a generated background served on 127.0.0.1) through the six assets
in this process, exactly as `talking-head render` does, on a fresh artifact store. In the
same run it times a baseline: a bare libx264 encode of test frames at the output size and
the speech's length (no decoding, no filters), the floor any composite pays.

    .venv/bin/python benchmarks/pipeline_stages.py [--out benchmarks/out/pipeline_stages] [--smoke]

``--smoke`` speaks one short sentence instead of the 30 s script.
"""

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import arguments, write_report

SCRIPT_30S = (
    "Good morning, and thank you for watching. Today we look at three simple habits that make a big "
    "difference at work. First, plan your day the evening before, so the morning starts with a clear goal. "
    "Second, turn off notifications for one focused hour, and protect that hour like a meeting. "
    "Third, take a short walk after lunch: ten minutes of light movement helps you think more clearly "
    "in the afternoon. Try one of these tomorrow, and tell us in the comments how it went."
)
SCRIPT_SMOKE = "Good morning, and thank you for watching."


def main() -> int:
    args = arguments(__doc__, "pipeline_stages").parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=args.out)).resolve()
    os.environ["DAGSTER_HOME"] = str(work / "dagster_home")
    Path(os.environ["DAGSTER_HOME"]).mkdir()
    shutil.copyfile(Path(__file__).resolve().parent.parent / "dagster.yaml", work / "dagster_home" / "dagster.yaml")
    os.environ["TALKING_HEAD_ARTIFACTS__LOCAL_DIR"] = str(work / "artifacts")
    os.environ["TALKING_HEAD_PUBLISH__LOCAL_DIR"] = str(work / "output")

    from talking_head_dagster.demo import make_background, serve_directory
    from talking_head_dagster.manifests import CompositeManifest
    from talking_head_dagster.media.binary import ffmpeg_binary
    from talking_head_dagster.render import render_one
    from talking_head_dagster.settings import Settings
    from talking_head_dagster.speech.timing import SpeechManifest

    ffmpeg = ffmpeg_binary()
    make_background(work / "media" / "background.mp4", ffmpeg)
    settings = Settings()
    started = time.perf_counter()
    with serve_directory(work / "media") as base_url:
        settings.download.allowed_hosts = [base_url.split("://")[1]]  # the benchmark's own loopback server
        outcome = render_one(
            url=f"{base_url}/background.mp4", text=SCRIPT_SMOKE if args.smoke else SCRIPT_30S, settings=settings
        )
    total = time.perf_counter() - started

    artifacts = work / "artifacts" / outcome.key
    speech = SpeechManifest.model_validate_json((artifacts / "tts_audio" / "manifest.json").read_text())
    composite = CompositeManifest.model_validate_json((artifacts / "composite" / "manifest.json").read_text())
    duration = speech.duration_s

    # Baseline in the same run: bare encode of test frames at the output size and length.
    floor_started = time.perf_counter()
    subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={composite.width}x{composite.height}:rate=25:duration={duration:.3f}",
            "-c:v",
            "libx264",
            "-preset",
            settings.composite.encoder_preset,
            "-crf",
            str(settings.composite.crf),
            "-pix_fmt",
            "yuv420p",
            str(work / "floor.mp4"),
        ],
        check=True,
    )
    floor = time.perf_counter() - floor_started

    stages = outcome.stage_seconds
    without_download = total - stages.get("source_video", 0.0)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report = {
        "speech_seconds": round(duration, 2),
        "stage_seconds": stages,
        "stage_real_time_factor": {name: round(sec / duration, 3) for name, sec in stages.items()},
        "total_seconds": round(total, 2),
        "total_real_time_factor": round(total / duration, 3),
        "total_real_time_factor_without_download": round(without_download / duration, 3),
        "baseline_bare_encode_seconds": round(floor, 2),
        "composite_vs_bare_encode": round(stages.get("composite", 0.0) / floor, 2),
        "peak_rss_mib_python": round(peak_self),
        "peak_rss_mib_largest_child": round(peak_children),
        "output": outcome.location,
    }
    write_report(args, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
