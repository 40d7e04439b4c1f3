"""Where things go in the frame, for each layout: pure geometry, no FFmpeg."""

from dataclasses import dataclass

from talking_head_dagster.media.style import CompositeStyle

# Platform UIs (captions, buttons, the progress bar) cover the bottom of a vertical video.
BOTTOM_UI_BAND = 0.12
SUBTITLE_GAP = 0.02
SAFE_SIDE = 0.07


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    @property
    def bottom(self) -> int:
        return self.y + self.height


@dataclass(frozen=True)
class FrameLayout:
    """The output frame, the background's region, the avatar's box and the subtitles' baseline."""

    width: int
    height: int
    background: Box
    avatar: Box
    avatar_mask: str | None  # "circle", "rounded", "soft" or None (a plain rectangle)
    subtitle_bottom: int  # y of the bottom of the lowest subtitle line
    subtitle_left: int = 0  # x of the subtitles' left edge (before the safe-area margin)
    subtitle_right: int = 0  # x of their right edge; 0 means the frame's width

    @property
    def subtitle_margins(self) -> tuple[int, int]:
        """Left and right margins of the subtitle box: a safe area plus whatever the avatar takes."""
        safe = round(self.width * SAFE_SIDE)
        right = self.subtitle_right or self.width
        return self.subtitle_left + safe, self.width - right + safe

    @property
    def subtitle_margin_v(self) -> int:
        return self.height - self.subtitle_bottom


def frame_layout(style: CompositeStyle) -> FrameLayout:
    """Geometry of ``style.layout`` for ``style``'s output size."""
    width, height = style.size
    short = min(width, height)
    lowest_subtitle = round(height * (1 - BOTTOM_UI_BAND - SUBTITLE_GAP))
    full_frame = Box(0, 0, width, height)
    if style.layout == "split":
        half = _even(height / 2)
        return FrameLayout(
            width=width,
            height=height,
            background=Box(0, half, width, height - half),
            avatar=Box(0, 0, width, half),
            avatar_mask=None,
            subtitle_bottom=lowest_subtitle,
        )
    if style.layout == "full":
        side = _even(short)
        avatar = Box(_even((width - side) / 2), _even((height - side) / 2), side, side)
        return FrameLayout(
            width=width,
            height=height,
            background=full_frame,
            avatar=avatar,
            avatar_mask="soft" if (width, height) != (side, side) else None,
            subtitle_bottom=min(lowest_subtitle, avatar.bottom + round(height * 0.1)),
        )
    # Picture-in-picture in a corner, kept clear of the bottom UI band on vertical frames.
    margin = _even(short * style.avatar_margin)
    side = _even(min(short * style.avatar_size, short - 2 * margin))  # a large avatar still fits with its margins
    ui_band = _even(height * BOTTOM_UI_BAND) if height > width else 0
    left = style.avatar_corner.endswith("left")
    top = style.avatar_corner.startswith("top")
    x = margin if left else width - side - margin
    y = margin if top else height - side - margin - ui_band
    avatar = Box(x, y, side, side)
    if top or side < width * 0.4:
        # A wide frame or a top corner: subtitles stay low, beside the avatar.
        gap = round(width * SUBTITLE_GAP)
        beside = {"subtitle_left": x + side + gap} if left else {"subtitle_right": x - gap}
        return FrameLayout(
            width, height, full_frame, avatar, style.avatar_shape, lowest_subtitle, **({} if top else beside)
        )
    # A tall frame with the avatar low: subtitles sit above it.
    subtitle_bottom = min(lowest_subtitle, y - round(height * SUBTITLE_GAP))
    return FrameLayout(width, height, full_frame, avatar, style.avatar_shape, subtitle_bottom)


def _even(value: float) -> int:
    return int(value) // 2 * 2
