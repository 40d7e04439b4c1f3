"""Running FFmpeg: the one binary every media step uses."""

import subprocess
from pathlib import Path

import dagster as dg

from talking_head_dagster.media.binary import ffmpeg_binary
from talking_head_dagster.media.probe import MediaInfo, ProbeError, probe


class FFmpegError(Exception):
    """FFmpeg failed; the message carries the end of its log."""


class FFmpegResource(dg.ConfigurableResource):
    binary: str | None = None
    timeout_s: float = 1800.0

    @property
    def exe(self) -> str:
        return ffmpeg_binary(self.binary)

    def probe(self, path: Path) -> MediaInfo:
        return probe(path, self.exe)

    def run(self, args: list[str]) -> None:
        """Run ``ffmpeg args...`` and raise ``FFmpegError`` with its last log lines if it fails."""
        command = [self.exe, "-hide_banner", "-nostdin", "-loglevel", "error", *args]
        result = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=self.timeout_s)
        if result.returncode != 0:
            tail = "\n".join(result.stderr.strip().splitlines()[-8:])
            raise FFmpegError(f"ffmpeg exited with {result.returncode}: {tail}")


__all__ = ["FFmpegError", "FFmpegResource", "MediaInfo", "ProbeError"]
