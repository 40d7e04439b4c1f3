"""Subtitle text, line breaking, caption timing and the ASS/SRT files, with the real fonts."""

import itertools
import re

import pytest

from talking_head_dagster.media.subtitles import (
    CJK_LINE_CHARS,
    MAX_LINES,
    Caption,
    SubtitleStyle,
    ass_document,
    captions,
    clean_text,
    escape_ass,
    line_chars,
    srt_document,
    wrap,
)
from tests.media.subtitle_texts import (
    ANY_SCRIPT,
    CHINESE,
    CLOSING,
    FONT_PX,
    LATIN,
    LONG_ENGLISH,
    NEWS,
    NOTO_SC,
    sentence,
    style,
)

# --- clean_text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Tab\there,\r\nnew line\nand bell\x07!", "Tab here, new line and bell !"),
        ("  spaced   out \u2028 separator ", "spaced out separator"),
        ("zero\u200bwidth and\x00nul", "zero width and nul"),
        ("e\u0301te\u0301", "\u00e9t\u00e9"),  # composed (NFC)
        ("\n\t\x1b", ""),
    ],
)
def test_clean_text_leaves_printable_text_on_one_line(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


# --- wrap ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_width", [420, 640, 928, 1500])
def test_latin_lines_fit_and_break_only_at_spaces(max_width: int) -> None:
    lines = wrap(LONG_ENGLISH, LATIN, FONT_PX, max_width)
    assert len(lines) >= (2 if max_width < 1500 else 1)
    for line in lines:
        assert LATIN.text_width(line, FONT_PX) <= max_width, line
        assert line == line.strip()
    # Every word is kept whole, in order: joining the lines with spaces gives the text back.
    assert " ".join(lines) == LONG_ENGLISH
    # Greedy: the next line's first word would not have fitted on the line before.
    for line, following in itertools.pairwise(lines):
        assert LATIN.text_width(f"{line} {following.split()[0]}", FONT_PX) > max_width * 0.9


def test_a_word_wider_than_the_line_is_not_split() -> None:
    lines = wrap("a Donaudampfschifffahrtsgesellschaftskapitän b", LATIN, FONT_PX, 300)
    assert lines == ["a", "Donaudampfschifffahrtsgesellschaftskapitän", "b"]


@pytest.mark.parametrize("max_width", [300, 400, 500, 928])
def test_cjk_without_spaces_wraps_between_characters_within_the_width(max_width: int) -> None:
    lines = wrap(CHINESE, ANY_SCRIPT, FONT_PX, max_width)
    assert len(lines) > 2
    assert "".join(lines) == CHINESE
    for line in lines:
        assert ANY_SCRIPT.text_width(line, FONT_PX) <= max_width, line


# From 300 px up, a line holds "的。”」", a character and three closing marks that cannot be parted.
@pytest.mark.parametrize("max_width", [300, 345, 400, 500, 620, 928])
def test_closing_punctuation_never_starts_a_line(max_width: int) -> None:
    text = CHINESE + "他说：“好的。”」然后……走了。"
    lines = wrap(text, ANY_SCRIPT, FONT_PX, max_width)
    assert "".join(lines) == text
    for line in lines:
        assert line[0] not in CLOSING, lines
        assert ANY_SCRIPT.text_width(line, FONT_PX) <= max_width, line


def test_mixed_scripts_keep_latin_words_whole() -> None:
    text = "我们用 Python 写代码，也用 Dagster 管理任务。"
    lines = wrap(text, ANY_SCRIPT, FONT_PX, 8 * ANY_SCRIPT.text_width("字", FONT_PX))
    assert len(lines) > 2
    assert sum("Python" in line for line in lines) == 1
    assert sum("Dagster" in line for line in lines) == 1
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_blank_text_has_no_lines() -> None:
    assert wrap(" \n\t ", LATIN, FONT_PX, 500) == []


# --- captions -----------------------------------------------------------------------------------


def test_a_long_sentence_is_split_into_timed_parts_of_two_lines() -> None:
    subtitle_style = style()
    spoken = sentence(LONG_ENGLISH, 2.0, 14.5)
    items = captions([spoken], subtitle_style)
    max_width = subtitle_style.width - subtitle_style.margin_left - subtitle_style.margin_right
    assert len(items) >= 2
    assert all(1 <= len(item.lines) <= MAX_LINES for item in items)
    assert all(LATIN.text_width(line, FONT_PX) <= max_width for item in items for line in item.lines)
    assert " ".join(line for item in items for line in item.lines) == LONG_ENGLISH
    # Contiguous, and together exactly the sentence's span.
    assert items[0].start_s == 2.0
    assert items[-1].end_s == pytest.approx(14.5, abs=1e-9)
    for before, after in itertools.pairwise(items):
        assert after.start_s == before.end_s
        assert after.end_s > after.start_s
    # Each part is on screen for its share of the sentence's characters.
    chars = [len("".join(item.lines)) for item in items]
    for item, count in zip(items, chars, strict=True):
        assert item.end_s - item.start_s == pytest.approx(12.5 * count / sum(chars), rel=1e-9)


def test_each_sentence_keeps_its_own_times_and_blank_ones_are_dropped() -> None:
    items = captions(
        [sentence("Hello there.", 0.5, 1.7), sentence(" \n ", 1.7, 2.0, 1), sentence("Bye.", 3.25, 4.0, 2)],
        style(),
    )
    assert [(item.start_s, item.end_s, item.lines) for item in items] == [
        (0.5, pytest.approx(1.7), ["Hello there."]),
        (3.25, pytest.approx(4.0), ["Bye."]),
    ]


def test_a_long_chinese_sentence_becomes_more_cues_of_two_lines_timed_by_characters() -> None:
    subtitle_style = style(font=NOTO_SC)
    items = captions([sentence(NEWS, 1.0, 21.0)], subtitle_style)
    assert len(items) >= 3
    assert all(1 <= len(item.lines) <= MAX_LINES for item in items)
    assert all(line_chars(line) <= CJK_LINE_CHARS for item in items for line in item.lines)
    assert "".join(line for item in items for line in item.lines).replace(" ", "") == NEWS.replace(" ", "")
    assert items[0].start_s == 1.0 and items[-1].end_s == pytest.approx(21.0)
    chars = [len("".join(item.lines)) for item in items]
    for item, count in zip(items, chars, strict=True):
        assert item.end_s - item.start_s == pytest.approx(20.0 * count / sum(chars), rel=1e-9)


def test_captions_leave_out_what_the_font_cannot_draw() -> None:
    items = captions([sentence("大家好🎉，欢迎来到我们的频道！👍", 0.0, 2.0)], style(font=NOTO_SC))
    assert [item.lines for item in items] == [["大家好，欢迎来到我们的频道！"]]
    assert captions([sentence("🎉👍", 0.0, 2.0)], style(font=NOTO_SC)) == []


def test_chinese_captions_use_the_full_width_between_margins() -> None:
    subtitle_style = style(font=ANY_SCRIPT)
    items = captions([sentence(CHINESE, 0.0, 9.0)], subtitle_style)
    max_width = subtitle_style.width - subtitle_style.margin_left - subtitle_style.margin_right
    assert "".join(line for item in items for line in item.lines) == CHINESE
    assert all(ANY_SCRIPT.text_width(line, FONT_PX) <= max_width for item in items for line in item.lines)
    assert all(len(item.lines) <= MAX_LINES for item in items)


# --- escape_ass ---------------------------------------------------------------------------------


def libass_text(text: str) -> tuple[str, bool]:
    """What libass shows for a Dialogue's text (WrapStyle 2), and whether it saw an override block.

    Outside ``{...}`` blocks libass reads ``\\N`` and ``\\n`` as line breaks, ``\\h`` as a hard space and
    ``\\{`` ``\\}`` as braces; any other backslash is shown as it is.
    """
    shown, overrides, i = [], False, 0
    while i < len(text):
        pair = text[i : i + 2]
        if text[i] == "{" and "}" in text[i:]:
            overrides, i = True, text.index("}", i) + 1
        elif pair in ("\\N", "\\n"):
            shown, i = [*shown, "\n"], i + 2
        elif pair == "\\h":
            shown, i = [*shown, "\u00a0"], i + 2
        elif pair in ("\\{", "\\}"):
            shown, i = [*shown, pair[1]], i + 2
        else:
            shown, i = [*shown, text[i]], i + 1
    return "".join(shown), overrides


@pytest.mark.parametrize(
    "text",
    [
        "{\\b1}bold{\\b0}",
        "C:\\temp\\new \\N no break \\n nor this \\h",
        "ends with a backslash \\",
        "\\{already escaped\\} {unclosed",
        "}{",
        "{\\pos(10,10)\\c&H0000FF&}moved",
    ],
)
def test_escaped_text_is_shown_exactly_as_written(text: str) -> None:
    shown, overrides = libass_text(escape_ass(text))
    assert not overrides
    assert "\n" not in shown and "\u00a0" not in shown
    assert shown.replace("\u2060", "") == text


def test_escaping_is_needed_for_those_strings() -> None:
    # The libass model above does see the override block and the break in the raw text.
    assert libass_text("{\\b1}bold") == ("bold", True)
    assert libass_text("a\\Nb") == ("a\nb", False)


# --- ass_document -------------------------------------------------------------------------------


def ass_sections(document: str) -> tuple[dict[str, str], dict[str, str], list[dict[str, str]]]:
    """Script info, the one style and the dialogues of an ASS document, by field name."""
    lines = document.splitlines()
    info = dict(line.split(": ", 1) for line in lines[1 : lines.index("")] if ": " in line)
    style_fields = next(line for line in lines if line.startswith("Format: Name"))[8:].split(", ")
    style_values = next(line for line in lines if line.startswith("Style: "))[7:].split(",")
    event_fields = next(line for line in lines if line.startswith("Format: Layer"))[8:].split(", ")
    events = [
        dict(zip(event_fields, line[10:].split(",", len(event_fields) - 1), strict=True))
        for line in lines
        if line.startswith("Dialogue: ")
    ]
    return info, dict(zip(style_fields, style_values, strict=True)), events


def test_ass_document_is_sized_to_the_frame_with_the_style_margins() -> None:
    subtitle_style = SubtitleStyle(
        width=1920, height=1080, font=LATIN, font_px=60, margin_left=700, margin_right=134, margin_bottom=151
    )
    items = [
        Caption(0.0, 1.234, ["One line"]),
        Caption(59.996, 3725.5, ["First {line}", "second \\N line"]),
    ]
    info, caption_style, events = ass_sections(ass_document(items, subtitle_style))
    assert (info["PlayResX"], info["PlayResY"]) == ("1920", "1080")
    assert info["WrapStyle"] == "2"  # no automatic wrapping by libass: lines are broken here
    assert caption_style["Name"] == "Caption" and caption_style["Fontname"] == "DejaVu Sans"
    assert caption_style["Fontsize"] == "60" and caption_style["Alignment"] == "2"
    assert (caption_style["MarginL"], caption_style["MarginR"], caption_style["MarginV"]) == ("700", "134", "151")
    assert [(e["Start"], e["End"], e["Style"]) for e in events] == [
        ("0:00:00.00", "0:00:01.23", "Caption"),
        ("0:01:00.00", "1:02:05.50", "Caption"),
    ]
    shown = [libass_text(e["Text"]) for e in events]
    assert shown[0] == ("One line", False)
    assert shown[1][0].replace("\u2060", "") == "First {line}\nsecond \\N line"
    assert not shown[1][1]


@pytest.mark.parametrize(
    ("seconds", "stamp"),
    [(0.0, "0:00:00.00"), (0.005, "0:00:00.01"), (1.995, "0:00:02.00"), (3599.999, "1:00:00.00"), (-0.2, "0:00:00.00")],
)
def test_ass_times_round_to_centiseconds(seconds: float, stamp: str) -> None:
    _, _, events = ass_sections(ass_document([Caption(seconds, 4000.0, ["x"])], style()))
    assert events[0]["Start"] == stamp


# --- srt_document -------------------------------------------------------------------------------


def test_srt_numbers_cues_from_one_and_skips_empty_sentences() -> None:
    document = srt_document(
        [
            sentence("First\nsentence.", 0.0, 1.5),
            sentence("  \t ", 1.5, 2.0, 1),
            sentence("Second {\\b1} one.", 2.0, 3661.2345, 2),
        ]
    )
    assert document == (
        "1\n00:00:00,000 --> 00:00:01,500\nFirst sentence.\n\n2\n00:00:02,000 --> 01:01:01,235\nSecond {\\b1} one.\n"
    )


@pytest.mark.parametrize(
    ("seconds", "stamp"),
    [
        (3661.2345, "01:01:01,235"),
        (59.9996, "00:01:00,000"),
        (0.0005, "00:00:00,001"),
        (1.0004, "00:00:01,000"),
        (36000.5, "10:00:00,500"),
        (-1.0, "00:00:00,000"),
    ],
)
def test_srt_times_round_to_the_nearest_millisecond(seconds: float, stamp: str) -> None:
    document = srt_document([sentence("x", seconds, 40000.0)])
    assert re.search(r"^(\S+) --> ", document, re.M).group(1) == stamp
