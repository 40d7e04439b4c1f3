"""Figures and texts as people read them: units, which way a speed goes, and cut texts."""

import pytest

from talking_head_dagster.display import mib, seconds, shorten, speed


def test_sizes_and_durations_carry_their_units() -> None:
    assert mib(30 * 1024 * 1024) == "30.0 MiB"
    assert mib(2048) == "2.0 KiB"
    assert seconds(12.345) == "12.35 s"


@pytest.mark.parametrize(
    ("factor", "text"),
    [(0.17, "0.17x real time (faster than real time)"), (2.5, "2.50x real time (slower than real time)")],
)
def test_a_speed_says_which_way_is_faster(factor: float, text: str) -> None:
    assert speed(factor) == text


def test_a_long_text_is_cut_at_a_word_with_an_ellipsis() -> None:
    cut = shorten("Checks guard every video before it is published.", 30)
    assert cut == "Checks guard every video…"
    assert len(cut) <= 30
    assert shorten("  short   text ", 30) == "short text"  # nothing cut: no ellipsis


def test_a_script_without_spaces_is_cut_at_a_character() -> None:
    text = "今天我们来聊一聊这款新手机的续航和拍照表现，看看它值不值得买。"
    cut = shorten(text, 12)
    assert cut == text[:11] + "…"
