"""Subtitle fonts: which file (and which face of a collection) draws a given text, and how wide a line is.

Candidates, in order: the configured font, fonts under ``models/fonts/``, then two that ship in
installed packages: DejaVu Sans Bold (matplotlib's wheel: Latin, Greek, Cyrillic) and Noto Sans CJK
(the ``noto-cjk-sans-otc`` wheel, OFL-1.1: Chinese, Japanese, Korean). The first font with a glyph
for every character of the text is chosen (or, failing that, for every one but emoji and other
symbols, which the burned-in subtitles then leave out), so Latin text keeps DejaVu Sans Bold and a Chinese script
gets Noto Sans CJK with no setting. A collection (``.ttc``) holds one face per language: the face
whose family names the text's language (``SC`` for Chinese, ``JP`` for Japanese, ``KR`` for Korean)
is measured here, and libass draws the same face because the ASS style names that family.

The paths are found without importing matplotlib or opening a font: a process that draws no
subtitles pays for neither.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.ft2font import FT2Font

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def _package_file(package: str, *parts: str) -> Path | None:
    """A file inside an installed package, located without importing the package."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0], *parts)


BUNDLED_FONT = _package_file("matplotlib", "mpl-data", "fonts", "ttf", "DejaVuSans-Bold.ttf")
BUNDLED_CJK_FONT = _package_file("noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc")
# The family-name tag of a collection's face for each CJK language (Noto, Source Han and others).
FACE_TAGS = {"zh": ("SC", "CN"), "ja": ("JP", "J"), "ko": ("KR", "K")}
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Font:
    path: Path
    family: str
    codepoints: frozenset[int] = field(repr=False)
    face_index: int = 0

    def covers(self, text: str) -> bool:
        return all(ord(ch) in self.codepoints for ch in text if not ch.isspace())

    def missing(self, text: str) -> str:
        return "".join(sorted({ch for ch in text if not ch.isspace() and ord(ch) not in self.codepoints}))

    def drawable(self, text: str) -> str:
        """``text`` without the characters this font has no glyph for."""
        return "".join(ch for ch in text if ch.isspace() or ord(ch) in self.codepoints)

    def text_width(self, text: str, size_px: int) -> float:
        """Advance width of ``text`` at ``size_px`` pixels per em: the sum of its characters' advances.

        Kerning would only narrow a pair, so the sum errs on the wide side. Advances are cached per
        character: line breaking measures the same characters many times.
        """
        return sum(_advance(self.path, self.face_index, size_px, ch) for ch in text)


@cache
def _face(path: Path, index: int = 0) -> "FT2Font":
    from matplotlib.ft2font import FT2Font

    return FT2Font(str(path), face_index=index)


@cache
def _advance(path: Path, index: int, size_px: int, char: str) -> float:
    face = _face(path, index)
    face.set_size(size_px, 72)
    return face.load_char(ord(char)).linearHoriAdvance / 65536


@cache
def load_font(path: Path, face_index: int = 0) -> Font:
    face = _face(path, face_index)
    return Font(path=path, family=face.family_name, codepoints=frozenset(face.get_charmap()), face_index=face_index)


def cjk_language(text: str) -> str | None:
    """``ja`` for text with kana, ``ko`` with Hangul, ``zh`` with Han characters alone; None without any."""
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    return "zh" if _HAN.search(text) else None


def face_for(path: Path, language: str | None) -> int:
    """The face of ``path`` for ``language``: in a collection, the first non-monospaced face tagged for it."""
    count = _face(path).num_faces
    tags = FACE_TAGS.get(language or "", ())
    for index in range(count if count > 1 else 0):
        words = _face(path, index).family_name.split()
        if words and words[-1] in tags and "Mono" not in words:
            return index
    return 0


def face_families(path: Path) -> list[str]:
    """The family name of each face in a font file (one for a plain font, several for a collection)."""
    return [_face(path, index).family_name for index in range(_face(path).num_faces)]


def font_candidates(configured: Path | None, models_dir: Path) -> list[Path]:
    """The configured font first, then fonts the user put under ``models/fonts``, then the bundled ones."""
    candidates: list[Path] = []
    if configured:
        candidates.append(configured)
    fonts_dir = models_dir / "fonts"
    if fonts_dir.is_dir():
        candidates += sorted(p for p in fonts_dir.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
    candidates += [path for path in (BUNDLED_FONT, BUNDLED_CJK_FONT) if path is not None]
    return candidates


def pick_font(text: str, candidates: list[Path]) -> Font | None:
    """The first candidate with a glyph for every character of ``text`` (in its language's face), or None.

    When none has them all, the first that draws everything but symbols (emoji, say) will do: the
    burned-in subtitles then leave those out.
    """
    font = next((font for font in _faces_for(text, candidates) if font.covers(text)), None)
    if font is None:
        words = "".join(ch for ch in text if unicodedata.category(ch)[0] != "S")
        font = next((font for font in _faces_for(text, candidates) if font.covers(words)), None)
    return font


def missing_glyphs(text: str, candidates: list[Path]) -> str:
    """For a text no candidate covers: the font that covers most of it and what it lacks, in a few words."""
    fonts = list(_faces_for(text, candidates))
    if not fonts:
        return "no font file found"
    closest = min(fonts, key=lambda font: len(font.missing(text)))
    missing = closest.missing(text)
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    return f"{closest.family} lacks {' '.join(missing[:10])}{more}"


def _faces_for(text: str, candidates: list[Path]) -> Iterator[Font]:
    """Each candidate file that exists, in the face for the text's language.

    Files FreeType cannot read are skipped; ``talking-head doctor`` names them.
    """
    language = cjk_language(text)
    for path in candidates:
        if path.is_file():
            resolved = path.resolve()
            try:
                font = load_font(resolved, face_for(resolved, language))
            except RuntimeError:  # FreeType's "FT_Open_Face failed": not a font
                continue
            yield font
