"""public_url in the UI: a preview that opens the video, and a kind badge that says where it goes."""

import dagster as dg
import pytest

from talking_head_dagster.assets import RECORD_ASSETS
from talking_head_dagster.assets.composite_metadata import INLINE_MARKDOWN_CHARS
from talking_head_dagster.assets.public_url import NOT_PLAYABLE, preview, with_publish_kind
from talking_head_dagster.definitions import build_definitions
from talking_head_dagster.settings import Settings

URL = "http://127.0.0.1:3001/videos/local-abc/0123456789ab.mp4"
THUMBNAIL = "![thumbnail](data:image/webp;base64," + "A" * 400 + ")"


def test_the_preview_is_the_thumbnail_linking_to_the_video() -> None:
    shown = preview(URL, 12.5, 3 * 1024 * 1024, THUMBNAIL)
    assert isinstance(shown, dg.MarkdownMetadataValue)
    assert shown.value == f"[{THUMBNAIL}]({URL})" and len(shown.value) < INLINE_MARKDOWN_CHARS


def test_without_room_for_the_thumbnail_the_preview_is_a_text_link() -> None:
    too_big = "![thumbnail](data:image/webp;base64," + "A" * 990 + ")"
    for thumbnail in (too_big, None):
        assert preview(URL, 12.5, 3 * 1024 * 1024, thumbnail).value == f"[▶ Watch the video (12.50 s, 3.0 MiB)]({URL})"


def test_a_file_link_says_how_to_make_it_playable() -> None:
    assert preview("file:///srv/output/videos/a.mp4", 12.5, 1024, THUMBNAIL) == NOT_PLAYABLE


@pytest.mark.parametrize(("backend", "kinds"), [("local", {"folder"}), ("s3", {"s3"})])
def test_public_urls_kind_follows_the_publish_backend(backend: str, kinds: set[str]) -> None:
    specs = {a.key.to_user_string(): a.specs_by_key[a.key] for a in with_publish_kind(RECORD_ASSETS, backend)}
    assert specs["public_url"].kinds == kinds
    assert specs["composite"].kinds == {"ffmpeg"}  # the others as defined


def test_the_definitions_show_the_configured_kind(monkeypatch) -> None:
    monkeypatch.setenv("TALKING_HEAD_PUBLISH__BACKEND", "local")
    graph = build_definitions(Settings()).resolve_asset_graph()
    assert graph.get(dg.AssetKey("public_url")).kinds == {"folder"}
