"""Douyin without yt-dlp: our own resolver (short link, share page, play address), or an external one.

yt-dlp's Douyin extractor needs a request signature it does not compute, so Douyin links go here.
The built-in resolver follows the route public open-source Douyin parsers take (see
``sources/douyin/``); every request goes through ``GuardedHttp`` inside the egress guard, with the
downloader's redirect cap, byte and time limits. A photo post becomes a slideshow of its images.
"""

import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from talking_head_dagster.errors import (
    SourceBlockedError,
    SourceNotFoundError,
    SourceRemovedError,
    SourceUnavailableError,
    TalkingHeadError,
    UnsupportedSourceError,
)
from talking_head_dagster.media.slideshow import MAX_IMAGES, motion_summary, slideshow_args, slideshow_duration
from talking_head_dagster.resources.egress import EgressPolicy
from talking_head_dagster.resources.ffmpeg import FFmpegError, FFmpegResource
from talking_head_dagster.resources.guarded_http import GuardedHttp, guard_error
from talking_head_dagster.sources.douyin.external import describe_paths, play_url_from_answer, resolver_request
from talking_head_dagster.sources.douyin.page import (
    DouyinItem,
    looks_like_verification,
    parse_share_page,
    verification_error,
)
from talking_head_dagster.sources.douyin.urls import DouyinTarget, target_from_url
from talking_head_dagster.sources.downloaded import DownloadedSource

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8")


@dataclass(frozen=True)
class DouyinOptions:
    share_page_url: str
    user_agent: str
    resolver_url: str | None = None
    resolver_token: str | None = None
    seconds_per_image: float = 3.0


@dataclass(frozen=True)
class Limits:
    policy: EgressPolicy
    max_redirects: int
    max_bytes: int
    timeout_s: float
    cookies_file: str | None = None


