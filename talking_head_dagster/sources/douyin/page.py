"""Reading a Douyin share page: the item's play address or photo-post images, or why there are none.

The mobile share page (``www.iesdouyin.com/share/video/<id>/``) embeds its data as
``<script>window._ROUTER_DATA = {...}</script>``. Public parsers read the item at
``loaderData["video_(id)/page"].videoInfoRes.item_list[0]`` (``note_(id)/page`` for a photo post),
some versions put it at ``videoInfoRes.aweme_detail``; the play address is at
``video.play_addr.url_list``, a photo post's images at ``images[].url_list``; a removed or private
item leaves ``item_list`` empty with the reason in ``filter_list[0]``. The layout changes now and
then, so several paths are tried, and an error names them when none fits.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from talking_head_dagster.errors import SourceBlockedError, SourceLayoutError, SourceRemovedError
from talking_head_dagster.sources.douyin.urls import watermark_free

_ROUTER_DATA = re.compile(r"window\._ROUTER_DATA\s*=\s*")
# What Douyin's verification (captcha) page says and loads, as public parsers and crawlers detect it.
VERIFICATION_MARKERS = ("验证码中间页", "请完成下列验证后继续", "waf-jschallenge", "verifycenter", "captcha")

# Where an item has sat in _ROUTER_DATA, newest layouts first; "*" is any page of loaderData.
ITEM_PATHS: list[tuple[str | int, ...]] = [
    ("loaderData", "video_(id)/page", "videoInfoRes", "item_list", 0),
    ("loaderData", "note_(id)/page", "videoInfoRes", "item_list", 0),
    ("loaderData", "*", "videoInfoRes", "item_list", 0),
    ("loaderData", "*", "videoInfoRes", "aweme_detail"),
    ("loaderData", "*", "aweme", "detail"),
]
FILTER_PATHS: list[tuple[str | int, ...]] = [
    ("loaderData", "*", "videoInfoRes", "filter_list", 0),
]
# Where an item's clean play address has sat; download_addr (watermarked) only when nothing else is there.
VIDEO_PATHS: list[tuple[str | int, ...]] = [
    ("video", "play_addr", "url_list"),
    ("video", "play_addr_h264", "url_list"),
    ("video", "bit_rate", 0, "play_addr", "url_list"),
    ("video", "download_addr", "url_list"),
]


@dataclass(frozen=True)
class DouyinItem:
    """What the share page says about one item."""

    aweme_id: str
    title: str = ""
    video_url: str | None = None
    image_urls: list[str] = field(default_factory=list)

    @property
    def is_photo_post(self) -> bool:
        return bool(self.image_urls)


def looks_like_verification(text: str) -> bool:
    """Whether a page is Douyin's verification (captcha) page rather than content."""
    return any(marker in text for marker in VERIFICATION_MARKERS) and "_ROUTER_DATA" not in text


def verification_error(aweme_id: str, what: str = "a captcha page") -> SourceBlockedError:
    item = f"item {aweme_id}" if aweme_id else "the video"
    return SourceBlockedError(
        f"Douyin asked for verification ({what}) instead of showing {item}; this usually lifts "
        "after a while. If it persists, configure a fresh cookies file (DOWNLOAD__COOKIES_FILE) or an "
        "external resolver (DOWNLOAD__DOUYIN__RESOLVER_URL)."
    )


def parse_share_page(html: str, aweme_id: str) -> DouyinItem:
    """The item on a share page; raises when the page is a verification, a removal or unreadable.

    Steps: 1. a verification page or an empty answer (Douyin's silent rate limit) is transient;
    2. the embedded JSON; 3. the item, or the reason it was filtered out (removed, private);
    4. its images (a photo post) or its play address, watermark-free.
    """
    # 1. Verification, silent rate limit.
    if not html.strip():
        raise SourceBlockedError(
            f"Douyin answered an empty page for item {aweme_id} (it does this when it rate-limits us); "
            "retrying later usually works."
        )
    if looks_like_verification(html):
        raise verification_error(aweme_id)
    # 2. The embedded data.
    data = _router_data(html)
    if data is None:
        raise SourceLayoutError(
            f"Douyin's share page for item {aweme_id} has no readable window._ROUTER_DATA: the page layout "
            "may have changed. Configure an external resolver (DOWNLOAD__DOUYIN__RESOLVER_URL) meanwhile."
        )
    # 3. The item, or why it is missing.
    item = _first(data, ITEM_PATHS)
    if not isinstance(item, dict):
        reason = _first(data, FILTER_PATHS)
        if isinstance(reason, dict):
            detail = next((reason[k] for k in ("detail_msg", "notice", "filter_reason") if reason.get(k)), "no reason")
            raise SourceRemovedError(
                f"Douyin says item {aweme_id} was removed or is private ({detail}); link a public video."
            )
        raise SourceLayoutError(
            f"Douyin's share page for item {aweme_id} has none of the item paths we read "
            f"({', '.join(_show(p) for p in ITEM_PATHS)}): the page layout may have changed. Configure an "
            "external resolver (DOWNLOAD__DOUYIN__RESOLVER_URL) meanwhile."
        )
    # 4. Images or a play address.
    title = str(item.get("desc") or item.get("preview_title") or "").strip()
    images = [url for image in item.get("images") or [] if isinstance(image, dict) and (url := _image_url(image))]
    if images:
        return DouyinItem(aweme_id, title, image_urls=images)
    urls = _first(item, VIDEO_PATHS)
    urls = urls if isinstance(urls, list) else []
    play = next((u for u in urls if isinstance(u, str) and u.startswith("http")), None)
    if play is None:
        raise SourceLayoutError(
            f"Douyin's data for item {aweme_id} has neither a play address "
            f"({', '.join(_show(p) for p in VIDEO_PATHS)}) nor images (images[].url_list): the layout may "
            "have changed. Configure an external resolver (DOWNLOAD__DOUYIN__RESOLVER_URL) meanwhile."
        )
    return DouyinItem(aweme_id, title, video_url=watermark_free(play))


def _router_data(html: str) -> dict | None:
    """The JSON object after ``window._ROUTER_DATA =`` (decoded up to its own end, whatever follows)."""
    match = _ROUTER_DATA.search(html)
    if match is None:
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(html, match.end())
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _first(data: Any, paths: list[tuple[str | int, ...]]) -> Any:
    for path in paths:
        for found in _walk(data, path):
            if found not in (None, [], {}, ""):
                return found
    return None


def _walk(node: Any, path: tuple[str | int, ...]):
    """Every value at ``path`` ("*" is any key of a mapping)."""
    if not path:
        yield node
        return
    step, rest = path[0], path[1:]
    if step == "*" and isinstance(node, dict):
        for value in node.values():
            yield from _walk(value, rest)
    elif (isinstance(step, int) and isinstance(node, list) and len(node) > step) or (
        isinstance(step, str) and isinstance(node, dict) and step in node
    ):
        yield from _walk(node[step], rest)


def _image_url(image: dict) -> str | None:
    """An image's address: JPEG or PNG before WebP (all decode; JPEG is what most variants serve)."""
    urls = [u for u in (image.get("url_list") or image.get("download_url_list") or []) if isinstance(u, str)]
    urls = [u for u in urls if u.startswith("http")]
    return next((u for u in urls if ".webp" not in u), urls[0] if urls else None)


def _show(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else (f".{step}" if i else step) for i, step in enumerate(path))
