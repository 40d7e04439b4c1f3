"""What ``composite`` shows in the Dagster UI: an inline thumbnail and figures with their units."""

import base64
import tempfile
from pathlib import Path

import dagster as dg

from talking_head_dagster.display import mib, seconds
from talking_head_dagster.resources.ffmpeg import FFmpegError, FFmpegResource

# The UI shows a Markdown value inline only under 1,000 characters (longer: "[Show Markdown]").
INLINE_MARKDOWN_CHARS = 1000
# (format, longest side in px, quality), tried in turn until one fits. AVIF (AV1) keeps about twice
# the picture of WebP in ~600 bytes (90x160 against 45x80); WebP is the fallback for an FFmpeg
# without libaom. WebP "quality" runs 0..100 (higher is better), AV1's crf 0..63 (lower is better).
_INLINE_TRIES = [
    ("avif", 192, 52),
    ("avif", 160, 55),
    ("avif", 160, 60),
    ("avif", 128, 60),
    ("avif", 96, 63),
    ("webp", 160, 25),
    ("webp", 128, 30),
    ("webp", 96, 25),
    ("webp", 80, 15),
    ("webp", 64, 10),
]
_ENCODERS = {
    "avif": lambda quality: ["-c:v", "libaom-av1", "-still-picture", "1", "-crf", str(quality), "-cpu-used", "6"],
    "webp": lambda quality: ["-c:v", "libwebp", "-quality", str(quality)],
}


def inline_thumbnail(png: Path, ffmpeg: FFmpegResource, limit: int = INLINE_MARKDOWN_CHARS) -> str | None:
    """The largest small picture of ``png`` whose Markdown fits ``limit`` characters; None if none does."""
    unusable: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="thumb-") as scratch:
        for kind, side, quality in _INLINE_TRIES:
            if kind in unusable:
                continue
            out = Path(scratch) / f"inline.{kind}"
            fit = f"scale={side}:{side}:force_original_aspect_ratio=decrease:flags=lanczos,format=yuv420p"
            try:
                ffmpeg.run(["-y", "-i", str(png), "-vf", fit, "-frames:v", "1", *_ENCODERS[kind](quality), str(out)])
            except FFmpegError:
                unusable.add(kind)  # this FFmpeg cannot write it: the next format
                continue
            markdown = f"![thumbnail](data:image/{kind};base64,{base64.b64encode(out.read_bytes()).decode()})"
            if len(markdown) < limit:
                return markdown
    return None


def composite_metadata(
    *,
    identity: dict[str, str],
    final_dir: Path,
    video_file: str,
    thumbnail_file: str,
    thumbnail_md: str | None,
    size_bytes: int,
    cap_bytes: int,
    width: int,
    height: int,
    layout: str,
    background: str,
    duration_s: float,
    speech_duration_s: float,
    encoder: str,
    ceiling_kbps: int,
    loudness_lufs: float | None,
    true_peak_db: float | None,
    subtitles: str,
    warnings: list[str],
    encode_seconds: float,
    stage_seconds: float,
) -> dict[str, object]:
    """The metadata, in the order the UI lists it: the picture, then what people ask about first."""
    thumbnail = {"thumbnail": dg.MetadataValue.md(thumbnail_md)} if thumbnail_md else {}
    return {
        **thumbnail,
        **identity,
        "video": dg.MetadataValue.path(str(final_dir / video_file)),
        "duration": seconds(duration_s),
        "size": f"{mib(size_bytes)} (cap {mib(cap_bytes)})",
        "resolution": f"{width}x{height}",
        "layout": layout,
        "background": background,
        "subtitles": subtitles,
        "loudness": f"{loudness_lufs} LUFS, true peak {true_peak_db} dBTP" if loudness_lufs is not None else "n/a",
        "encoder": encoder,
        "video_bitrate_ceiling": f"{ceiling_kbps} kbit/s (from the size cap)",
        "warnings": "; ".join(warnings) or "none",
        "thumbnail_path": dg.MetadataValue.path(str(final_dir / thumbnail_file)),
        "speech_duration": seconds(speech_duration_s),
        # Figures as numbers, for benchmarks and anyone comparing runs.
        "bytes": size_bytes,
        "loudness_lufs": loudness_lufs,
        "encode_seconds": encode_seconds,
        "stage_seconds": stage_seconds,
    }
