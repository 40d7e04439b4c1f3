"""How a finished video looks and sounds: output preset, avatar layout, background, audio, subtitles, size cap.

One model serves the deployment settings (``TALKING_HEAD_COMPOSITE__*``) and the ``composite_format``
resource, so what an operator configures is exactly what the composite asset receives.
"""

from typing import Literal

import dagster as dg
from pydantic import Field, model_validator

Aspect = Literal["9:16", "16:9", "1:1"]
LayoutName = Literal["pip", "split", "full"]
LAYOUTS: tuple[str, ...] = ("pip", "split", "full")
MiB = 1024 * 1024


class CompositeStyle(dg.Config):
    """Everything the composite is made to; defaults give a 1080x1920 vertical video under 30 MiB."""

    # Output preset: the short side is 1080 px, the aspect picks the long one.
    aspect: Aspect = "9:16"
    short_side: int = Field(default=1080, ge=240, le=2160)
    fps: int = Field(default=25, ge=10, le=60)
    # Background: how it fills the frame and how it is fitted to the speech's length.
    background_fit: Literal["cover", "blur"] = "cover"
    background_timing: Literal["loop", "trim", "stretch"] = "loop"
    crossfade_s: float = Field(default=0.5, ge=0.0, le=3.0)
    max_stretch: float = Field(default=1.5, ge=1.0, le=4.0)
    # Avatar layout.
    layout: LayoutName = "pip"
    avatar_shape: Literal["circle", "rounded"] = "circle"
    avatar_size: float = Field(default=0.45, gt=0.1, le=1.0, description="fraction of the frame's short side")
    avatar_corner: Literal["bottom-right", "bottom-left", "top-right", "top-left"] = "bottom-right"
    avatar_margin: float = Field(default=0.04, ge=0.0, le=0.3, description="fraction of the frame's short side")
    border_px: int = Field(default=6, ge=0, le=40)
    border_color: str = "#FFFFFF"
    # Audio: speech on top, the source's own audio and optional music ducked under it.
    background_audio: Literal["duck", "mute"] = "duck"
    background_volume_db: float = -8.0
    music_file: str | None = None
    music_volume_db: float = -16.0
    loudness_lufs: float = Field(default=-14.0, ge=-40.0, le=-5.0)
    true_peak_db: float = Field(default=-1.0, ge=-9.0, le=0.0)
    # Subtitles from the sentence timings: burned in and an .srt sidecar.
    subtitles: bool = True
    subtitle_font: str | None = None
    subtitle_size: float = Field(default=0.056, gt=0.01, le=0.2, description="fraction of the frame's short side")
    # Encoding: one pass, a size cap met by a computed bitrate ceiling.
    max_bytes: int = Field(default=30 * MiB, ge=256 * 1024)
    min_video_kbps: int = Field(default=600, ge=100)
    audio_kbps: int = Field(default=160, ge=32, le=512)
    crf: int = Field(default=23, ge=0, le=51)
    encoder_preset: str = "veryfast"
    encoder: Literal["auto", "libx264", "nvenc"] = "auto"

    @model_validator(mode="after")
    def _split_needs_portrait_frame(self) -> "CompositeStyle":
        if self.layout == "split" and self.aspect != "9:16":
            raise ValueError("The split layout (avatar top, background bottom) needs the 9:16 aspect.")
        return self

    @property
    def size(self) -> tuple[int, int]:
        """Output width and height in pixels (even numbers, as H.264 4:2:0 needs)."""
        short = self.short_side // 2 * 2
        long = (short * 16 // 9) // 2 * 2
        return {"9:16": (short, long), "16:9": (long, short), "1:1": (short, short)}[self.aspect]

    def with_layout(self, layout: str | None) -> "CompositeStyle":
        """This style with a row's layout override applied (validated like the setting itself)."""
        if not layout or layout == self.layout:
            return self
        return CompositeStyle(**{**self.model_dump(), "layout": layout})
