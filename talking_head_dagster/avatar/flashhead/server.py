"""The avatar server: one long-lived process on the GPU machine that holds the FlashHead pipeline.

Dagster starts a process per run, and a run renders one record, so a run that loads SoulX-FlashHead
itself pays the load (8 GB of weights) and upstream's ``torch.compile`` for every row. The server
pays them once, at start, and renders every row sent to it; the runs only send the speech and
portrait and receive the MP4 (``resources/avatar_server.py``), so they need no GPU and no weights.

Protocol, HTTP on one port (the process trusts its network: bind it to 127.0.0.1 or a private one):

- ``GET /health`` -> ``{"status": "ready", "model", "attention", "load_s", "renders"}``
- ``POST /render`` with JSON ``{"portrait": base64, "portrait_name": "face.jpg", "speech": base64 WAV}``
  -> ``application/x-ndjson``, one JSON object per line: ``{"queued": true}`` while another render
  holds the GPU (every few seconds), ``{"progress": [done, total]}`` per chunk, then either
  ``{"result": <FlashHeadStats>, "mp4": base64}`` or ``{"error": {"kind", "message"}}`` with kind
  ``input`` (the row's problem), ``deployment`` (this machine's) or ``internal``.

Renders run one at a time: the GPU holds one pipeline, and a second render would only slow both.
"""

import base64
import binascii
import contextlib
import json
import re
import tempfile
import threading
import time
from dataclasses import asdict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePath

from talking_head_dagster.avatar.flashhead.renderer import FlashHeadRenderer
from talking_head_dagster.errors import DeploymentError, PermanentInputError

MAX_REQUEST_BYTES = 256 << 20  # speech and portrait; a 10-minute 22 kHz WAV is 26 MB
QUEUED_EVERY_S = 5.0  # how often a waiting request is told it is still queued


class AvatarServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], renderer: FlashHeadRenderer, ffmpeg: str) -> None:
        super().__init__(address, _Handler)
        self.renderer = renderer
        self.ffmpeg = ffmpeg
        self.gpu = threading.Lock()
        self.renders = 0
        self.load_s = 0.0
        self.attention = ""

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def load(self, warmup_portrait: Path | None = None) -> None:
        """Preflight and load the pipeline; with ``warmup_portrait``, render 1 s of silence to compile it.

        Raises DeploymentError (every problem listed) before the server accepts a request.
        """
        started = time.perf_counter()
        loaded = self.renderer.load()
        if warmup_portrait is not None:
            with tempfile.TemporaryDirectory(prefix="avatar-warmup-") as scratch:
                silence = _silent_wav(Path(scratch) / "silence.wav", seconds=1.0)
                self.renderer.render(warmup_portrait, silence, Path(scratch) / "warmup.mp4", self.ffmpeg)
        self.load_s = round(time.perf_counter() - started, 2)
        self.attention = loaded.attention

    def health(self) -> dict:
        model = self.renderer.options.model_type
        return {"status": "ready", "model": model, "attention": self.attention, "load_s": self.load_s,
                "renders": self.renders}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    server: AvatarServer
    # Chunked transfer encoding: each answer line reaches the run as soon as it is written.
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:
        return  # the server logs its own lines (see talking-head avatar-server)

    def do_GET(self) -> None:
        if self.path != "/health":
            self._reply(HTTPStatus.NOT_FOUND, {"error": {"kind": "input", "message": f"no such path {self.path}"}})
            return
        self._reply(HTTPStatus.OK, self.server.health())

    def do_POST(self) -> None:
        """Steps: 1. read and check the request; 2. wait for the GPU; 3. render; 4. send the MP4 or the error."""
        if self.path != "/render":
            self._reply(HTTPStatus.NOT_FOUND, {"error": {"kind": "input", "message": f"no such path {self.path}"}})
            return
        # 1. Request.
        try:
            portrait_name, portrait, speech = self._read_request()
        except ValueError as exc:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": {"kind": "input", "message": str(exc)}})
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        # 2. The GPU, one render at a time.
        try:
            while not self.server.gpu.acquire(timeout=QUEUED_EVERY_S):
                self._line({"queued": True})
        except OSError:  # the run went away while waiting
            return
        try:
            self._render(portrait_name, portrait, speech)
        except OSError:  # the run went away: its render stopped at the next chunk, the GPU is free again
            return
        finally:
            self.server.gpu.release()
        with contextlib.suppress(OSError):
            self.wfile.write(b"0\r\n\r\n")  # the end of the chunked answer

    def _render(self, portrait_name: str, portrait: bytes, speech: bytes) -> None:
        # 3. Render.
        with tempfile.TemporaryDirectory(prefix="avatar-render-") as scratch:
            folder = Path(scratch)
            (folder / portrait_name).write_bytes(portrait)
            (folder / "speech.wav").write_bytes(speech)
            out = folder / "avatar.mp4"
            try:
                stats = self.server.renderer.render(
                    folder / portrait_name, folder / "speech.wav", out, self.server.ffmpeg,
                    progress=lambda done, total: self._line({"progress": [done, total]}),
                )  # fmt: skip
            except PermanentInputError as exc:
                self._line({"error": {"kind": "input", "message": str(exc)}})
                return
            except DeploymentError as exc:
                self._line({"error": {"kind": "deployment", "message": str(exc)}})
                return
            except (BrokenPipeError, ConnectionResetError):
                raise  # the run went away (see do_POST)
            except Exception as exc:  # reported to the run, which fails with it; the server goes on
                self._line({"error": {"kind": "internal", "message": f"{exc.__class__.__name__}: {exc}"}})
                return
            # 4. The MP4.
            self.server.renders += 1
            self._line({"result": asdict(stats), "mp4": base64.b64encode(out.read_bytes()).decode("ascii")})

    def _read_request(self) -> tuple[str, bytes, bytes]:
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_REQUEST_BYTES:
            raise ValueError(f"a render request must have a body of 1 byte to {MAX_REQUEST_BYTES >> 20} MiB")
        try:
            body = json.loads(self.rfile.read(length))
            suffix = PurePath(str(body.get("portrait_name") or "")).suffix.lower()
            name = "portrait" + (suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".png")
            portrait = base64.b64decode(body["portrait"], validate=True)
            return name, portrait, base64.b64decode(body["speech"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise ValueError(f"not a render request ({exc.__class__.__name__}: {exc})") from exc

    def _reply(self, status: HTTPStatus, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.wfile.write(data)

    def _line(self, body: dict) -> None:
        """One line of the answer, as one HTTP chunk."""
        data = json.dumps(body).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def _silent_wav(path: Path, seconds: float, rate: int = 16000) -> Path:
    import wave

    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\0\0" * round(seconds * rate))
    return path
