"""Douyin links: which hosts are Douyin's, the item a link names, and the addresses the resolver builds.

The forms users paste (public Douyin parsers handle the same ones):

- ``https://v.douyin.com/<code>/``: the app's short link, a redirect to the share page of the item;
- ``https://www.douyin.com/video/<id>`` and ``https://www.douyin.com/note/<id>`` (a photo post);
- ``https://www.iesdouyin.com/share/video/<id>/`` (also ``/share/note/``, ``/share/slides/``);
- any Douyin page with ``?modal_id=<id>`` (the web app's feed and search pages).
"""

import itertools
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

# Host names (and their subdomains) that are Douyin's; "host:port" entries match exactly (tests' stand-in).
DEFAULT_HOSTS = ("douyin.com", "iesdouyin.com")
# The mobile share page, which embeds the item's data; {kind} is "video" or "note".
DEFAULT_SHARE_PAGE = "https://www.iesdouyin.com/share/{kind}/{id}/"
# What the share page is asked with: a phone's browser gets the server-rendered page with its data.
MOBILE_USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)

_KINDS = {"video": "video", "note": "note", "slides": "note"}


@dataclass(frozen=True)
class DouyinTarget:
    """One Douyin item: a video, or a photo post (``note``)."""

    kind: Literal["video", "note"]
    aweme_id: str

    def share_page(self, template: str = DEFAULT_SHARE_PAGE) -> str:
        return template.format(kind=self.kind, id=self.aweme_id)


def is_douyin(url: str, hosts: list[str] | tuple[str, ...] = DEFAULT_HOSTS) -> bool:
    """Whether ``url`` is on one of ``hosts`` (a name and its subdomains, or an exact ``host:port``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    netloc = parts.netloc.lower().rsplit("@", 1)[-1]
    for entry in (h.lower() for h in hosts):
        if ":" in entry and netloc == entry:
            return True
        if ":" not in entry and (host == entry or host.endswith(f".{entry}")):
            return True
    return False


def target_from_url(url: str) -> DouyinTarget | None:
    """The item ``url`` names by its path or ``modal_id``, or None (a short link names none yet)."""
    parts = urlsplit(url)
    modal = parse_qs(parts.query).get("modal_id", [""])[0]
    if modal.isdigit():
        return DouyinTarget("video", modal)
    segments = [s for s in parts.path.split("/") if s]
    for name, following in itertools.pairwise(segments):
        if name in _KINDS and following.isdigit():
            return DouyinTarget(_KINDS[name], following)  # type: ignore[arg-type]
    return None


def watermark_free(play_url: str) -> str:
    """The clean variant of a play address: ``/playwm/`` serves the watermarked video, ``/play/`` the original."""
    parts = urlsplit(play_url)
    return urlunsplit(parts._replace(path=parts.path.replace("playwm", "play")))
