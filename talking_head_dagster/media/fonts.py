"""Subtitle fonts: which file draws a given text, and how wide a line is in it.

The default is DejaVu Sans Bold from matplotlib's wheel (installed with the project, so the
embedded default needs no system fonts). It has no Chinese or Japanese glyphs: for those, set
``TALKING_HEAD_COMPOSITE__SUBTITLE_FONT`` or drop a font (e.g. Noto Sans CJK) into
``models/fonts/``. A font is only chosen if it has a glyph for every character of the text.
"""

from dataclasses import dataclass, field
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.ft2font import FT2Font

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
# Found without importing matplotlib (0.7 s): every run process imports this module, only the composite reads fonts.
_MATPLOTLIB = Path(find_spec("matplotlib").submodule_search_locations[0])
BUNDLED_FONT = _MATPLOTLIB / "mpl-data" / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"


@dataclass(frozen=True)
class Font:
    path: Path
    family: str
    codepoints: frozenset[int] = field(repr=False)

    def covers(self, text: str) -> bool:
        return all(ord(ch) in self.codepoints for ch in text if not ch.isspace())

    def missing(self, text: str) -> str:
        return "".join(sorted({ch for ch in text if not ch.isspace() and ord(ch) not in self.codepoints}))

    def text_width(self, text: str, size_px: int) -> float:
        """Advance width of ``text`` at ``size_px`` pixels per em."""
        face = _face(self.path)
        face.set_size(size_px, 72)
        face.set_text(text, 0.0)
        width, _height = face.get_width_height()
        return width / 64


@cache
def _face(path: Path) -> "FT2Font":
    from matplotlib.ft2font import FT2Font

    return FT2Font(str(path))


@cache
def load_font(path: Path) -> Font:
    face = _face(path)
    return Font(path=path, family=face.family_name, codepoints=frozenset(face.get_charmap()))


def font_candidates(configured: Path | None, models_dir: Path) -> list[Path]:
    """The configured font first, then fonts the user put under ``models/fonts``, then the bundled one."""
    candidates: list[Path] = []
    if configured:
        candidates.append(configured)
    fonts_dir = models_dir / "fonts"
    if fonts_dir.is_dir():
        candidates += sorted(p for p in fonts_dir.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
    candidates.append(BUNDLED_FONT)
    return candidates


def pick_font(text: str, candidates: list[Path]) -> Font | None:
    """The first candidate with a glyph for every character of ``text``, or None."""
    for path in candidates:
        if not path.is_file():
            continue
        font = load_font(path.resolve())
        if font.covers(text):
            return font
    return None
