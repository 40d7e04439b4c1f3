"""Which font draws the subtitles, and how wide its text is."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
from matplotlib.ft2font import FT2Font

from talking_head_dagster.media.fonts import (
    BUNDLED_CJK_FONT,
    BUNDLED_FONT,
    cjk_language,
    face_families,
    face_for,
    font_candidates,
    load_font,
    missing_glyphs,
    pick_font,
)
from talking_head_dagster.media.subtitles import SubtitleStyle, ass_document, captions
from talking_head_dagster.speech.timing import SentenceTiming

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
    bundled = [BUNDLED_FONT, BUNDLED_CJK_FONT]
    assert font_candidates(configured, tmp_path / "models") == [configured, *expected_models, *bundled]
    assert font_candidates(None, tmp_path / "models") == [*expected_models, *bundled]
    assert font_candidates(configured, tmp_path / "nothing") == [configured, *bundled]


def test_a_font_dropped_into_models_fonts_draws_chinese(tmp_path: Path) -> None:
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copyfile(ANY_SCRIPT, fonts / "NotoSansCJK-Bold.ttf")
    chosen = pick_font(CHINESE, font_candidates(None, tmp_path))
    assert chosen is not None and chosen.path == (fonts / "NotoSansCJK-Bold.ttf").resolve()
    # Before the bundled CJK font, which would otherwise draw it.
    assert pick_font(CHINESE, font_candidates(None, tmp_path / "elsewhere")).path == BUNDLED_CJK_FONT.resolve()
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


# --- the bundled CJK font -----------------------------------------------------------------------

JAPANESE = "こんにちは、今日は三つのコツを話します。"
KOREAN = "안녕하세요, 오늘은 세 가지 팁입니다."


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (CHINESE, "zh"),
        ("我们用 Python 写代码，也用 Dagster。", "zh"),
        (JAPANESE, "ja"),
        ("東京タワー", "ja"),  # kana makes Han characters Japanese
        (KOREAN, "ko"),
        (LATIN, None),
        ("", None),
    ],
)
def test_cjk_language_comes_from_the_writing_system(text: str, language: str | None) -> None:
    assert cjk_language(text) == language


@pytest.mark.parametrize(
    ("text", "family"),
    [
        (CHINESE, "Noto Sans CJK SC"),
        ("价格 2.97亿元，iPhone 15 售价 4999 元（约 $699）。", "Noto Sans CJK SC"),
        (JAPANESE, "Noto Sans CJK JP"),
        (KOREAN, "Noto Sans CJK KR"),
        (LATIN, "DejaVu Sans"),
    ],
)
def test_with_no_setting_each_script_gets_a_bundled_font_in_its_own_face(
    tmp_path: Path, text: str, family: str
) -> None:
    font = pick_font(text, font_candidates(None, tmp_path))
    assert font is not None and font.family == family
    assert FT2Font(str(font.path), face_index=font.face_index).family_name == family
    assert font.text_width(text, 60) > 0


def test_the_cjk_collection_ships_in_a_package_and_its_faces_draw_different_forms() -> None:
    assert BUNDLED_CJK_FONT.name == "NotoSansCJK-Regular.ttc" and BUNDLED_CJK_FONT.is_file()
    first = FT2Font(str(BUNDLED_CJK_FONT))
    assert first.num_faces > 4 and first.family_name == "Noto Sans CJK JP"  # face 0 is not the Chinese one
    chinese = face_for(BUNDLED_CJK_FONT, "zh")
    families = [FT2Font(str(BUNDLED_CJK_FONT), face_index=i).family_name for i in range(first.num_faces)]
    assert families[chinese] == "Noto Sans CJK SC"
    assert "Noto Sans Mono CJK SC" in families  # tagged SC too, but monospaced: not chosen
    # The faces map the same character to different glyphs: the simplified form of 骨 is not the Japanese one.
    sc_glyph = FT2Font(str(BUNDLED_CJK_FONT), face_index=chinese).get_char_index(ord("骨"))
    assert sc_glyph != first.get_char_index(ord("骨"))
    # A font of one face, or a language no face is tagged for, uses face 0.
    assert face_for(BUNDLED_FONT, "zh") == 0
    assert face_for(BUNDLED_CJK_FONT, None) == 0


def test_libass_draws_the_face_the_font_was_measured_in(tmp_path: Path, ffmpeg_exe: str) -> None:
    """The composite's way: the file in a fonts folder, the ASS style naming the chosen face's family."""
    text = "骨直说：价格是4999元。"
    font = pick_font(text, font_candidates(None, tmp_path))
    (tmp_path / "fonts").mkdir()
    shutil.copyfile(font.path, tmp_path / "fonts" / font.path.name)
    style = SubtitleStyle(
        width=360, height=640, font=font, font_px=30, margin_left=20, margin_right=20, margin_bottom=40
    )
    items = captions([SentenceTiming(index=0, text=text, start_s=0.0, end_s=1.0)], style)
    (tmp_path / "s.ass").write_text(ass_document(items, style), encoding="utf-8")
    source = ["-f", "lavfi", "-i", "color=size=360x640:duration=0.2"]
    burn = ["-vf", "subtitles=s.ass:fontsdir=fonts", "-frames:v", "1", "-f", "null", "-"]
    run = subprocess.run(
        [ffmpeg_exe, "-hide_banner", "-v", "verbose", *source, *burn],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    chosen = re.search(r"fontselect: \(Noto Sans CJK SC, \d+, \d+\) -> (\S+), (\d+), (\S+)", run.stderr)
    assert chosen, run.stderr[-2000:]
    assert int(chosen.group(2)) == font.face_index
    assert chosen.group(3) == FT2Font(str(font.path), face_index=font.face_index).postscript_name


def test_symbols_no_font_has_are_left_out_but_letters_are_not(tmp_path: Path) -> None:
    candidates = font_candidates(None, tmp_path)
    # Emoji are in neither bundled font: the CJK one still draws the rest, which is what gets burned in.
    font = pick_font("大家好🎉，欢迎！", candidates)
    assert font is not None and font.family == "Noto Sans CJK SC"
    assert font.missing("大家好🎉，欢迎！") == "🎉"
    assert font.drawable("大家好🎉，欢迎！ A") == "大家好，欢迎！ A"
    assert pick_font("Hello 👋", candidates).family == "DejaVu Sans"
    # Letters of a script no font has are not dropped: no font is chosen, and the message says what is missing.
    assert pick_font("大家好 ሰላም", candidates) is None
    assert missing_glyphs("大家好 ሰላም", candidates) == "Noto Sans CJK SC lacks ላ ም ሰ"
    assert missing_glyphs("x", [tmp_path / "none.ttf"]) == "no font file found"


def test_a_file_that_is_no_font_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken.ttf").write_text("not a font")
    assert pick_font("Hello", [tmp_path / "broken.ttf", BUNDLED_FONT]).path == BUNDLED_FONT
    assert face_families(BUNDLED_FONT) == ["DejaVu Sans"]
    assert face_families(BUNDLED_CJK_FONT)[:4] == [f"Noto Sans CJK {tag}" for tag in ("JP", "KR", "SC", "TC")]


def test_importing_the_module_reads_no_font_and_imports_no_matplotlib() -> None:
    code = "import sys, talking_head_dagster.media.fonts as f; print('matplotlib' in sys.modules, f.BUNDLED_CJK_FONT)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", str(BUNDLED_CJK_FONT)]
