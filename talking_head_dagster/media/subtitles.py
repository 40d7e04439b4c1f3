"""Subtitles from the speech's sentence timings: an ASS file to burn in and an SRT sidecar.

Lines are wrapped here, with the real font's glyph widths, rather than by libass: libass only
breaks at spaces, so Chinese or Japanese text would run off the frame. The text only ever
reaches FFmpeg inside the subtitle file, escaped for ASS, never inside the filter graph.
"""

import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from talking_head_dagster.media.fonts import Font, cjk_language
from talking_head_dagster.speech.timing import SentenceTiming

MAX_LINES = 2
# The usual Chinese subtitle norm: at most 16 characters a line (a half-width character counts half).
CJK_LINE_CHARS = 16
# Glyph widths from FreeType and libass's layout differ by a few percent; keep that much spare.
WIDTH_SLACK = 0.94
_WIDE = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"  # CJK, Hangul, full-width forms
# A token is one wide character, a run of other non-space characters, or a run of spaces.
_TOKEN = re.compile(rf"[{_WIDE}]|[^\s{_WIDE}]+|\s+")
# Closing punctuation hangs on the line before; opening punctuation goes down with what it opens.
_NO_LINE_START = set("，。！？、；：,.!?;:」』）)】》〉”’…")
_NO_LINE_END = set("“‘（(《「『【〈￥")
# A number keeps its unit or multiplier (2.97亿元, 4999元, 3月); 第 keeps its number (第2名).
_NUMBER_END = re.compile(r"\d[%％]?[万亿千百]*$")
_KEEPS_NUMBER = set("第")
# Evening out CJK lines: a break inside a phrase costs as much as lines of 11 and 9 characters instead of 10 and 10
# would, about; after punctuation or at a space it costs nothing.
PHRASE_BREAK_COST = 0.1
# Far above what evenness can gain (at most 1 a line): one more line is taken only in sentences of 10 lines or more.
LINE_COST = 10.0


@dataclass(frozen=True)
class SubtitleStyle:
    width: int
    height: int
    font: Font
    font_px: int
    margin_left: int
    margin_right: int
    margin_bottom: int


@dataclass(frozen=True)
class Caption:
    start_s: float
    end_s: float
    lines: list[str]


