"""How a background clip is fitted to the speech: crossfaded copies, hard loop, trim or stretch."""

import itertools
import math

import pytest

from talking_head_dagster.errors import PermanentInputError
from talking_head_dagster.media.background import MAX_CROSSFADE_COPIES, plan_background
from talking_head_dagster.media.style import CompositeStyle

LOOP = CompositeStyle()  # loop with a 0.5 s crossfade at 25 fps


def joined_length(clip_s: float, copies: int, fade_s: float) -> float:
    return copies * clip_s - (copies - 1) * fade_s


@pytest.mark.parametrize(
    ("source_s", "speech_s", "fade_s", "fps"),
    [
        (2.5, 7.3, 0.5, 25),
        (4.0, 4.5, 0.5, 25),
        (3.0, 20.0, 0.9, 30),
        (10.0, 61.7, 0.25, 60),
        (1.6, 3.0, 0.5, 25),
        (10.04, 45.0, 3.0, 24),
    ],
)
def test_crossfaded_copies_cover_the_speech_and_each_fade_starts_inside_the_join(source_s, speech_s, fade_s, fps):
    plan = plan_background(source_s, speech_s, CompositeStyle(crossfade_s=fade_s, fps=fps))
    assert plan.mode == "crossfade"
    assert plan.crossfade_s == fade_s
    # Whole frames, one short of the source's length.
    assert plan.clip_s == pytest.approx(math.floor(source_s * fps - 1) / fps)
    assert 2 <= plan.copies <= MAX_CROSSFADE_COPIES
    assert joined_length(plan.clip_s, plan.copies, fade_s) >= speech_s
    # No more copies than needed.
    assert joined_length(plan.clip_s, plan.copies - 1, fade_s) < speech_s
    offsets = plan.xfade_offsets()
    assert len(offsets) == plan.copies - 1
    assert all(later > earlier for earlier, later in itertools.pairwise(offsets))
    for joined_copies, offset in enumerate(offsets, start=1):
        assert 0 < offset < joined_length(plan.clip_s, joined_copies, fade_s)
        assert offset == pytest.approx(joined_length(plan.clip_s, joined_copies, fade_s) - fade_s, abs=0.001)


def test_more_copies_than_the_graph_should_hold_fall_back_to_a_hard_loop() -> None:
    clip = math.floor(2.0 * 25 - 1) / 25
    fits = joined_length(clip, MAX_CROSSFADE_COPIES, 0.5)
    assert plan_background(2.0, fits - 0.01, LOOP).mode == "crossfade"
    plan = plan_background(2.0, fits + 0.1, LOOP)
    assert (plan.mode, plan.copies, plan.crossfade_s) == ("loop", 1, 0.0)
    assert plan.clip_s == pytest.approx(clip)
    assert plan.xfade_offsets() == []


@pytest.mark.parametrize(("source_s", "mode"), [(1.5, "loop"), (1.54, "loop"), (1.56, "crossfade")])
def test_clips_shorter_than_three_fades_loop_without_one(source_s: float, mode: str) -> None:
    # The clips are 1.44 s, 1.48 s and 1.52 s long; a 0.5 s crossfade needs at least 1.5 s.
    plan = plan_background(source_s, 10.0, LOOP)
    assert plan.mode == mode


def test_no_crossfade_configured_loops_hard() -> None:
    plan = plan_background(3.0, 10.0, CompositeStyle(crossfade_s=0.0))
    assert (plan.mode, plan.crossfade_s, plan.copies) == ("loop", 0.0, 1)


@pytest.mark.parametrize("timing", ["loop", "stretch", "trim"])
def test_a_source_longer_than_the_speech_is_trimmed(timing: str) -> None:
    plan = plan_background(30.0, 12.0, CompositeStyle(background_timing=timing))
    assert plan.mode == "trim"
    assert plan.clip_s == pytest.approx(29.96)


def test_trim_plays_a_short_source_once() -> None:
    plan = plan_background(3.0, 12.0, CompositeStyle(background_timing="trim"))
    assert (plan.mode, plan.copies, plan.stretch) == ("trim", 1, 1.0)
    assert plan.clip_s == pytest.approx(2.96)


@pytest.mark.parametrize(
    ("source_s", "speech_s", "max_stretch", "stretch"),
    [
        (8.06, 10.0, 1.5, 10.0 / 8.0),  # slowed down just enough
        (4.06, 10.0, 1.5, 1.5),  # would need 2.5x: bounded, the rest is looped
        (4.06, 10.0, 4.0, 2.5),
        (8.06, 8.0, 1.5, 1.0),  # exactly long enough: trimmed instead
    ],
)
def test_stretch_is_bounded_by_max_stretch(source_s, speech_s, max_stretch, stretch) -> None:
    style = CompositeStyle(background_timing="stretch", max_stretch=max_stretch)
    plan = plan_background(source_s, speech_s, style)
    assert plan.mode == ("trim" if stretch == 1.0 else "stretch")
    assert plan.stretch == pytest.approx(stretch)
    assert 1.0 <= plan.stretch <= max_stretch


@pytest.mark.parametrize("source_s", [0.0, 0.4, 0.999])
def test_a_source_under_one_second_is_refused_with_its_duration(source_s: float) -> None:
    with pytest.raises(PermanentInputError, match=rf"{source_s:.2f} s.*at least 1 s"):
        plan_background(source_s, 5.0, LOOP)


def test_a_one_second_source_is_enough() -> None:
    plan = plan_background(1.0, 5.0, LOOP)
    assert plan.mode == "loop"
    assert plan.clip_s == pytest.approx(0.96)
