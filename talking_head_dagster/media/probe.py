"""Media probing with the ffmpeg binary alone (imageio-ffmpeg ships no ffprobe).

``ffmpeg -i FILE`` prints the container's duration and one line per stream on stderr;
that text format has been stable for many years and is what imageio-ffmpeg parses too.
"""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\d+:\d+(?:\[\w+\])?(?:\(\w+\))?: (Video|Audio): (\w+)(.*)")
_SIZE = re.compile(r"(?<![\w])(\d{2,5})x(\d{2,5})(?![\w])")
_FPS = re.compile(r"([\d.]+) fps")
_TBR = re.compile(r"([\d.]+k?) tbr")
_RATE = re.compile(r"(\d+) Hz")


@dataclass(frozen=True)
class VideoStream:
    codec: str
    width: int
    height: int
    fps: float


@dataclass(frozen=True)
class AudioStream:
    codec: str
    sample_rate: int


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float | None
    video: VideoStream | None
    audio: AudioStream | None


class ProbeError(Exception):
    """The file is not a media file ffmpeg can read."""


def probe(path: Path, ffmpeg: str) -> MediaInfo:
    """Read duration and the first video and audio stream of ``path``."""
    result = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=60,
    )
    return parse_probe_output(result.stderr)


def parse_probe_output(text: str) -> MediaInfo:
    if "Input #0" not in text:
        last = text.strip().splitlines()[-1] if text.strip() else "no output"
        raise ProbeError(last)
    duration = None
    if m := _DURATION.search(text):
        hours, minutes, seconds = m.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    video = audio = None
    for kind, codec, rest in _STREAM.findall(text):
        if kind == "Video" and video is None and "attached pic" not in rest:
            size = _SIZE.search(rest)
            fps = _FPS.search(rest) or _TBR.search(rest)
            if size:
                video = VideoStream(
                    codec=codec,
                    width=int(size.group(1)),
                    height=int(size.group(2)),
                    fps=_parse_rate(fps.group(1)) if fps else 0.0,
                )
        elif kind == "Audio" and audio is None:
            rate = _RATE.search(rest)
            audio = AudioStream(codec=codec, sample_rate=int(rate.group(1)) if rate else 0)
    return MediaInfo(duration_s=duration, video=video, audio=audio)


def _parse_rate(text: str) -> float:
    return float(text[:-1]) * 1000 if text.endswith("k") else float(text)


def count_video_frames(path: Path, ffmpeg: str) -> int:
    """Decode the video stream and count its frames (exact, not the container's estimate)."""
    result = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-f", "null", "-"],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=600,
    )
    frames = re.findall(r"frame=\s*(\d+)", result.stderr)
    if result.returncode != 0 or not frames:
        raise ProbeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "decode failed")
    return int(frames[-1])
