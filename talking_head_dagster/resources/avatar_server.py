"""The client of the avatar server (``avatar/flashhead/server.py``): a render sent over HTTP, the MP4 back.

Failures keep the project's error classes, so Dagster treats them as it would in-process: the
row's own problem (``input``) fails the row, a problem of the GPU machine (``deployment``) fails it
with what to set up, and a server that cannot be reached, or that stops answering mid-render, is
transient and retried.
"""

import base64
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

from talking_head_dagster.avatar.flashhead.renderer import FlashHeadStats
from talking_head_dagster.errors import DeploymentError, PermanentInputError, TransientError

CONNECT_TIMEOUT_S = 10.0
# The server sends a line at least every chunk, or every few seconds while queued; this long a
# silence means it hung.
READ_TIMEOUT_S = 600.0


class AvatarServerUnavailableError(TransientError):
    """The avatar server cannot be reached, or stopped answering during a render."""


class AvatarServerClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def health(self) -> dict:
        """The server's ``/health`` answer; raises AvatarServerUnavailableError when it does not give one."""
        try:
            response = requests.get(f"{self.url}/health", timeout=(CONNECT_TIMEOUT_S, 30.0))
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as exc:
            raise self._unavailable(exc) from exc

    def render(
        self, portrait: Path, speech_wav: Path, out_mp4: Path, progress: Callable[[int, int], None] | None = None
    ) -> FlashHeadStats:
        """Render on the server; ``out_mp4`` appears (atomically) only with a complete answer.

        Steps:
          1. send the portrait and speech;
          2. read the answer's lines: progress, then the result or an error;
          3. write the MP4 next to ``out_mp4`` and rename it into place.
        """
        if not Path(portrait).is_file():
            raise PermanentInputError(f"The portrait {portrait} does not exist.")
        # 1. Request.
        body = {
            "portrait": base64.b64encode(Path(portrait).read_bytes()).decode("ascii"),
            "portrait_name": Path(portrait).name,
            "speech": base64.b64encode(Path(speech_wav).read_bytes()).decode("ascii"),
        }
        answering = False
        try:
            with requests.post(
                f"{self.url}/render", json=body, stream=True, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
            ) as response:
                if response.status_code != 200:
                    raise DeploymentError(f"The avatar server at {self.url} refused the render: {response.text[:500]}")
                # 2. Answer.
                answering = True
                final = self._final_line(response, progress)
        except requests.RequestException as exc:
            raise (self._broke_off(exc) if answering else self._unavailable(exc)) from exc
        if "error" in final:
            self._raise(final["error"])
        # 3. MP4.
        mp4, stats = self._result(final)
        _write_atomically(out_mp4, mp4)
        return stats

    def _final_line(self, response: requests.Response, progress: Callable[[int, int], None] | None) -> dict:
        for line in self._lines(response):
            if "progress" in line:
                if progress is not None:
                    progress(*line["progress"])
            elif "result" in line or "error" in line:
                return line
        raise self._broke_off(None)

    def _lines(self, response: requests.Response) -> Iterator[dict]:
        """The answer's JSON lines, each as soon as its chunk arrives (the last one holds megabytes of MP4).

        ``requests``' own ``iter_lines`` joins and splits its whole buffer again for every 512 bytes
        read, which takes seconds on a line of megabytes; this scans each byte once.
        """
        buffer, scanned = bytearray(), 0
        for piece in response.iter_content(chunk_size=None):
            buffer += piece
            while (end := buffer.find(b"\n", scanned)) >= 0:
                raw, scanned = bytes(buffer[:end]), 0
                del buffer[: end + 1]
                if raw.strip():
                    yield self._parse(raw)
            scanned = len(buffer)

    def _parse(self, raw: bytes) -> dict:
        """One answer line: a JSON object whose progress, if any, is two counts."""
        try:
            line = json.loads(raw)
        except ValueError:
            line = None
        progress = line.get("progress", [0, 0]) if isinstance(line, dict) else None
        if not (isinstance(progress, list) and len(progress) == 2 and all(type(n) is int for n in progress)):
            raise self._garbled(raw)
        return line

    def _result(self, final: dict) -> tuple[bytes, FlashHeadStats]:
        """The MP4 and the stats of the final line; a line that lacks them is not an avatar server's."""
        try:
            return base64.b64decode(final["mp4"], validate=True), FlashHeadStats(**final["result"])
        except (KeyError, TypeError, ValueError) as exc:
            raise self._garbled(json.dumps(final).encode()) from exc

    def _garbled(self, raw: bytes) -> DeploymentError:
        return DeploymentError(
            f"The avatar server at {self.url} answered a line that is not its protocol's ({raw[:200]!r}): "
            "is this URL an avatar server of the same version as the runs?"
        )

    def _raise(self, error: dict) -> None:
        if not isinstance(error, dict):
            raise self._garbled(json.dumps({"error": error}).encode())
        kind, message = error.get("kind"), error.get("message", "")
        if kind == "input":
            raise PermanentInputError(message)
        if kind == "deployment":
            raise DeploymentError(f"The avatar server at {self.url} cannot render: {message}")
        raise RuntimeError(f"The avatar server at {self.url} failed to render: {message}")

    def _broke_off(self, exc: Exception | None) -> AvatarServerUnavailableError:
        how = f" ({exc.__class__.__name__})" if exc is not None else ""
        return AvatarServerUnavailableError(
            f"The avatar server at {self.url} closed the connection before the render ended{how} "
            "(restarted, or killed for memory?); the render will be retried."
        )

    def _unavailable(self, exc: Exception) -> AvatarServerUnavailableError:
        return AvatarServerUnavailableError(
            f"The avatar server at {self.url} cannot be reached ({exc.__class__.__name__}): "
            "is `talking-head avatar-server` running there?"
        )


def _write_atomically(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