class DouyinSource:
    def __init__(self, options: DouyinOptions, limits: Limits, ffmpeg: FFmpegResource) -> None:
        self.options = options
        self.limits = limits
        self.ffmpeg = ffmpeg

    def fetch(self, link: str, directory: Path) -> DownloadedSource:
        """Download the video (or photo post) behind a Douyin ``link`` into ``directory``.

        Steps: 1. the external resolver, when one is configured; 2. on its failure, or without one,
        the built-in resolver (an error then also says why the external one failed).
        """
        external_error: Exception | None = None
        # 1. External resolver.
        if self.options.resolver_url:
            try:
                return self._external(link, directory)
            except (TalkingHeadError, requests.RequestException, ValueError) as exc:
                external_error = exc
                for leftover in directory.glob("source.*"):
                    leftover.unlink()
        # 2. Built-in resolver.
        try:
            source = self._builtin(link, directory)
        except TalkingHeadError as exc:
            if external_error is None:
                raise
            raise type(exc)(f"{exc} (The external resolver failed first: {_brief(external_error)}.)") from exc
        if external_error is not None:
            source.notes.insert(0, f"The external resolver failed ({_brief(external_error)}); used the built-in one.")
        return source

    def _external(self, link: str, directory: Path) -> DownloadedSource:
        """The operator's resolver (trusted, so outside the egress checks) names the play address; we fetch it."""
        answer = requests.post(
            self.options.resolver_url,
            json=resolver_request(link, self.options.resolver_token),
            timeout=(10, min(60.0, self.limits.timeout_s)),
        )
        host = urlsplit(self.options.resolver_url).netloc
        if answer.status_code != 200:
            raise SourceUnavailableError(f"the external resolver at {host} answered HTTP {answer.status_code}")
        play = play_url_from_answer(answer.json())
        if play is None:
            raise UnsupportedSourceError(
                f"the external resolver at {host} answered no play address ({describe_paths()})"
            )
        path = directory / "source.mp4"
        with self._http() as http:
            http.download(play, path)
        _check_video(path, "the external resolver's play address")
        return DownloadedSource(path, "Douyin video (external resolver)")

    def _builtin(self, link: str, directory: Path) -> DownloadedSource:
        """Steps: 1. the item id, from the link or its short-link redirects; 2. the share page and its
        data; 3. the video from its watermark-free play address, or 4. the photo post's images as a slideshow."""
        with tempfile.TemporaryDirectory(prefix="douyin-images-") as scratch:
            with self._http() as http:
                # 1. The item.
                target = target_from_url(link) or self._follow_short_link(http, link)
                # 2. The share page.
                item = self._item(http, target)
                # 3. A video.
                if not item.is_photo_post:
                    path = directory / "source.mp4"
                    http.download(item.video_url, path)
                    _check_video(path, f"Douyin's play address of item {item.aweme_id}", item.aweme_id)
                    return DownloadedSource(path, "Douyin video (built-in resolver)")
                # 4. A photo post: its images, then (outside the guard) FFmpeg.
                images = self._images(http, item, Path(scratch))
            return self._slideshow(item, images, directory)

    def _follow_short_link(self, http: GuardedHttp, link: str) -> DouyinTarget:
        fetched = http.follow(link, stop=lambda url: target_from_url(url) is not None)
        target = target_from_url(fetched.url)
        if target is not None:
            return target
        if fetched.status in (404, 410):
            raise SourceNotFoundError(
                f"The Douyin link {link[:120]} answers 'not found': it may be mistyped or expired."
            )
        if fetched.status == 429:
            raise SourceBlockedError(
                f"Douyin rate-limited us (HTTP 429) on the short link {link[:120]}; it usually lifts after a while."
            )
        if fetched.status >= 500:
            raise SourceUnavailableError(f"Douyin answered HTTP {fetched.status} on {link[:120]}; retrying later.")
        raise UnsupportedSourceError(
            f"The Douyin link {link[:120]} leads to no video or photo post (it ends at {fetched.url[:120]}): paste "
            "the share link from the app, or a douyin.com/video/<id> link."
        )

    def _item(self, http: GuardedHttp, target: DouyinTarget) -> DouyinItem:
        page = http.get_page(target.share_page(self.options.share_page_url))
        if page.status == 429:
            raise SourceBlockedError(
                f"Douyin rate-limited us (HTTP 429) on the share page of item {target.aweme_id}; it usually "
                "lifts after a while."
            )
        if page.status in (404, 410):
            raise SourceRemovedError(
                f"Douyin has no item {target.aweme_id} (HTTP {page.status}): it was removed or the link is wrong."
            )
        if page.status >= 500:
            raise SourceUnavailableError(
                f"Douyin answered HTTP {page.status} on the share page of item {target.aweme_id}."
            )
        if page.status == 403 and not looks_like_verification(page.text):
            raise SourceBlockedError(
                f"Douyin refused the share page of item {target.aweme_id} (HTTP 403); retrying later."
            )
        return parse_share_page(page.text, target.aweme_id)

    def _images(self, http: GuardedHttp, item: DouyinItem, folder: Path) -> list[Path]:
        images, budget = [], self.limits.max_bytes
        for n, url in enumerate(item.image_urls[:MAX_IMAGES]):
            path = folder / f"{n:02d}.image"
            http.download(url, path, budget=budget)
            budget -= path.stat().st_size
            head = path.read_bytes()[:512]
            if not (head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")):
                if looks_like_verification(head.decode("utf-8", "replace")):
                    raise verification_error(item.aweme_id, "a captcha page instead of an image")
                raise UnsupportedSourceError(f"Image {n + 1} of Douyin photo post {item.aweme_id} is not an image.")
            images.append(path)
        return images

    def _slideshow(self, item: DouyinItem, images: list[Path], directory: Path) -> DownloadedSource:
        path = directory / "source.mp4"
        seconds = self.options.seconds_per_image
        try:
            self.ffmpeg.run(slideshow_args(images, path, seconds_per_image=seconds))
        except FFmpegError as exc:
            raise UnsupportedSourceError(
                f"The images of Douyin photo post {item.aweme_id} could not be read: {exc}"
            ) from exc
        total = len(item.image_urls)
        kind = f"Douyin photo post: slideshow of {len(images)} images"
        if total > len(images):
            kind += f" (the first {len(images)} of {total})"
        note = (
            f"{kind}, {seconds:g} s each ({slideshow_duration(len(images), seconds, 0.5):.1f} s), "
            f"motions: {motion_summary(len(images))}"
        )
        return DownloadedSource(path, kind, [note])

    def _http(self) -> AbstractContextManager[GuardedHttp]:
        return _guarded(self.limits, self.options.user_agent)


@contextmanager
def _guarded(limits: Limits, user_agent: str) -> Iterator[GuardedHttp]:
    """``GuardedHttp`` inside the egress guard; connection failures become the errors a row can show."""
    with limits.policy.guard(limits.timeout_s) as state:
        try:
            yield GuardedHttp(
                limits.policy,
                max_redirects=limits.max_redirects,
                max_bytes=limits.max_bytes,
                timeout_s=limits.timeout_s,
                user_agent=user_agent,
                cookies_file=limits.cookies_file,
                site="Douyin",
            )
        except (requests.RequestException, OSError) as exc:
            raise guard_error(state, limits.timeout_s) or SourceUnavailableError(
                f"Douyin could not be reached for now: {type(exc).__name__}."
            ) from exc


def _check_video(path: Path, what: str, aweme_id: str = "") -> None:
    """A captcha page served in place of the video is transient; another web page is not a video."""
    head = path.read_bytes()[:2048]
    if head[4:8] == b"ftyp":
        return
    text = head.decode("utf-8", "replace")
    if looks_like_verification(text):
        raise verification_error(aweme_id, "a captcha page instead of the video file")
    if text.lstrip().startswith("<"):
        raise UnsupportedSourceError(f"{what} answered a web page, not a video.")


def _brief(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
