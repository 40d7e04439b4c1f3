"""HTTP for source downloads that we make ourselves: every hop checked, redirects capped, bytes and time bounded.

Used inside ``EgressPolicy.guard`` (its audit hook also watches every connection), by the
downloader to follow a source URL's redirects before yt-dlp sees it, and by the Douyin resolver
for the short link, the share page, the play address and a photo post's images.
"""

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from http.cookiejar import LoadError, MozillaCookieJar
from pathlib import Path
from urllib.parse import urljoin

import requests

from talking_head_dagster.errors import (
    DeploymentError,
    ForbiddenHostError,
    PermanentInputError,
    SourceBlockedError,
    SourceNotFoundError,
    SourceTooLargeError,
    SourceUnavailableError,
    TalkingHeadError,
    TooManyRedirectsError,
)
from talking_head_dagster.resources.egress import EgressPolicy

CHUNK = 256 * 1024
PAGE_LIMIT = 8 * 1024 * 1024  # a web page is never this large; more is not a page


@dataclass
class Fetched:
    """The end of a redirect chain: its URL, status and (for pages) text."""

    url: str
    status: int
    text: str = ""
    hops: list[str] = field(default_factory=list)


class GuardedHttp:
    def __init__(
        self,
        policy: EgressPolicy,
        *,
        max_redirects: int,
        max_bytes: int,
        timeout_s: float,
        user_agent: str,
        cookies_file: str | None = None,
        site: str = "The source site",
    ) -> None:
        self.site = site
        self.policy = policy
        self.max_redirects = max_redirects
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        if cookies_file:
            self.session.cookies = load_cookies(cookies_file)  # type: ignore[assignment]

    def follow(self, url: str, stop=None) -> Fetched:
        """Follow ``url``'s redirects without reading bodies; stop early at the first hop ``stop(url)`` accepts."""
        return self._request(url, stop=stop, read=None)

    def get_page(self, url: str) -> Fetched:
        """The page at the end of ``url``'s redirects, as text (any status: the caller reads it)."""
        return self._request(url, read="text")

    def download(self, url: str, path: Path, budget: int | None = None) -> Fetched:
        """Stream the file at the end of ``url``'s redirects into ``path``, within ``budget`` bytes.

        Raises the error the status calls for (404: not found, 429: rate-limited, 5xx: unavailable,
        401/403: refused) and ``SourceTooLargeError`` past the byte or time limit.
        """
        return self._request(url, read=path, budget=self.max_bytes if budget is None else budget)

    def _request(self, url: str, *, stop=None, read: str | Path | None, budget: int = 0) -> Fetched:
        """Steps: 1. check the hop and request it without following; 2. a redirect: next hop, at most
        ``max_redirects``; 3. the end: nothing, the text, or the body streamed into a file."""
        current, hops = url, [url]
        for _ in range(self.max_redirects + 1):
            # 1. This hop.
            self.policy.check_url(current)
            if stop is not None and stop(current):
                return Fetched(current, 0, hops=hops)
            with self.session.get(current, allow_redirects=False, stream=True, timeout=self._timeout()) as response:
                # 2. A redirect.
                location = response.headers.get("Location") if response.is_redirect else None
                if location:
                    current = urljoin(current, location)
                    hops.append(current)
                    continue
                # 3. The end of the chain.
                if read is None:
                    return Fetched(current, response.status_code, hops=hops)
                if read == "text":
                    body = self._read(response, PAGE_LIMIT, None)
                    return Fetched(current, response.status_code, body.decode(_charset(response), "replace"), hops)
                raise_for_status(response.status_code, current, self.site)
                self._read(response, budget, Path(read))
                return Fetched(current, response.status_code, hops=hops)
        raise TooManyRedirectsError(
            f"The source URL redirects more than {self.max_redirects} times; link the video itself."
        )

    def _read(self, response: requests.Response, budget: int, path: Path | None) -> bytes:
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > budget:
            raise self._too_large()
        kept, size = [], 0
        with open(path, "wb") if path else nullcontext() as sink:
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > budget:
                    raise self._too_large()
                if time.monotonic() > self.deadline:
                    raise SourceTooLargeError(f"Downloading the source video took longer than {self.timeout_s:.0f} s.")
                if path:
                    sink.write(chunk)
                else:
                    kept.append(chunk)
        return b"".join(kept)

    def _timeout(self) -> tuple[float, float]:
        left = max(self.deadline - time.monotonic(), 0.5)
        return (min(10.0, left), min(30.0, left))

    def _too_large(self) -> SourceTooLargeError:
        limit = f"{self.max_bytes / 1024 / 1024:.0f} MiB"
        return SourceTooLargeError(f"The source video is larger than the limit of {limit}.")


def raise_for_status(status: int, url: str, site: str = "The source site") -> None:
    """Raise the error a download's final status calls for, in the user's terms; nothing for a 2xx."""
    error = status_error(status, url, site)
    if error is not None:
        raise error


def status_error(status: int, url: str, site: str = "The source site") -> TalkingHeadError | None:
    """The error an HTTP status calls for (``None`` for a 2xx): the one sorting of statuses for every download."""
    if 200 <= status < 300:
        return None
    if status in (404, 410):
        return SourceNotFoundError(f"The source URL answers 'not found' ({url[:160]}); check the link.")
    if status == 429:
        return SourceBlockedError(f"{site} rate-limited us (HTTP 429) at {url[:160]}; it usually lifts after a while.")
    if status >= 500 or status == 408:
        return SourceUnavailableError(f"{site} answered HTTP {status} at {url[:160]}; retrying later.")
    return PermanentInputError(f"{site} refused the download (HTTP {status}) at {url[:160]}.")


def guard_error(guard, timeout_s: float) -> TalkingHeadError | None:
    """The egress guard's verdict, when it is why a download failed."""
    if not guard.refusals:
        return None
    reason = guard.refusals[0]
    if reason == "the time limit is over":
        return SourceTooLargeError(f"Downloading the source video took longer than {timeout_s:.0f} s.")
    return ForbiddenHostError(f"The download was stopped: {reason}; the downloader only fetches from public addresses.")


def load_cookies(cookies_file: str) -> MozillaCookieJar:
    """A Netscape cookies.txt, as browsers' export extensions write it (and yt-dlp reads it)."""
    jar = MozillaCookieJar(cookies_file)
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except (OSError, LoadError) as exc:
        raise DeploymentError(
            f"The cookies file {cookies_file} could not be read as a Netscape cookies.txt: {exc}"
        ) from exc
    for cookie in jar:
        if cookie.expires == 0:  # exporters write 0 for a session cookie; the jar would take it as expired
            cookie.expires = None
    return jar


def _charset(response: requests.Response) -> str:
    return response.encoding if response.encoding and "charset" in response.headers.get("Content-Type", "") else "utf-8"
