"""Encoding an avatar video: raw frames piped into FFmpeg, muxed with the speech, published atomically.

Every avatar backend ends the same way: frames of one size and pixel format go into ffmpeg's
stdin, ffmpeg encodes them (libx264) with the speech (AAC) into an MP4 written next to the
target under a temporary name, and the finished file replaces the target in one rename.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import numpy as np

from talking_head_dagster.media.child_process import die_with_parent

FrameSink = Callable[[np.ndarray], None]


def encode_args(
    *, pix_fmt: str, size: int, fps: int, speech_wav: Path, out: Path, preset: str = "veryfast", crf: int = 20
) -> list[str]:
    """ffmpeg arguments: square raw frames (``pix_fmt``) on stdin plus the speech -> H.264/AAC MP4."""
    return [
        "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{size}x{size}",
        "-r", str(fps), "-i", "pipe:0",
        "-i", str(speech_wav),
        "-map", "0:v:0", "-map", "1:a:0",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-colorspace", "smpte170m", "-color_primaries", "smpte170m", "-color_trc", "smpte170m",
        "-color_range", "tv",
        "-c:a", "aac", "-b:a", "128k",
        "-movflags", "+faststart", "-f", "mp4", str(out),
    ]  # fmt: skip


@contextlib.contextmanager
def avatar_mp4(
    ffmpeg: str,
    out_mp4: Path,
    speech_wav: Path,
    *,
    pix_fmt: str,
    size: int,
    fps: int,
    preset: str = "veryfast",
    crf: int = 20,
) -> Iterator[FrameSink]:
    """Yield a function that takes one frame at a time; on success ``out_mp4`` holds the video.

    Steps:
      1. Reserve a temporary file next to ``out_mp4``.
      2. Run ffmpeg on it and hand the body a frame writer.
      3. Once ffmpeg has finished cleanly, move the temporary file onto ``out_mp4``.
      4. On any failure remove the temporary file; ``out_mp4`` is left as it was.
    """
    # 1. Temporary file in the target's folder (same file system: the rename is atomic).
    out_mp4 = Path(out_mp4)
    out_mp4.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out_mp4.parent, prefix=f".{out_mp4.stem}-", suffix=".mp4")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # 2. Encode.
        args = encode_args(pix_fmt=pix_fmt, size=size, fps=fps, speech_wav=speech_wav, out=tmp, preset=preset, crf=crf)
        with ffmpeg_writer([ffmpeg, *args]) as write:
            yield write
        # 3. Publish.
        os.replace(tmp, out_mp4)
    finally:
        # 4. Nothing half-written stays behind.
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def ffmpeg_writer(cmd: list[str]) -> Iterator[FrameSink]:
    """Run ``cmd`` (ffmpeg reading raw frames on stdin) and yield a function that writes a frame.

    On leaving, stdin is closed and ffmpeg's exit status checked: a failure raises RuntimeError
    carrying the tail of its stderr. If the body raises, ffmpeg is killed.
    """
    with tempfile.TemporaryFile() as stderr:

        def fail(what: str) -> NoReturn:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            stderr.seek(0)
            tail = stderr.read()[-2000:].decode("utf-8", "replace").strip()
            raise RuntimeError(f"{what}: {tail or '(no error output)'}")

        def write(frame: np.ndarray) -> None:
            try:
                stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
            except BrokenPipeError:
                fail("ffmpeg stopped reading frames")

        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=die_with_parent
            )
        except OSError as exc:
            raise RuntimeError(f"cannot start ffmpeg {cmd[0]!r}: {exc}") from exc
        assert proc.stdin is not None
        stdin = proc.stdin
        _grow_pipe(stdin.fileno())
        try:
            yield write
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        with contextlib.suppress(BrokenPipeError):
            stdin.close()
        if proc.wait() != 0:
            fail(f"ffmpeg exited with status {proc.returncode}")


def _grow_pipe(fd: int, size: int = 1 << 20) -> None:
    """Make the frame pipe hold a whole frame (fewer wake-ups of ffmpeg); best effort, Linux only."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (ImportError, AttributeError, OSError):
        return
