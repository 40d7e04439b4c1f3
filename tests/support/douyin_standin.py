"""A STAND-IN for Douyin on 127.0.0.1, for tests and benchmarks. It is not Douyin, and talks to nothing.

No machine here can reach Douyin, so the resolver (``talking_head_dagster/resources/douyin.py``) is
tested against this server. It answers the way public open-source Douyin parsers document Douyin
answering (parsers named ``DouyinParser``, reading ``window._ROUTER_DATA`` from ``iesdouyin.com``
share pages): the structure is theirs, every value here is made up.

Routes:

- ``GET /<code>/``: a short link (as ``v.douyin.com/<code>/``): 302 to the item's share page URL
  with the query the app adds (``/share/video/<id>/?region=CN&mid=...``; a photo post goes to
  ``/share/slides/<id>/``);
- ``GET /share/video/<id>/``, ``/share/note/<id>/``: the mobile share page, an HTML shell with
  ``<script>window._ROUTER_DATA = {...}</script>``: ``loaderData["video_(id)/page"]`` (or
  ``note_(id)/page``) ``.videoInfoRes.item_list[0]`` with ``video.play_addr.url_list`` (a
  ``/playwm/`` address) or, for a photo post, ``images[].url_list`` (and the music's address as
  ``play_addr``, as a photo post has);
- ``GET /aweme/v1/play/?video_id=<vid>``: 302 to the clean MP4; ``/aweme/v1/playwm/`` to a different
  ("watermarked") file, so a test can tell which one was taken;
- ``GET /media/<file>``: the files; ``POST /resolver``: a stand-in external resolver.

Items (ids are the constants below): a video, a photo post of three images, a removed video
(``item_list`` empty, the reason in ``filter_list``), a verification (captcha) page, a 429, a page
in an unknown layout (the client-rendered shell some parsers report), an empty 200 answer (a silent
rate limit), and a verification page that clears after one request (``FLAKY_ID``).

Using it from a test (the ``douyin_standin`` fixture in ``tests/conftest.py`` starts one per session):

- ``standin.share_text(VIDEO_ID)``: what a user pastes into the url cell (a share text around a
  short link to the stand-in); ``standin.short_link(id)`` the bare short link;
- ``standin.env()``: the ``TALKING_HEAD_*`` variables a deployment (daemon, run process) needs to
  resolve those links here: ``DOWNLOAD__ALLOWED_HOSTS``, ``DOWNLOAD__DOUYIN__HOSTS`` and
  ``DOWNLOAD__DOUYIN__SHARE_PAGE_URL``; ``standin.douyin_settings()`` the same as a
  ``DouyinSettings`` (set ``Settings.download.douyin`` to it and add ``standin.host`` to
  ``Settings.download.allowed_hosts``); ``standin.downloader_options()`` as ``VideoDownloader`` fields;
- ``standin.requests``: what the stand-in was asked (method, path, headers), for assertions.
"""

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.settings import DouyinSettings
from tests.support.douyin_pages import VERIFICATION_PAGE, loader_data, note_item, router_page, video_item
from tests.support.hostile_server import QuietReplies

VIDEO_ID = "7300000000000000001"
NOTE_ID = "7300000000000000002"
REMOVED_ID = "7300000000000000003"
VERIFY_ID = "7300000000000000004"
RATE_LIMITED_ID = "7300000000000000005"
LAYOUT_ID = "7300000000000000006"
EMPTY_ID = "7300000000000000007"
FLAKY_ID = "7300000000000000008"
IMAGE_COUNT = 3
RESOLVER_TOKEN = "stand-in-resolver-token"


