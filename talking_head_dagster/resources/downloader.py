"""Source video download with yt-dlp: direct MP4 links, pages with a <video>, Douyin and the rest."""

import time
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
import yt_dlp
from yt_dlp.utils import DownloadError

from talking_head_dagster.errors import PermanentInputError, TransientError


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
    cookies_file: str | None = None
    ffmpeg_binary: str | None = None

    def download(self, url: str, directory: Path) -> Path:
        """Download ``url`` into ``directory`` and return the file; raise a user-facing error otherwise.

        Steps: 1. check the URL scheme; 2. run yt-dlp with a progress hook that enforces the byte
        and time limits while the bytes arrive; 3. map yt-dlp's failures onto permanent or
        transient errors with a message a user can act on.
        """
        # 1. Only http(s) links.
        parsed = urlparse(url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise PermanentInputError(f"The source URL must start with http:// or https://, got {url[:120]!r}.")

        # 2. Download under limits.
        started = time.monotonic()

        def enforce_limits(progress: dict) -> None:
            done = progress.get("downloaded_bytes") or 0
            expected = progress.get("total_bytes") or progress.get("total_bytes_estimate") or 0
            if max(done, expected if progress.get("total_bytes") else 0) > self.max_bytes:
                raise _LimitExceeded(f"The source video is larger than the limit of {self._limit_text()}.")
            if time.monotonic() - started > self.timeout_s:
                raise _LimitExceeded(f"Downloading the source video took longer than {self.timeout_s:.0f} s.")

        messages = _Messages()
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
            "format": "bv*+ba/b",
            "merge_output_format": "mp4",
            "progress_hooks": [enforce_limits],
            "ffmpeg_location": self._ffmpeg(),
        }
        if self.cookies_file:
            options["cookiefile"] = self.cookies_file
        try:
            with yt_dlp.YoutubeDL(options) as ydl:
                info = ydl.extract_info(url, download=True)
        except _LimitExceeded as exc:
            raise PermanentInputError(str(exc)) from exc
        except DownloadError as exc:
            cause = exc.exc_info[1] if exc.exc_info else None
            if isinstance(cause, _LimitExceeded):
                raise PermanentInputError(str(cause)) from exc
            raise _classify(url, str(exc), self._limit_text()) from exc

        # 3. yt-dlp skips (without error) a file whose announced size exceeds max_filesize.
        files = [p for p in directory.glob("source.*") if not p.name.endswith((".part", ".ytdl"))]
        if not files and messages.said("larger than max-filesize"):
            raise PermanentInputError(f"The source video is larger than the limit of {self._limit_text()}.")
        if not files:
            raise PermanentInputError(
                f"Nothing was downloaded from {url}: the video may be larger than {self._limit_text()}."
            )
        path = max(files, key=lambda p: p.stat().st_size)
        if path.stat().st_size > self.max_bytes:
            raise PermanentInputError(f"The source video is larger than the limit of {self._limit_text()}.")
        if info and info.get("_type") == "playlist":
            raise PermanentInputError("The source URL is a playlist; link a single video.")
        return path

    def _limit_text(self) -> str:
        return f"{self.max_bytes / 1024 / 1024:.0f} MiB"

    def _ffmpeg(self) -> str:
        from talking_head_dagster.media.binary import ffmpeg_binary

        return ffmpeg_binary(self.ffmpeg_binary)


def _classify(url: str, message: str, limit_text: str) -> Exception:
    """Turn yt-dlp's error text into an error the row can show."""
    text = message.removeprefix("ERROR: ")
    lowered = text.lower()
    if "http error 404" in lowered or "http error 410" in lowered:
        return PermanentInputError(f"The source URL answers 'not found' ({url}); check the link.")
    if "http error 401" in lowered or "http error 403" in lowered:
        hint = " Douyin needs a fresh cookies file (TALKING_HEAD_DOWNLOAD__COOKIES_FILE)." if "douyin" in url else ""
        return PermanentInputError(f"The source site refused access to {url}.{hint}")
    if "fresh cookies" in lowered or ("cookies" in lowered and "douyin" in lowered):
        return PermanentInputError(
            "Douyin needs fresh cookies: export them from a browser into a cookies.txt file and set "
            "TALKING_HEAD_DOWNLOAD__COOKIES_FILE."
        )
    if "unsupported url" in lowered or "no video formats" in lowered or "no media" in lowered:
        return PermanentInputError(f"No video was found at {url}: link the video itself or its page.")
    if "larger than max-filesize" in lowered or "file is larger" in lowered:
        return PermanentInputError(f"The source video is larger than the limit of {limit_text}.")
    if any(s in lowered for s in ("timed out", "connection", "temporary failure", "http error 5", "http error 429")):
        return TransientError(f"Downloading {url} failed for now: {text[:200]}")
    return PermanentInputError(f"Downloading {url} failed: {text[:300]}")
