"""Which font draws the subtitles, and how wide its text is."""

import shutil
from pathlib import Path

import matplotlib
import pytest
from matplotlib.ft2font import FT2Font

from talking_head_dagster.media.fonts import BUNDLED_FONT, font_candidates, load_font, pick_font

MATPLOTLIB_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
# Has a (placeholder) glyph for every code point, so it stands in for a CJK font.
ANY_SCRIPT = MATPLOTLIB_FONTS / "LastResortHE-Regular.ttf"
CHINESE = "大家好，欢迎来到我们的频道。"
LATIN = "Hello, world! It's 50% off: “quotes”, ‘these’ — (dashes) & more… ¿Qué? Ça va; naïve café."


def test_the_bundled_font_is_bold_dejavu_and_ships_with_the_project() -> None:
    font = load_font(BUNDLED_FONT)
    assert BUNDLED_FONT.is_file()
    assert font.family == "DejaVu Sans"
    assert FT2Font(str(BUNDLED_FONT)).style_name == "Bold"
    assert font.path == BUNDLED_FONT


def test_the_bundled_font_covers_latin_punctuation_but_not_chinese() -> None:
    font = load_font(BUNDLED_FONT)
    assert font.covers(LATIN)
    assert font.missing(LATIN) == ""
    assert not font.covers(CHINESE)
    assert font.missing("Hi 大家，好") == "".join(sorted("大家，好"))
    assert pick_font(LATIN, [BUNDLED_FONT]) == font
    assert pick_font(CHINESE, [BUNDLED_FONT]) is None


def test_spaces_of_any_kind_need_no_glyph() -> None:
    font = load_font(BUNDLED_FONT)
    assert font.covers("a\u3000b\u2003c\t")  # ideographic and em spaces count as spaces


def test_pick_font_skips_missing_paths_and_takes_the_first_that_covers(tmp_path: Path) -> None:
    missing = tmp_path / "configured.ttf"
    assert pick_font("Hello", [missing, BUNDLED_FONT]).path == BUNDLED_FONT
    assert pick_font(CHINESE, [missing, BUNDLED_FONT, ANY_SCRIPT]).path == ANY_SCRIPT
    assert pick_font("Hello", [missing, ANY_SCRIPT, BUNDLED_FONT]).path == ANY_SCRIPT
    assert pick_font(CHINESE, [missing]) is None
    assert pick_font("Hello", [tmp_path]) is None  # a folder is not a font


def test_candidates_are_the_configured_font_then_models_fonts_then_the_bundled_one(tmp_path: Path) -> None:
    fonts = tmp_path / "models" / "fonts"
    (fonts / "cjk").mkdir(parents=True)
    for name in ("b.ttf", "a.OTF", "cjk/c.ttc", "readme.txt", "d.woff2"):
        (fonts / name).write_bytes(b"")
    configured = tmp_path / "mine.ttf"
    expected_models = [fonts / "a.OTF", fonts / "b.ttf", fonts / "cjk" / "c.ttc"]
    assert font_candidates(configured, tmp_path / "models") == [configured, *expected_models, BUNDLED_FONT]
    assert font_candidates(None, tmp_path / "models") == [*expected_models, BUNDLED_FONT]
    assert font_candidates(configured, tmp_path / "nothing") == [configured, BUNDLED_FONT]


def test_a_font_dropped_into_models_fonts_draws_chinese(tmp_path: Path) -> None:
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copyfile(ANY_SCRIPT, fonts / "NotoSansCJK-Bold.ttf")
    chosen = pick_font(CHINESE, font_candidates(None, tmp_path))
    assert chosen is not None and chosen.path == (fonts / "NotoSansCJK-Bold.ttf").resolve()
    # Latin text still gets the configured font first.
    configured = MATPLOTLIB_FONTS / "DejaVuSerif-Bold.ttf"
    assert pick_font("Hello", font_candidates(configured, tmp_path)).family == "DejaVu Serif"


def test_text_width_grows_with_the_text_and_the_size() -> None:
    font = load_font(BUNDLED_FONT)
    assert font.text_width("", 60) == 0
    short, longer = font.text_width("Hello", 60), font.text_width("Hello, world", 60)
    assert 0 < short < longer
    # "W" is wider than "i" in a proportional font, and width scales with the pixel size.
    assert font.text_width("WWWW", 60) > 2 * font.text_width("iiii", 60)
    assert font.text_width("Hello, world", 120) == pytest.approx(2 * longer, rel=0.03)
    assert font.text_width("Hello, world", 30) == pytest.approx(longer / 2, rel=0.03)
    # About 0.6 em a character for bold DejaVu.
    assert 0.5 * 60 * 12 < longer < 0.8 * 60 * 12