@dataclass
class DouyinStandIn:
    """The running stand-in: its address, what it serves, and what it was asked."""

    base_url: str
    media: dict[str, Path]  # file name under /media/ -> file
    requests: list[dict] = field(default_factory=list)
    play_targets: dict[str, str] = field(default_factory=dict)  # item id -> play address (overrides)
    redirects: dict[str, str] = field(default_factory=dict)  # short code -> any URL
    served: dict[str, int] = field(default_factory=dict)  # item id -> share pages served
    resolver_answer: dict | None = None  # None: answer the clean play address; else this JSON (status 200)
    resolver_status: int = 200

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    def short_code(self, aweme_id: str) -> str:
        return "i" + hashlib.sha1(aweme_id.encode()).hexdigest()[:6]

    def short_link(self, aweme_id: str) -> str:
        return f"{self.base_url}/{self.short_code(aweme_id)}/"

    def share_text(self, aweme_id: str) -> str:
        """A share text as the Douyin app copies it, around a short link to the stand-in."""
        link = self.short_link(aweme_id)
        return f"7.94 复制打开抖音，看看【测试作者的作品】今天教大家做一道家常菜 # 美食 {link} x@G.ip 05/13"

    def redirect_link(self, target: str) -> str:
        """A short link that redirects to ``target`` (anywhere: the egress tests' forbidden hop)."""
        code = "r" + hashlib.sha1(target.encode()).hexdigest()[:6]
        self.redirects[code] = target
        return f"{self.base_url}/{code}/"

    def play_url(self, aweme_id: str, watermark: bool = True) -> str:
        variant = "playwm" if watermark else "play"
        return f"{self.base_url}/aweme/v1/{variant}/?video_id=v0200fg{aweme_id[-6:]}&ratio=720p&line=0"

    def douyin_settings(self, **overrides) -> DouyinSettings:
        return DouyinSettings(hosts=[self.host], share_page_url=f"{self.base_url}/share/{{kind}}/{{id}}/", **overrides)

    def downloader_options(self) -> dict:
        """``VideoDownloader`` fields that send Douyin links here (and allow this host)."""
        settings = self.douyin_settings()
        return {
            "allowed_hosts": [self.host],
            "douyin_hosts": settings.hosts,
            "douyin_share_page_url": settings.share_page_url,
        }

    def env(self, allowed_hosts: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
        """The deployment environment that resolves Douyin links here; ``allowed_hosts``: other hosts to allow."""
        settings = self.douyin_settings()
        return {
            "TALKING_HEAD_DOWNLOAD__ALLOWED_HOSTS": json.dumps([*allowed_hosts, self.host]),
            "TALKING_HEAD_DOWNLOAD__DOUYIN__HOSTS": json.dumps(settings.hosts),
            "TALKING_HEAD_DOWNLOAD__DOUYIN__SHARE_PAGE_URL": settings.share_page_url,
        }

    def asked(self, path_part: str) -> list[dict]:
        return [r for r in self.requests if path_part in r["path"]]

    def reset(self) -> None:
        self.requests.clear()
        self.served.clear()
        self.play_targets.clear()
        self.resolver_answer, self.resolver_status = None, 200

    # What each item's share page is.
    def share_page(self, kind: str, aweme_id: str) -> tuple[int, str]:
        served = self.served[aweme_id] = self.served.get(aweme_id, 0) + 1
        images = [f"{self.base_url}/media/photo{n}.jpeg" for n in range(IMAGE_COUNT)]
        if aweme_id == VERIFY_ID or (aweme_id == FLAKY_ID and served == 1):
            return 200, VERIFICATION_PAGE
        if aweme_id == RATE_LIMITED_ID:
            return 429, "Too Many Requests"
        if aweme_id == EMPTY_ID:
            return 200, ""
        if aweme_id == REMOVED_ID:
            reason = {"aweme_id": aweme_id, "filter_reason": "status_deleted", "detail_msg": "作品已删除"}
            return 200, router_page(loader_data("video_(id)/page", {"item_list": [], "filter_list": [reason]}))
        if aweme_id == LAYOUT_ID:
            return 200, router_page({"loaderData": {"video_(id)/page": {"itemId": aweme_id, "renderInSSR": 1}}})
        if aweme_id == NOTE_ID:
            item = note_item(aweme_id, images, f"{self.base_url}/media/music.mp3")
            return 200, router_page(loader_data("note_(id)/page", {"item_list": [item], "filter_list": []}))
        play = self.play_targets.get(aweme_id, self.play_url(aweme_id))
        item = video_item(aweme_id, play)
        return 200, router_page(loader_data(f"{kind}_(id)/page", {"item_list": [item], "filter_list": []}))

    def item_of_code(self, code: str) -> str | None:
        ids = (VIDEO_ID, NOTE_ID, REMOVED_ID, VERIFY_ID, RATE_LIMITED_ID, LAYOUT_ID, EMPTY_ID, FLAKY_ID)
        return next((i for i in ids if self.short_code(i) == code), None)


class _Handler(QuietReplies):
    standin: DouyinStandIn

    def do_GET(self) -> None:
        standin, parts = self._record(), urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s]
        query = parse_qs(parts.query)
        if len(segments) == 1 and segments[0] in standin.redirects:
            return self._redirect(standin.redirects[segments[0]])
        if len(segments) == 1 and (aweme_id := standin.item_of_code(segments[0])):
            kind = "slides" if aweme_id == NOTE_ID else "video"
            return self._redirect(f"/share/{kind}/{aweme_id}/?region=CN&mid=7300000000000000000&u_code=0")
        if len(segments) == 3 and segments[0] == "share" and segments[1] in ("video", "note"):
            status, page = standin.share_page(segments[1], segments[2])
            return self._send(status, page.encode(), "text/html; charset=utf-8")
        if parts.path.rstrip("/") in ("/aweme/v1/play", "/aweme/v1/playwm") and "video_id" in query:
            clean = parts.path.rstrip("/").endswith("/play")
            return self._redirect(f"/media/{'clip.mp4' if clean else 'watermarked.mp4'}")
        if len(segments) == 2 and segments[0] == "media" and segments[1] in standin.media:
            body = standin.media[segments[1]].read_bytes()
            kind = "video/mp4" if segments[1].endswith(".mp4") else "image/jpeg"
            return self._send(200, body, kind)
        return self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        standin = self._record()
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path != "/resolver" or body.get("token") != RESOLVER_TOKEN:
            return self._send(403, b'{"code": 403, "msg": "bad token"}', "application/json")
        if standin.resolver_status != 200:
            return self._send(standin.resolver_status, b'{"code": 500}', "application/json")
        answer = standin.resolver_answer or {"code": 200, "data": {"url": f"{standin.base_url}/media/external.mp4"}}
        return self._send(200, json.dumps(answer).encode(), "application/json")

    def _record(self) -> DouyinStandIn:
        self.standin.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
        return self.standin


