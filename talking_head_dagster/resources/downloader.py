"""Source video download: Douyin through our own resolver (resources/douyin.py), every other site with yt-dlp."""

import re
import time
from pathlib import Path

import dagster as dg
import requests

from talking_head_dagster.errors import (
    PermanentInputError,
    SourceTooLargeError,
    SourceUnavailableError,
    TalkingHeadError,
    UnsupportedSourceError,
)
from talking_head_dagster.resources.douyin import DouyinOptions, DouyinSource, Limits
from talking_head_dagster.resources.egress import EgressPolicy
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.resources.guarded_http import GuardedHttp, status_error
from talking_head_dagster.resources.guarded_http import guard_error as _guard_error
from talking_head_dagster.sources.douyin.urls import DEFAULT_HOSTS, DEFAULT_SHARE_PAGE, MOBILE_USER_AGENT, is_douyin
from talking_head_dagster.sources.downloaded import DownloadedSource


class _LimitExceeded(Exception):
    pass


class _Messages:
    """yt-dlp's logger: keeps what it says, so a silent skip can be explained to the user."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, message: str) -> None:
        self.lines.append(message)

    info = warning = error = debug

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)


class VideoDownloader(dg.ConfigurableResource):
    max_bytes: int = 500 * 1024 * 1024
    timeout_s: float = 300.0
    max_redirects: int = 5
    # host or host:port reachable although not public (see resources/egress.py); empty in production.
    allowed_hosts: list[str] = []
    cookies_file: str | None = None
    ffmpeg_binary: str | None = None
    # Douyin (resources/douyin.py): its hosts, its share page, and an optional external resolver.
    douyin_hosts: list[str] = list(DEFAULT_HOSTS)
    douyin_share_page_url: str = DEFAULT_SHARE_PAGE
    douyin_user_agent: str = MOBILE_USER_AGENT
    douyin_resolver_url: str | None = None
    douyin_resolver_token: str | None = None  # a secret: an EnvVar in deployments
    slideshow_seconds_per_image: float = 3.0

    def fetch(self, url: str, directory: Path) -> DownloadedSource:
        """Download the video at ``url`` into ``directory``: Douyin links with our resolver, the rest with yt-dlp."""
        url = url.strip()
        if is_douyin(url, self.douyin_hosts):
            options = DouyinOptions(
                share_page_url=self.douyin_share_page_url,
                user_agent=self.douyin_user_agent,
                resolver_url=self.douyin_resolver_url,
                resolver_token=self.douyin_resolver_token,
                seconds_per_image=self.slideshow_seconds_per_image,
            )
            limits = Limits(
                EgressPolicy(self.allowed_hosts), self.max_redirects, self.max_bytes, self.timeout_s, self.cookies_file
            )
            return DouyinSource(options, limits, FFmpegResource(binary=self.ffmpeg_binary)).fetch(url, directory)
        return DownloadedSource(self.download(url, directory), "yt-dlp")

    def download(self, url: str, directory: Path) -> Path:
        """Download ``url`` with yt-dlp into ``directory`` and return the file; raise a user-facing error otherwise.

        Steps: 1. check the URL and follow its redirects ourselves, checking every hop's host and
        capping the hops; 2. run yt-dlp on the final URL under the egress guard, with a progress
        hook that enforces the byte and time limits while the bytes arrive; 3. map yt-dlp's
        failures onto permanent or transient errors with a message a user can act on; 4. check
        what was written.
        """
        import yt_dlp  # here, not at the top: only the download stage pays for importing yt-dlp
        from yt_dlp.utils import DownloadError

        policy = EgressPolicy(self.allowed_hosts)
        started = time.monotonic()
        with policy.guard(self.timeout_s) as guard:
            # 1. The URL and its redirects.
            try:
                final_url = self._follow_redirects(url.strip(), policy)
            except requests.RequestException as exc:
                raise _guard_error(guard, self.timeout_s) or SourceUnavailableError(
                    f"The source URL {url[:120]} could not be reached for now: {type(exc).__name__}."
                ) from exc

            # 2. Download under limits.
            def enforce_limits(progress: dict) -> None:
                done = progress.get("downloaded_bytes") or 0
                expected = progress.get("total_bytes") or 0
                if max(done, expected) > self.max_bytes:
                    raise _LimitExceeded(f"The source video is larger than the limit of {self._limit_text()}.")
                if time.monotonic() - started > self.timeout_s:
                    raise _LimitExceeded(f"Downloading the source video took longer than {self.timeout_s:.0f} s.")

            messages = _Messages()
            try:
                with yt_dlp.YoutubeDL(self._options(directory, messages, enforce_limits)) as ydl:
                    info = ydl.extract_info(final_url, download=True)
            except _LimitExceeded as exc:
                raise SourceTooLargeError(str(exc)) from exc
            except DownloadError as exc:
                cause = exc.exc_info[1] if exc.exc_info else None
                if isinstance(cause, _LimitExceeded):
                    raise SourceTooLargeError(str(cause)) from exc
                # 3. What went wrong, in the user's terms.
                raise _guard_error(guard, self.timeout_s) or _classify(url, str(exc), self._limit_text()) from exc
            except OSError as exc:
                raise _guard_error(guard, self.timeout_s) or SourceUnavailableError(
                    f"Downloading {url[:120]} failed for now: {exc}"
                ) from exc

        # 4. yt-dlp skips (without error) a file whose announced size exceeds max_filesize.
        files = [p for p in directory.glob("source.*") if not p.name.endswith((".part", ".ytdl"))]
        if not files and messages.said("larger than max-filesize"):
            raise SourceTooLargeError(f"The source video is larger than the limit of {self._limit_text()}.")
        if not files:
            raise SourceTooLargeError(
                f"Nothing was downloaded from {url}: the video may be larger than {self._limit_text()}."
            )
        path = max(files, key=lambda p: p.stat().st_size)
        if not path.resolve().is_relative_to(directory.resolve()):
            raise UnsupportedSourceError(f"The downloaded file name {path.name!r} is not usable.")
        if path.stat().st_size > self.max_bytes:
            raise SourceTooLargeError(f"The source video is larger than the limit of {self._limit_text()}.")
        if info and info.get("_type") == "playlist":
            raise UnsupportedSourceError("The source URL is a playlist; link a single video.")
        return path

    def _follow_redirects(self, url: str, policy: EgressPolicy) -> str:
        """The URL the redirect chain ends at, every hop checked, at most ``max_redirects`` hops.

        yt-dlp would follow redirects itself, without a cap and without asking; it gets the end of
        the chain instead (the egress guard still watches whatever it fetches).
        """
        from yt_dlp.utils.networking import std_headers

        http = GuardedHttp(
            policy,
            max_redirects=self.max_redirects,
            max_bytes=self.max_bytes,
            timeout_s=self.timeout_s,
            user_agent=std_headers["User-Agent"],
        )
        return http.follow(url).url

    def _options(self, directory: Path, messages: "_Messages", enforce_limits) -> dict:
        options = {
            "logger": messages,
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "noplaylist": True,
            "max_filesize": self.max_bytes,
            "socket_timeout": 30,
            "retries": 3,
            "outtmpl": str(directory / "source.%(ext)s"),
            "restrictfilenames": True,
            "format": "bv*+ba/b",
            "merge_output_format": "mp4",
            # Every byte through yt-dlp's own (guarded) networking, one fragment at a time, in this thread.
            "external_downloader": {"default": "native"},
            "concurrent_fragment_downloads": 1,
            "progress_hooks": [enforce_limits],
            "ffmpeg_location": self._ffmpeg(),
        }
        if self.cookies_file:
            options["cookiefile"] = self.cookies_file
        return options

    def _limit_text(self) -> str:
        return f"{self.max_bytes / 1024 / 1024:.0f} MiB"

    def _ffmpeg(self) -> str:
        from talking_head_dagster.media.binary import ffmpeg_binary

        return ffmpeg_binary(self.ffmpeg_binary)


def _classify(url: str, message: str, limit_text: str) -> TalkingHeadError:
    """Turn yt-dlp's error text into an error the row can show."""
    text = message.removeprefix("ERROR: ")
    lowered = text.lower()
    status = re.search(r"http error (\d{3})", lowered)
    if status and status.group(1) in ("401", "403"):
        hint = " Douyin needs a fresh cookies file (TALKING_HEAD_DOWNLOAD__COOKIES_FILE)." if "douyin" in url else ""
        return PermanentInputError(f"The source site refused access to {url}.{hint}")
    if status:  # the same sorting as our own downloads (404/410, 429, 5xx, another refusal)
        return status_error(int(status.group(1)), url) or PermanentInputError(f"Downloading {url} failed: {text[:300]}")
    if "fresh cookies" in lowered or ("cookies" in lowered and "douyin" in lowered):
        return PermanentInputError(
            "Douyin needs fresh cookies: export them from a browser into a cookies.txt file and set "
            "TALKING_HEAD_DOWNLOAD__COOKIES_FILE."
        )
    if "unsupported url" in lowered or "no video formats" in lowered or "no media" in lowered:
        return UnsupportedSourceError(f"No video was found at {url}: link the video itself or its page.")
    if "larger than max-filesize" in lowered or "file is larger" in lowered:
        return SourceTooLargeError(f"The source video is larger than the limit of {limit_text}.")
    if "connection reset" in lowered or "connection broken" in lowered:
        return SourceUnavailableError(f"The source site broke off the connection while sending {url}; retrying later.")
    if any(s in lowered for s in ("timed out", "connection", "temporary failure")):
        return SourceUnavailableError(f"Downloading {url} failed for now: {text[:200]}")
    return PermanentInputError(f"Downloading {url} failed: {text[:300]}")