def clean_text(text: str) -> str:
    """Printable text on one line: control characters and line breaks become plain spaces."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def wrap(text: str, font: Font, font_px: int, max_width: int) -> list[str]:
    """Lines that fit ``max_width`` with the font's glyph widths, broken at spaces or between CJK characters.

    Steps: 1. tokens glued into units no line break may enter; 2. Latin text: greedy lines; CJK text
    also keeps to 16 characters a line; 3. CJK lines are as few as greedy filling makes, but evened out
    (no 14 + 2 split) and broken after punctuation where that costs little evenness.
    """
    # 1. Units.
    units = _units(clean_text(text))
    room = max_width * WIDTH_SLACK
    if not cjk_language(text):
        return _greedy(units, lambda line: font.text_width(line, font_px) <= room)

    # 2. Within both limits.
    def fill(line: str) -> float:
        return max(line_chars(line) / CJK_LINE_CHARS, font.text_width(line, font_px) / room)

    # 3. Evened out.
    return _even(units, fill)


def _even(units: list[str], fill) -> list[str]:
    """``units`` in the fewest lines that fit, as even as can be, broken after punctuation where that costs little.

    A line costs ``LINE_COST`` plus its unused share squared (equal lines cost least); a break that
    follows no punctuation or space adds ``PHRASE_BREAK_COST``.
    """
    n = len(units)
    best = [0.0] + [math.inf] * n  # best[i]: the cost of units[:i] in lines
    start = [0] * (n + 1)
    for i in range(1, n + 1):
        for j in range(i - 1, -1, -1):  # the last line is units[j:i]
            line = "".join(units[j:i]).strip()
            used = fill(line) if line else 0.0
            if used > 1.0 and i - j > 1:
                break  # longer lines fit no better; one unit too wide has a line of its own
            if not line or best[j] == math.inf:
                continue
            cost = best[j] + LINE_COST + (1.0 - min(used, 1.0)) ** 2
            if i < n and not (units[i - 1][-1] in _NO_LINE_START or units[i - 1].isspace() or units[i].isspace()):
                cost += PHRASE_BREAK_COST
            if cost < best[i]:
                best[i], start[i] = cost, j
    if best[n] == math.inf:
        return []
    lines, end = [], n
    while end > 0:
        lines.append("".join(units[start[end] : end]).strip())
        end = start[end]
    return lines[::-1]


def line_chars(line: str) -> float:
    """Characters in ``line`` as Chinese subtitles count them: half-width ones count half.

    Full-width characters count 1, and so do curly quotes and ellipses, drawn full-width by CJK fonts.
    """
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in line)


def _units(text: str) -> list[str]:
    """Tokens glued where no line may break: before closing or after opening punctuation, inside numbers."""
    units: list[str] = []
    for token in _TOKEN.findall(text):
        glue = bool(units) and (
            token[0] in _NO_LINE_START
            or units[-1][-1] in _NO_LINE_END
            or (bool(_NUMBER_END.search(units[-1])) and not token.isspace() and token[0] not in _NO_LINE_END)
            or (units[-1][-1] in _KEEPS_NUMBER and token[0].isdigit())
        )
        if glue and units[-1].isspace() and len(units) > 1:
            units[-2:] = [units[-2] + units[-1]]  # "word ." keeps its stop: the space goes with it
        if glue:
            units[-1] += token
        else:
            units.append(token)
    return units


def _greedy(units: list[str], fits) -> list[str]:
    """Lines filled unit by unit while ``fits``; a unit too wide for any line has one of its own."""
    lines: list[str] = []
    current = ""
    for unit in units:
        candidate = current + unit
        if not current.strip() or fits(candidate.strip()):
            current = candidate
            continue
        lines.append(current.strip())
        current = unit
    if current.strip():
        lines.append(current.strip())
    return lines


def captions(sentences: list[SentenceTiming], style: SubtitleStyle) -> list[Caption]:
    """One caption per sentence, split into parts of at most two lines timed by their share of characters.

    Characters the font cannot draw (an emoji in a script whose font has none) are left out.
    """
    max_width = style.width - style.margin_left - style.margin_right
    result: list[Caption] = []
    for sentence in sentences:
        lines = wrap(style.font.drawable(sentence.text), style.font, style.font_px, max_width)
        if not lines:
            continue
        groups = [lines[i : i + MAX_LINES] for i in range(0, len(lines), MAX_LINES)]
        total = sum(len("".join(group)) for group in groups)
        start = sentence.start_s
        span = sentence.end_s - sentence.start_s
        for group in groups:
            end = start + span * len("".join(group)) / total
            result.append(Caption(start_s=start, end_s=end, lines=group))
            start = end
    return result


def escape_ass(text: str) -> str:
    """Text libass shows as written: no override blocks, no ``\\N`` line breaks, no hard spaces."""
    text = text.replace("\\", "\\\u2060")  # a backslash followed by a word joiner starts no escape
    return text.replace("{", "\\{").replace("}", "\\}")


def ass_document(items: list[Caption], style: SubtitleStyle) -> str:
    """An ASS script sized to the video, white bold text with a black outline, bottom-centred."""
    outline = max(2, round(style.font_px * 0.08))
    shadow = max(1, round(style.font_px * 0.03))
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {style.width}",
        f"PlayResY: {style.height}",
        "WrapStyle: 2",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
        "Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Caption,{style.font.family},{style.font_px},&H00FFFFFF,&H00FFFFFF,&H00101010,&H80000000,"
        f"-1,0,0,0,100,100,0,0,1,{outline},{shadow},2,{style.margin_left},{style.margin_right},"
        f"{style.margin_bottom},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = [
        f"Dialogue: 0,{_ass_time(c.start_s)},{_ass_time(c.end_s)},Caption,,0,0,0,,"
        + "\\N".join(escape_ass(line) for line in c.lines)
        for c in items
    ]
    return "\n".join(header + events) + "\n"


def srt_document(sentences: list[SentenceTiming]) -> str:
    """One cue per sentence, at exactly the sentence's timing."""
    cues = []
    for number, sentence in enumerate((s for s in sentences if clean_text(s.text)), start=1):
        cues.append(
            f"{number}\n{_srt_time(sentence.start_s)} --> {_srt_time(sentence.end_s)}\n{clean_text(sentence.text)}\n"
        )
    return "\n".join(cues)


def write_subtitles(sentences: list[SentenceTiming], style: SubtitleStyle, ass_path: Path, srt_path: Path) -> int:
    """Write both files; returns how many captions the burned-in track has."""
    items = captions(sentences, style)
    ass_path.write_text(ass_document(items, style), encoding="utf-8")
    srt_path.write_text(srt_document(sentences), encoding="utf-8")
    return len(items)


def _ass_time(seconds: float) -> str:
    centis = _whole_units(seconds, 100)
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6000)
    return f"{hours}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


def _srt_time(seconds: float) -> str:
    millis = _whole_units(seconds, 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d},{rest % 1000:03d}"


def _whole_units(seconds: float, per_second: int) -> int:
    """``seconds`` in whole units, rounded half up from the decimal it is written as (3661.2345 s: 3661235 ms).

    ``round(seconds * 1000)`` would round half to even, on a product that has already been rounded in binary.
    """
    units = (Decimal(repr(seconds)) * per_second).quantize(Decimal(1), ROUND_HALF_UP)
    return max(0, int(units))
