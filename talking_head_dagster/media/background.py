"""Fitting the source video to the speech: how long each copy plays and how copies are joined."""

import math
from dataclasses import dataclass

from talking_head_dagster.errors import PermanentInputError
from talking_head_dagster.media.style import CompositeStyle

MIN_BACKGROUND_S = 1.0
# Every crossfaded copy is one more decoder in the graph; beyond this, copies are joined without a fade.
MAX_CROSSFADE_COPIES = 12


@dataclass(frozen=True)
class BackgroundPlan:
    """``copies`` inputs of ``clip_s`` each, crossfaded over ``crossfade_s`` (0: hard joins by looping)."""

    mode: str  # "crossfade", "loop", "trim" or "stretch"
    clip_s: float
    copies: int = 1
    crossfade_s: float = 0.0
    stretch: float = 1.0

    def xfade_offsets(self) -> list[float]:
        """Where each crossfade starts on the joined timeline: copy i+1 fades in over copy i's last seconds."""
        step = self.clip_s - self.crossfade_s
        return [round((i + 1) * step, 3) for i in range(self.copies - 1)]


def plan_background(source_s: float, speech_s: float, style: CompositeStyle) -> BackgroundPlan:
    """How the ``source_s`` background covers ``speech_s``, by ``style.background_timing``.

    ``loop`` crossfades copies at each seam when the clip is long enough for a fade and few copies
    are needed, and loops with hard joins otherwise; ``trim`` plays once and holds the last frame;
    ``stretch`` slows the clip down by at most ``max_stretch``, then loops what is still missing.
    """
    if source_s < MIN_BACKGROUND_S:
        raise PermanentInputError(
            f"The source video lasts {source_s:.2f} s; a background needs at least {MIN_BACKGROUND_S:.0f} s."
        )
    # Whole frames only, one frame short of the container's duration, which can round up.
    clip = math.floor(source_s * style.fps - 1) / style.fps
    if style.background_timing == "trim" or clip >= speech_s:
        return BackgroundPlan(mode="trim", clip_s=clip)
    if style.background_timing == "stretch":
        return BackgroundPlan(mode="stretch", clip_s=clip, stretch=min(speech_s / clip, style.max_stretch))
    fade = style.crossfade_s
    if fade > 0 and clip >= 3 * fade:
        copies = math.ceil((speech_s - fade) / (clip - fade))
        if copies <= MAX_CROSSFADE_COPIES:
            return BackgroundPlan(mode="crossfade", clip_s=clip, copies=copies, crossfade_s=fade)
    return BackgroundPlan(mode="loop", clip_s=clip)