@contextmanager
def serve_douyin_standin(media: dict[str, Path]) -> Iterator[DouyinStandIn]:
    """Run the stand-in on 127.0.0.1 (an ephemeral port) while the block runs.

    ``media`` must name ``clip.mp4`` (the clean video), ``watermarked.mp4``, ``external.mp4`` (what
    the stand-in resolver answers) and ``photo0.jpeg`` ... for the photo post.
    """
    handler = type("StandInHandler", (_Handler,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    standin = DouyinStandIn(f"http://127.0.0.1:{server.server_address[1]}", media)
    handler.standin = standin
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()


def standin_media(folder: Path, ffmpeg: str, clip: Path, make_clip) -> dict[str, Path]:
    """The stand-in's files: the tests' clip, two other clips, and photo-post images in three looks."""
    files = {"clip.mp4": clip}
    files["watermarked.mp4"] = make_clip(folder / "watermarked.mp4", ffmpeg, seconds=1.5, size="320x568")
    files["external.mp4"] = make_clip(folder / "external.mp4", ffmpeg, seconds=1.5, size="288x512")
    looks = ["testsrc2=size=1080x1440", "smptehdbars=size=1440x1080", "mandelbrot=size=1080x1440"]
    for n, look in enumerate(looks[:IMAGE_COUNT]):
        path = folder / f"photo{n}.jpeg"
        FFmpegResource(binary=ffmpeg).run(["-y", "-f", "lavfi", "-i", look, "-frames:v", "1", str(path)])
        files[path.name] = path
    return files
