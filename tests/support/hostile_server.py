"""A loopback HTTP server with the source files of the tests, and the tricks a hostile row can play.

Besides the files of a directory it serves:

- ``/redirect?to=<url>``: a 302 to ``url`` (anywhere, e.g. another port of this machine);
- ``/hops/<n>/<file>``: ``n`` redirects in a row, then the file;
- ``/page?video=<url>``: an HTML page whose ``<video>`` points at ``url`` (yt-dlp follows it itself);
- ``/status/<code>/<file>``: an error page with that HTTP status (401, 403, 404, 410, 429, 500, 503...);
- ``/reset/<file>``: the file's headers and its first bytes, then a TCP reset;
- ``/drip/<file>``: the file's headers, then one small chunk every ``DRIP_INTERVAL_S`` (past any short time limit).

Every request is counted per path in ``served`` (the server's ``RequestHandlerClass.served``).
"""

import collections
import contextlib
import html
import http.server
import socket
import struct
import time
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from talking_head_dagster.demo import serve_directory

DRIP_INTERVAL_S = 0.25
DRIP_CHUNK = 1024


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
    served: collections.Counter[str]

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        segments = parts.path.strip("/").split("/")
        self.served[parts.path] += 1
        if segments[0] == "status" and len(segments) == 3 and segments[1].isdigit():
            page = f"<html><body><h1>{segments[1]}</h1></body></html>".encode()
            return self._send(int(segments[1]), page, "text/html")
        if segments[0] in ("reset", "drip") and len(segments) == 2:
            return self._misbehave(segments[0], segments[1])
        if parts.path == "/redirect" and "to" in query:
            return self._redirect(query["to"][0])
        if segments[0] == "hops" and len(segments) == 3 and segments[1].isdigit():
            left = int(segments[1])
            return self._redirect(f"/hops/{left - 1}/{segments[2]}" if left > 1 else f"/{segments[2]}")
        if parts.path == "/page" and "video" in query:
            body = f'<html><body><video controls><source src="{html.escape(query["video"][0])}" type="video/mp4">'
            return self._send(200, (body + "</video></body></html>").encode(), "text/html")
        return super().do_GET()

    def _misbehave(self, how: str, name: str) -> None:
        """Announce the whole file, then reset the connection after its first bytes, or drip it slowly."""
        body = (Path(self.directory) / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if how == "reset":
            self.wfile.write(body[:DRIP_CHUNK])
            self.wfile.flush()
            # SO_LINGER with a zero timeout: close() sends a RST instead of a FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        for start in range(0, len(body), DRIP_CHUNK):
            self.wfile.write(body[start : start + DRIP_CHUNK])
            self.wfile.flush()
            time.sleep(DRIP_INTERVAL_S)


def serve_hostile(directory: Path, served: collections.Counter[str] | None = None) -> AbstractContextManager[str]:
    """Serve ``directory`` and the tricks on 127.0.0.1 (an ephemeral port); yields the base URL.

    ``served`` (when given) counts the requests per path.
    """
    handler = type("_Counted", (_Handler,), {"served": collections.Counter() if served is None else served})
    return serve_directory(directory, handler)


def redirect_to(base_url: str, target: str) -> str:
    return f"{base_url}/redirect?to={quote(target, safe='')}"


def page_with_video(base_url: str, video_url: str) -> str:
    return f"{base_url}/page?video={quote(video_url, safe='')}"


def host_port(base_url: str) -> str:
    """``127.0.0.1:<port>`` of a base URL: the one allowlist entry the tests' deployments use."""
    return urlsplit(base_url).netloc
