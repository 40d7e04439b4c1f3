"""A loopback HTTP server with the source files of the tests, and the tricks a hostile row can play.

Besides the files of a directory it serves:

- ``/redirect?to=<url>``: a 302 to ``url`` (anywhere, e.g. another port of this machine);
- ``/hops/<n>/<file>``: ``n`` redirects in a row, then the file;
- ``/page?video=<url>``: an HTML page whose ``<video>`` points at ``url`` (yt-dlp follows it itself).
"""

import contextlib
import html
import http.server
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from talking_head_dagster.demo import serve_directory


class QuietReplies(http.server.BaseHTTPRequestHandler):
    """What the tests' HTTP servers share: no log lines, no traceback when a client hangs up, short replies."""

    def log_message(self, format: str, *args) -> None:
        pass

    def handle(self) -> None:
        # The downloader hangs up once it has seen the headers (it only wanted the redirects).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Handler(QuietReplies, http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        segments = parts.path.strip("/").split("/")
        if parts.path == "/redirect" and "to" in query:
            return self._redirect(query["to"][0])
        if segments[0] == "hops" and len(segments) == 3 and segments[1].isdigit():
            left = int(segments[1])
            return self._redirect(f"/hops/{left - 1}/{segments[2]}" if left > 1 else f"/{segments[2]}")
        if parts.path == "/page" and "video" in query:
            body = f'<html><body><video controls><source src="{html.escape(query["video"][0])}" type="video/mp4">'
            return self._send(200, (body + "</video></body></html>").encode(), "text/html")
        return super().do_GET()


def serve_hostile(directory: Path) -> AbstractContextManager[str]:
    """Serve ``directory`` and the tricks on 127.0.0.1 (an ephemeral port); yields the base URL."""
    return serve_directory(directory, _Handler)


def redirect_to(base_url: str, target: str) -> str:
    return f"{base_url}/redirect?to={quote(target, safe='')}"


def page_with_video(base_url: str, video_url: str) -> str:
    return f"{base_url}/page?video={quote(video_url, safe='')}"


def host_port(base_url: str) -> str:
    """``127.0.0.1:<port>`` of a base URL: the one allowlist entry the tests' deployments use."""
    return urlsplit(base_url).netloc
