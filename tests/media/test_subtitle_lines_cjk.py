"""Chinese subtitle lines: at most 16 characters, two lines a caption, evened out, never broken at a forbidden place."""

import pytest

from talking_head_dagster.media.subtitles import CJK_LINE_CHARS, line_chars, wrap
from tests.media.subtitle_texts import CLOSING, FONT_PX, LATIN, LONG_ENGLISH, NEWS, NOTO_SC, NUMBERS, OPENING


@pytest.mark.parametrize(("font_px", "max_width"), [(60, 924), (60, 600), (48, 924), (40, 924), (30, 400), (30, 1500)])
def test_chinese_lines_keep_the_subtitle_norms(font_px: int, max_width: int) -> None:
    lines = wrap(NEWS, NOTO_SC, font_px, max_width)
    assert "".join(lines).replace(" ", "") == NEWS.replace(" ", "")
    for line in lines:
        assert NOTO_SC.text_width(line, font_px) <= max_width, line
        assert line_chars(line) <= CJK_LINE_CHARS, line
        assert line[0] not in CLOSING, lines
        assert line[-1] not in OPENING, lines
    # Numbers stay whole with their units; this text never needs to break inside one.
    for number in NUMBERS:
        assert any(number in line for line in lines), (number, lines)


def test_sixteen_characters_a_line_even_where_the_width_allows_more() -> None:
    text = "一二三四五六七八九十" * 4
    lines = wrap(text, NOTO_SC, 30, 1500)  # 50 characters would fit in the width
    assert "".join(lines) == text
    assert len(lines) == 3 and all(line_chars(line) <= CJK_LINE_CHARS for line in lines)
    # Latin text has no character count: only the width limits it.
    assert len(wrap(LONG_ENGLISH, LATIN, 30, 1500)) < len(LONG_ENGLISH) / 32 / 2


def test_chinese_lines_are_evened_out_without_adding_a_line() -> None:
    text = "一二三四五六七八九十" * 3  # 30 characters, 14 to a line at 60 px in 924 px
    greedy_capacity = int(924 * 0.94 // NOTO_SC.text_width("一", 60))
    assert greedy_capacity == 14
    lines = wrap(text, NOTO_SC, 60, 924)
    assert "".join(lines) == text
    assert [len(line) for line in lines] == [10, 10, 10]  # not 14 + 14 + 2


def test_chinese_lines_break_after_punctuation_when_that_keeps_them_fairly_even() -> None:
    # 21 characters in two lines of at most 14: 9 + 12 after the comma rather than 11 + 10 inside a phrase.
    assert wrap("一二三四五六七八，九十一二三四五六七八九十", NOTO_SC, 60, 924) == [
        "一二三四五六七八，",
        "九十一二三四五六七八九十",
    ]
    # A comma too near the start would leave a line too long: even lines then.
    assert wrap("一二，三四五六七八九十一二三四五六七八九十一", NOTO_SC, 60, 924) == [
        "一二，三四五六七八九十",  # 11 characters each
        "一二三四五六七八九十一",
    ]


@pytest.mark.parametrize(
    ("line", "chars"),
    [
        ("一二三", 3.0),
        ("iPhone 15", 4.5),
        ("价格4999元", 5.0),
        ("“好的。”", 5.0),
        ("……", 2.0),
        ("ＡＢ，", 3.0),
        ("", 0.0),
    ],
)
def test_line_chars_counts_half_width_characters_as_half(line: str, chars: float) -> None:
    assert line_chars(line) == chars


@pytest.mark.parametrize(
    ("text", "whole"),
    [
        ("一二三四五六七（八九）十一二三《四五》六七八“九十”一二「三四」五", ""),
        ("一二三四五六七八。九十一二三四，五六七八九！十一二三、四五六……七八。", ""),
        ("营收达到2.97亿元，排名第2名，售价4999元，增长15.5%，约合$699。", "2.97亿元 第2名 4999元 15.5% $699"),
    ],
)
def test_chinese_breaks_avoid_the_forbidden_places_at_every_width(text: str, whole: str) -> None:
    one = NOTO_SC.text_width("一", FONT_PX)
    for width_chars in range(5, 17):
        # A width of whole characters (plus the slack), so every break position gets tried.
        lines = wrap(text, NOTO_SC, FONT_PX, (width_chars * one + 1) / 0.94)
        assert "".join(lines) == text
        assert all(line[0] not in CLOSING and line[-1] not in OPENING for line in lines), lines
        assert all(any(number in line for line in lines) for number in whole.split()), lines
        assert all(line_chars(line) <= width_chars for line in lines), lines


def test_without_the_rules_those_texts_would_break_badly() -> None:
    """The texts above do meet each rule's case: plain breaks every few characters land on them."""
    texts = [
        "一二三四五六七（八九）十一二三《四五》六七八“九十”一二「三四」五",
        "营收达到2.97亿元，排名第2名，售价4999元，增长15.5%，约合$699。",
    ]
    naive = [text[i : i + n] for text in texts for n in range(5, 17) for i in range(0, len(text), n)]
    assert any(line[-1] in OPENING for line in naive)
    assert any(line[0] in CLOSING for line in naive)
    assert any(line.endswith(("2.9", "第", "499", "15.")) for line in naive)
