"""The one video encode: which encoder, and the bitrate ceiling that keeps the file under the size cap.

The cap is met in a single pass: the encoder runs at constant quality (CRF, or CQ on NVENC) with a
VBV ceiling. VBV bounds the bits of any stretch of video to ``maxrate x seconds + bufsize``, so with
``bufsize = maxrate x 1 s`` the whole video takes at most ``maxrate x (duration + 1 s)``. The ceiling is
computed from the cap, the duration and the audio's bitrate, with a margin for the MP4 container.
Easy content stays far under the cap at full quality; only hard content meets the ceiling.
"""

import math
import subprocess
from dataclasses import dataclass
from functools import cache

from talking_head_dagster.errors import PermanentInputError

CONTAINER_MARGIN = 0.97  # MP4 boxes, AAC framing and x264's rare VBV overshoot
VBV_BUFFER_S = 1.0


@dataclass(frozen=True)
class VideoEncoding:
    encoder: str  # "libx264" or "h264_nvenc"
    maxrate_kbps: int

    def args(self, crf: int, preset: str) -> dict[str, object]:
        """ffmpeg-python output options for this encoder."""
        rate = {"maxrate": f"{self.maxrate_kbps}k", "bufsize": f"{round(self.maxrate_kbps * VBV_BUFFER_S)}k"}
        if self.encoder == "h264_nvenc":
            return {"vcodec": "h264_nvenc", "preset": "p4", "rc": "vbr", "cq": crf, "b:v": "0", **rate}
        return {"vcodec": "libx264", "preset": preset, "crf": crf, **rate}


def video_ceiling_kbps(max_bytes: int, duration_s: float, audio_kbps: int, min_video_kbps: int) -> int:
    """The highest video bitrate that keeps ``duration_s`` of video and audio under ``max_bytes``.

    Raises ``PermanentInputError`` when even ``min_video_kbps`` (the quality floor) would not fit.
    """
    budget_kbit = max_bytes * 8 / 1000 * CONTAINER_MARGIN - audio_kbps * duration_s
    ceiling = int(budget_kbit / (duration_s + VBV_BUFFER_S))
    if ceiling < min_video_kbps:
        # Rounded down: a length rounded up may not fit any more.
        longest = math.floor(max_bytes * 8 / 1000 * CONTAINER_MARGIN / (min_video_kbps + audio_kbps) - VBV_BUFFER_S)
        cap = f"{max_bytes / 2**20:.2f}".rstrip("0").rstrip(".")  # 30, 1.5 or 0.29 (MiB)
        problem = (
            f"A {duration_s:.0f} s video cannot fit in {cap} MiB at the minimum quality ({min_video_kbps} kb/s video)"
        )
        if longest < 1:
            raise PermanentInputError(
                f"{problem}, nor would even 1 s of speech; raise TALKING_HEAD_COMPOSITE__MAX_BYTES or lower "
                "TALKING_HEAD_COMPOSITE__MIN_VIDEO_KBPS."
            )
        raise PermanentInputError(
            f"{problem}; shorten the script to under about {longest} s of speech, or raise "
            "TALKING_HEAD_COMPOSITE__MAX_BYTES."
        )
    return ceiling


def choose_encoder(requested: str, ffmpeg: str) -> str:
    """``libx264``, or ``h264_nvenc`` when asked for or (``auto``) when this machine can really use it."""
    if requested == "libx264":
        return "libx264"
    if nvenc_works(ffmpeg):
        return "h264_nvenc"
    if requested == "nvenc":
        raise PermanentInputError(
            "TALKING_HEAD_COMPOSITE__ENCODER is nvenc, but this machine's FFmpeg cannot encode with NVENC "
            "(no NVIDIA GPU or driver); use auto to fall back to libx264."
        )
    return "libx264"


@cache
def nvenc_works(ffmpeg: str) -> bool:
    """Whether a tiny NVENC encode succeeds: the encoder being compiled in is not enough, it needs a GPU."""
    command = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i"]
    command += ["color=black:size=256x256:duration=0.1", "-c:v", "h264_nvenc", "-f", "null", "-"]
    try:
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
