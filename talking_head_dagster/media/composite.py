"""The composite as one FFmpeg filter graph and one encode (built with ffmpeg-python)."""

from dataclasses import dataclass
from pathlib import Path

import ffmpeg


@dataclass(frozen=True)
class CompositeLayout:
    width: int = 1080
    height: int = 1920
    fps: int = 25
    avatar_width_fraction: float = 0.45
    avatar_margin_fraction: float = 0.04
    crf: int = 23
    preset: str = "veryfast"

    @property
    def avatar_size(self) -> int:
        return _even(self.width * self.avatar_width_fraction)

    @property
    def avatar_position(self) -> tuple[int, int]:
        """Bottom right, inside a margin, above the bottom band that platform UIs cover."""
        margin = _even(self.width * self.avatar_margin_fraction)
        x = self.width - self.avatar_size - margin
        y = self.height - self.avatar_size - margin - _even(self.height * 0.12)
        return x, y


def composite_args(
    background: Path, avatar: Path, speech: Path, out: Path, duration_s: float, layout: CompositeLayout
) -> list[str]:
    """FFmpeg arguments that make the finished video in one pass.

    Steps: 1. background looped to cover the speech, scaled to cover the frame and centre-cropped;
    2. avatar scaled and overlaid; 3. the speech as the only audio track; 4. H.264 + AAC with
    ``+faststart``, cut to the speech duration.
    """
    # 1. Background: loop, cover, crop, constant frame rate.
    bg = (
        ffmpeg.input(str(background), stream_loop=-1)
        .video.filter("scale", layout.width, layout.height, force_original_aspect_ratio="increase")
        .filter("crop", layout.width, layout.height)
        .filter("setsar", 1)
        .filter("fps", layout.fps)
    )
    # 2. Avatar picture-in-picture.
    size = layout.avatar_size
    avatar_video = ffmpeg.input(str(avatar)).video.filter("scale", size, size).filter("fps", layout.fps)
    x, y = layout.avatar_position
    video = ffmpeg.overlay(bg, avatar_video, x=x, y=y, eof_action="repeat")
    # 3. Speech.
    audio = ffmpeg.input(str(speech)).audio
    # 4. One encode.
    output = ffmpeg.output(
        video,
        audio,
        str(out),
        t=f"{duration_s:.3f}",
        vcodec="libx264",
        preset=layout.preset,
        crf=layout.crf,
        pix_fmt="yuv420p",
        acodec="aac",
        audio_bitrate="160k",
        ar=48000,
        movflags="+faststart",
        f="mp4",
    )
    return output.get_args()


def _even(value: float) -> int:
    return int(value) // 2 * 2
