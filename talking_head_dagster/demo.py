"""The embedded default's inputs: a generated background clip served on loopback, and a script."""

import functools
import http.server
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEMO_SCRIPT = (
    "Hello, and welcome to talking head dagster. "
    "Every row in your NocoDB table becomes a short video like this one. "
    "The background comes from the link in the row, and the words you are hearing come from its script. "
    "A portrait is animated to speak them, then everything is composited and published, "
    "and the link is written back into the row."
)


def make_background(path: Path, ffmpeg: str, seconds: float = 8.0) -> Path:
    """A colourful moving test clip with a tone, standing in for a downloaded source video."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("tmp-" + path.name)
    subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "gradients=size=720x1280:rate=25:speed=0.03,format=yuv420p",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=220:sample_rate=44100",
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "28",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
            str(tmp),
        ],
        check=True,
    )
    tmp.rename(path)
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


@contextmanager
def serve_directory(
    directory: Path, handler_class: type[http.server.SimpleHTTPRequestHandler] = _QuietHandler
) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (an ephemeral port) while the block runs."""
    handler = functools.partial(handler_class, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
