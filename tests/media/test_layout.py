"""Frame geometry of every aspect and layout: the avatar in the frame, subtitles clear of it."""

import pytest
from matplotlib.ft2font import FT2Font

from talking_head_dagster.media.fonts import BUNDLED_FONT
from talking_head_dagster.media.layout import Box, FrameLayout, frame_layout
from talking_head_dagster.media.style import CompositeStyle

CORNERS = ("bottom-right", "bottom-left", "top-right", "top-left")
ASPECTS = ("9:16", "16:9", "1:1")
LAYOUTS = [(aspect, "pip", corner) for aspect in ASPECTS for corner in CORNERS]
LAYOUTS += [("9:16", "split", None)] + [(aspect, "full", None) for aspect in ASPECTS]


def make(aspect: str, layout: str, corner: str | None, **extra: object) -> tuple[CompositeStyle, FrameLayout]:
    style = CompositeStyle(aspect=aspect, layout=layout, **({"avatar_corner": corner} if corner else {}), **extra)
    return style, frame_layout(style)


def subtitle_box(style: CompositeStyle, frame: FrameLayout, lines: int = 2) -> Box:
    """Where ``lines`` lines of subtitles at the configured size can be drawn, outline included."""
    face = FT2Font(str(BUNDLED_FONT))
    font_px = round(style.subtitle_size * min(frame.width, frame.height))
    line_px = (face.ascender - face.descender) / face.units_per_EM * font_px
    outline = 0.08 * font_px
    left, right = frame.subtitle_margins
    top = round(frame.subtitle_bottom - lines * line_px - outline)
    return Box(left, top, frame.width - right - left, frame.subtitle_bottom + round(outline) - top)


def overlaps(a: Box, b: Box) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.bottom and b.y < a.bottom


def inside(box: Box, width: int, height: int) -> bool:
    return box.x >= 0 and box.y >= 0 and box.x + box.width <= width and box.bottom <= height


@pytest.mark.parametrize(("aspect", "layout", "corner"), LAYOUTS)
@pytest.mark.parametrize("avatar_size", [0.2, 0.45, 0.8, 1.0])
def test_avatar_and_background_lie_inside_the_frame_with_even_sizes(aspect, layout, corner, avatar_size) -> None:
    style, frame = make(aspect, layout, corner, avatar_size=avatar_size)
    assert (frame.width, frame.height) == style.size
    for box in (frame.avatar, frame.background):
        assert inside(box, frame.width, frame.height), box
        assert box.width > 0 and box.height > 0
        assert box.width % 2 == 0 and box.height % 2 == 0, box
        assert box.x % 2 == 0 and box.y % 2 == 0, box  # 4:2:0 chroma lines up


@pytest.mark.parametrize("corner", CORNERS)
@pytest.mark.parametrize("aspect", ASPECTS)
def test_pip_avatar_is_a_square_of_the_configured_size_in_its_corner(aspect: str, corner: str) -> None:
    style, frame = make(aspect, "pip", corner)
    short = min(frame.width, frame.height)
    avatar = frame.avatar
    assert avatar.width == avatar.height == pytest.approx(short * style.avatar_size, abs=2)
    assert frame.avatar_mask == "circle" and frame.background == Box(0, 0, frame.width, frame.height)
    centre_x, centre_y = avatar.x + avatar.width / 2, avatar.y + avatar.height / 2
    assert (centre_x < frame.width / 2) == corner.endswith("left")
    assert (centre_y < frame.height / 2) == corner.startswith("top")
    margin = round(short * style.avatar_margin)
    side_gap = avatar.x if corner.endswith("left") else frame.width - avatar.x - avatar.width
    assert side_gap == pytest.approx(margin, abs=2)


