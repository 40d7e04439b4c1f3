"""The Douyin resolver's time on the loopback stand-in for Douyin (not live Douyin), against a direct fetch.

Starts the stand-in from tests/support/douyin_standin.py with a source clip and times, through the
real ``VideoDownloader``: (a) a Douyin share link resolved by our resolver (short link, share page,
play address, file); (b) the baseline, the same MP4 fetched directly by the same guarded HTTP code;
(c) the same MP4 through yt-dlp (what a direct-link row costs); (d) a photo post of three images
made into a slideshow, against a bare encode of the same length and size (the encoder's floor).
Writes a frame of the slideshow and a strip of one frame per image as PNGs beside the report.

    .venv/bin/python benchmarks/douyin_resolver.py [--seconds 10] [--size 1080x1920] [--repeat 5] [--smoke]

``--smoke``: a 2-second 360x640 clip, one repetition, one-second images.
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import arguments, write_report

from talking_head_dagster.media.binary import ffmpeg_binary
from talking_head_dagster.resources.douyin import Limits
from talking_head_dagster.resources.downloader import VideoDownloader
from talking_head_dagster.resources.egress import EgressPolicy
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.resources.guarded_http import GuardedHttp
from talking_head_dagster.sources.douyin.urls import MOBILE_USER_AGENT
from talking_head_dagster.sources.links import source_link
from tests.conftest import make_clip
from tests.support.douyin_standin import IMAGE_COUNT, NOTE_ID, VIDEO_ID, serve_douyin_standin, standin_media


def _median_seconds(repeat: int, work) -> float:
    times = []
    for n in range(repeat):
        started = time.perf_counter()
        work(n)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = arguments(__doc__, "douyin_resolver")
    parser.add_argument("--seconds", type=float, default=10.0, help="source clip length")
    parser.add_argument("--size", default="1080x1920", help="source clip size")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--image-seconds", type=float, default=3.0, help="slideshow: seconds per image")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.size, args.repeat, args.image_seconds = 2.0, "360x640", 1, 1.0
    ffmpeg = ffmpeg_binary()
    with tempfile.TemporaryDirectory(prefix="douyin-bench-") as scratch:
        work = Path(scratch)
        clip = make_clip(work / "source.mp4", ffmpeg, seconds=args.seconds, size=args.size)
        media = standin_media(work, ffmpeg, clip, make_clip)
        with serve_douyin_standin(media) as standin:
            downloader = VideoDownloader(
                **standin.downloader_options(), slideshow_seconds_per_image=args.image_seconds, timeout_s=120
            )
            link = source_link(standin.share_text(VIDEO_ID))

            def folder(name: str, n: int) -> Path:
                path = work / f"{name}{n}"
                path.mkdir()
                return path

            # (a) The resolver, from the share text's link to the file.
            resolver_s = _median_seconds(args.repeat, lambda n: downloader.fetch(link, folder("resolved", n)))
            # (b) The same MP4, directly, by the same guarded HTTP code.
            limits = Limits(EgressPolicy([standin.host]), 5, downloader.max_bytes, 120.0)

            def direct(n: int) -> None:
                with limits.policy.guard(limits.timeout_s):
                    http = GuardedHttp(
                        limits.policy,
                        max_redirects=5,
                        max_bytes=limits.max_bytes,
                        timeout_s=120,
                        user_agent=MOBILE_USER_AGENT,
                    )
                    http.download(f"{standin.base_url}/media/clip.mp4", folder("direct", n) / "source.mp4")

            direct_s = _median_seconds(args.repeat, direct)
            # (c) The same MP4 through yt-dlp, as a direct-link row is fetched (the stand-in's host is
            # a Douyin host to the downloader, so its yt-dlp path is called by name).
            ytdlp_s = _median_seconds(
                args.repeat, lambda n: downloader.download(f"{standin.base_url}/media/clip.mp4", folder("ytdlp", n))
            )
            # (d) A photo post as a slideshow, and the bare encode of the same length.
            started = time.perf_counter()
            slideshow = downloader.fetch(standin.short_link(NOTE_ID), folder("slideshow", 0))
            slideshow_s = time.perf_counter() - started
        ffmpeg_run = FFmpegResource(binary=ffmpeg)
        info = ffmpeg_run.probe(slideshow.path)
        started = time.perf_counter()
        pattern = f"testsrc2=size=1080x1920:rate=25:duration={info.duration_s:.3f}"
        encode = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
        ffmpeg_run.run(["-y", "-f", "lavfi", "-i", pattern, *encode, str(work / "floor.mp4")])
        floor_s = time.perf_counter() - started
        # Pictures to look at: the middle of the first image's zoom, and one frame per image side by side.
        args.out.mkdir(parents=True, exist_ok=True)
        thumbnail, strip = args.out / "slideshow_thumbnail.png", args.out / "slideshow_strip.png"
        step = args.image_seconds - 0.5
        middle = args.image_seconds / 2
        ffmpeg_run.run(["-y", "-ss", f"{middle:.2f}", "-i", str(slideshow.path), "-frames:v", "1", str(thumbnail)])
        picks = "+".join(f"eq(n\\,{round((middle + i * step) * 25)})" for i in range(IMAGE_COUNT))
        tiles = f"select='{picks}',scale=360:640,tile={IMAGE_COUNT}x1"
        ffmpeg_run.run(
            ["-y", "-i", str(slideshow.path), "-vf", tiles, "-frames:v", "1", "-fps_mode", "vfr", str(strip)]
        )
        clip_bytes = clip.stat().st_size
    report = {
        "input": {
            "clip_seconds": args.seconds,
            "clip_size": args.size,
            "clip_bytes": clip_bytes,
            "repeat": args.repeat,
        },
        "resolver_s": round(resolver_s, 4),
        "direct_s": round(direct_s, 4),
        "yt_dlp_direct_s": round(ytdlp_s, 4),
        "resolver_over_direct": round(resolver_s / direct_s, 2),
        "resolver_over_yt_dlp": round(resolver_s / ytdlp_s, 2),
        "resolver_overhead_ms": round((resolver_s - direct_s) * 1000, 1),
        "slideshow": {
            "images": IMAGE_COUNT,
            "seconds_per_image": args.image_seconds,
            "video_s": info.duration_s,
            "build_s": round(slideshow_s, 2),
            "realtime_factor": round(slideshow_s / info.duration_s, 2),
            "bare_encode_s": round(floor_s, 2),
            "over_bare_encode": round(slideshow_s / floor_s, 2),
            "kind": slideshow.kind,
        },
        "thumbnail": str(thumbnail),
        "strip": str(strip),
    }
    path = write_report(args, report)
    print(
        f"resolver {resolver_s * 1000:.1f} ms, direct {direct_s * 1000:.1f} ms ({report['resolver_over_direct']}x), "
        f"yt-dlp {ytdlp_s * 1000:.1f} ms; slideshow {slideshow_s:.1f} s for {info.duration_s:.1f} s "
        f"({report['slideshow']['over_bare_encode']}x a bare encode); {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
