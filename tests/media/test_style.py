"""The composite's style: output sizes, layout rules, row overrides and the deployment settings."""

import pydantic
import pytest

from talking_head_dagster.media.style import CompositeStyle
from talking_head_dagster.settings import Settings


@pytest.mark.parametrize(
    ("aspect", "short_side", "size"),
    [
        ("9:16", 1080, (1080, 1920)),
        ("16:9", 1080, (1920, 1080)),
        ("1:1", 1080, (1080, 1080)),
        ("9:16", 720, (720, 1280)),
        ("16:9", 721, (1280, 720)),
        ("9:16", 1081, (1080, 1920)),
        ("16:9", 241, (426, 240)),
        ("1:1", 999, (998, 998)),
        ("9:16", 2160, (2160, 3840)),
    ],
)
def test_size_follows_the_aspect_in_even_pixels(aspect: str, short_side: int, size: tuple[int, int]) -> None:
    width, height = CompositeStyle(aspect=aspect, short_side=short_side).size
    assert (width, height) == size
    assert width % 2 == 0 and height % 2 == 0
    assert abs(max(width, height) / min(width, height) - (1 if aspect == "1:1" else 16 / 9)) < 0.01


def test_the_default_is_a_vertical_full_hd_pip_video() -> None:
    style = CompositeStyle()
    assert (style.size, style.layout, style.aspect) == ((1080, 1920), "pip", "9:16")


@pytest.mark.parametrize("aspect", ["16:9", "1:1"])
def test_split_needs_a_vertical_frame(aspect: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=r"split layout .* needs the 9:16 aspect"):
        CompositeStyle(aspect=aspect, layout="split")
    assert CompositeStyle(aspect="9:16", layout="split").layout == "split"


@pytest.mark.parametrize(
    ("field", "value"),
    [("aspect", "4:3"), ("layout", "grid"), ("short_side", 100), ("crossfade_s", -1.0), ("encoder", "vaapi")],
)
def test_values_out_of_range_are_refused(field: str, value: object) -> None:
    with pytest.raises(pydantic.ValidationError):
        CompositeStyle(**{field: value})


def test_with_layout_applies_a_rows_override_and_keeps_everything_else() -> None:
    base = CompositeStyle(crf=28, avatar_corner="top-left", music_file="/music.m4a")
    full = base.with_layout("full")
    assert full.layout == "full"
    assert full.model_dump() == {**base.model_dump(), "layout": "full"}
    assert base.layout == "pip"  # the deployment's style is not changed
    assert base.with_layout(None) is base and base.with_layout("") is base and base.with_layout("pip") is base


@pytest.mark.parametrize(("aspect", "layout"), [("16:9", "split"), ("9:16", "sideways")])
def test_with_layout_validates_the_override_like_the_setting(aspect: str, layout: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        CompositeStyle(aspect=aspect).with_layout(layout)


def test_environment_variables_reach_the_composite_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALKING_HEAD_COMPOSITE__LAYOUT", "split")
    monkeypatch.setenv("TALKING_HEAD_COMPOSITE__ASPECT", "9:16")
    monkeypatch.setenv("TALKING_HEAD_COMPOSITE__AVATAR_SIZE", "0.3")
    composite = Settings().composite
    assert (composite.layout, composite.aspect, composite.avatar_size) == ("split", "9:16", 0.3)
    assert composite.size == (1080, 1920)
    monkeypatch.setenv("TALKING_HEAD_COMPOSITE__ASPECT", "1:1")
    monkeypatch.setenv("TALKING_HEAD_COMPOSITE__LAYOUT", "full")
    composite = Settings().composite
    assert (composite.layout, composite.size) == ("full", (1080, 1080))


def test_an_impossible_combination_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALKING_HEAD_COMPOSITE__LAYOUT", "split")
    monkeypatch.setenv("TALKING_HEAD_COMPOSITE__ASPECT", "16:9")
    with pytest.raises(pydantic.ValidationError, match="needs the 9:16 aspect"):
        Settings()


def test_without_environment_the_settings_use_the_style_defaults() -> None:
    composite = Settings().composite
    assert CompositeStyle(**composite.model_dump(exclude={"ffmpeg_binary"})) == CompositeStyle()