@pytest.mark.parametrize("corner", ["bottom-right", "bottom-left"])
@pytest.mark.parametrize("avatar_size", [0.2, 0.45, 0.8, 1.0])
def test_pip_keeps_out_of_the_bottom_ui_band_of_vertical_frames(corner: str, avatar_size: float) -> None:
    _, frame = make("9:16", "pip", corner, avatar_size=avatar_size)
    assert frame.avatar.bottom <= frame.height * (1 - 0.12)
    assert frame.subtitle_bottom <= frame.height * (1 - 0.12)


@pytest.mark.parametrize(("aspect", "layout", "corner"), LAYOUTS)
def test_subtitles_stay_above_the_bottom_ui_band_and_in_the_frame(aspect, layout, corner) -> None:
    style, frame = make(aspect, layout, corner)
    text = subtitle_box(style, frame)
    assert inside(text, frame.width, frame.height), text
    assert frame.subtitle_bottom <= round(frame.height * 0.86)
    assert frame.subtitle_margin_v == frame.height - frame.subtitle_bottom
    assert text.width >= frame.width * 0.3  # room for a few words a line


@pytest.mark.parametrize(
    ("aspect", "layout", "corner"),
    # A full-frame avatar on a wide or square frame fills the frame's height: subtitles are drawn over it.
    [case for case in LAYOUTS if not (case[1] == "full" and case[0] != "9:16")],
)
@pytest.mark.parametrize("avatar_size", [0.2, 0.45])
def test_two_subtitle_lines_never_cover_the_avatar(aspect, layout, corner, avatar_size) -> None:
    style, frame = make(aspect, layout, corner, avatar_size=avatar_size)
    text = subtitle_box(style, frame)
    assert not overlaps(text, frame.avatar), (text, frame.avatar)


def test_a_low_avatar_on_a_tall_frame_puts_subtitles_above_it() -> None:
    _, frame = make("9:16", "pip", "bottom-right")
    assert frame.subtitle_bottom < frame.avatar.y
    assert frame.subtitle_margins == (76, 76)  # full width: nothing beside


@pytest.mark.parametrize(("corner", "left_of_avatar"), [("bottom-right", True), ("bottom-left", False)])
def test_on_a_wide_frame_subtitles_sit_beside_a_low_avatar(corner: str, left_of_avatar: bool) -> None:
    _, frame = make("16:9", "pip", corner)
    left, right = frame.subtitle_margins
    assert frame.subtitle_bottom > frame.avatar.y  # level with the avatar, not above it
    if left_of_avatar:
        assert frame.width - right < frame.avatar.x and left == round(1920 * 0.07)
    else:
        assert left > frame.avatar.x + frame.avatar.width and right == round(1920 * 0.07)


def test_split_puts_the_avatar_on_top_and_the_background_below() -> None:
    _, frame = make("9:16", "split", None)
    assert frame.avatar == Box(0, 0, 1080, 960)
    assert frame.background == Box(0, 960, 1080, 960)
    assert frame.avatar_mask is None


@pytest.mark.parametrize(("aspect", "mask"), [("9:16", "soft"), ("16:9", "soft"), ("1:1", None)])
def test_full_centres_a_square_avatar_and_softens_it_unless_it_fills_the_frame(aspect: str, mask) -> None:
    _, frame = make(aspect, "full", None)
    avatar = frame.avatar
    assert avatar.width == avatar.height == min(frame.width, frame.height)
    assert avatar.x + avatar.width / 2 == frame.width / 2 and avatar.y + avatar.height / 2 == frame.height / 2
    assert frame.avatar_mask == mask


def test_odd_short_sides_still_give_even_geometry() -> None:
    _, frame = make("9:16", "pip", "bottom-left", short_side=721, avatar_size=0.33, avatar_margin=0.051)
    assert (frame.width, frame.height) == (720, 1280)
    assert all(v % 2 == 0 for v in (frame.avatar.x, frame.avatar.y, frame.avatar.width, frame.avatar.height))
    assert inside(frame.avatar, frame.width, frame.height)
