"""composite's inline thumbnail: the largest picture whose Markdown the UI still shows inline."""

import subprocess
from pathlib import Path

import pytest

from talking_head_dagster.assets import composite_metadata
from talking_head_dagster.assets.composite_metadata import INLINE_MARKDOWN_CHARS, inline_thumbnail
from talking_head_dagster.resources.ffmpeg import FFmpegResource


@pytest.fixture(scope="module")
def still(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> Path:
    png = tmp_path_factory.mktemp("thumb") / "thumbnail.png"
    source = "testsrc2=size=1080x1920:rate=1"
    subprocess.run([ffmpeg_exe, "-v", "error", "-f", "lavfi", "-i", source, "-frames:v", "1", str(png)], check=True)
    return png


def test_the_thumbnail_is_avif_under_the_inline_limit(still: Path) -> None:
    markdown = inline_thumbnail(still, FFmpegResource())
    assert markdown is not None and markdown.startswith("![thumbnail](data:image/avif;base64,")
    assert len(markdown) < INLINE_MARKDOWN_CHARS


def test_an_ffmpeg_without_avif_gives_webp(still: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    encoders = {**composite_metadata._ENCODERS, "avif": lambda quality: ["-c:v", "no_such_encoder"]}
    monkeypatch.setattr(composite_metadata, "_ENCODERS", encoders)
    markdown = inline_thumbnail(still, FFmpegResource())
    assert markdown is not None and markdown.startswith("![thumbnail](data:image/webp;base64,")


def test_a_limit_nothing_fits_gives_no_thumbnail(still: Path) -> None:
    assert inline_thumbnail(still, FFmpegResource(), limit=100) is None
