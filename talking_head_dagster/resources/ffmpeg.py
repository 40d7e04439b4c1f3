"""Running FFmpeg: the one binary every media step uses."""

import re
import subprocess
from pathlib import Path

import dagster as dg

from talking_head_dagster.media.binary import ffmpeg_binary
from talking_head_dagster.media.child_process import die_with_parent
from talking_head_dagster.media.probe import MediaInfo, ProbeError, probe

# Lines FFmpeg prints after the real error, as every thread shuts down: they hide the cause.
_FOLLOW_ON = re.compile(
    r"Task finished with error|Terminating thread|Conversion failed|Nothing was written|Could not open"
)


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

    def run(self, args: list[str], cwd: Path | None = None, log_level: str = "error") -> str:
        """Run ``ffmpeg args...`` in ``cwd``; return its log (filters' reports need ``info``).

        Raises ``FFmpegError`` with the log's last lines if it fails.
        """
        command = [self.exe, "-hide_banner", "-nostdin", "-nostats", "-loglevel", log_level, *args]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=self.timeout_s,
            cwd=cwd,
            preexec_fn=die_with_parent,
        )
        if result.returncode != 0:
            cause = [line for line in result.stderr.strip().splitlines() if not _FOLLOW_ON.search(line)]
            tail = "\n".join(cause[-8:])
            raise FFmpegError(f"ffmpeg exited with {result.returncode}: {tail}")
        return result.stderr


__all__ = ["FFmpegError", "FFmpegResource", "MediaInfo", "ProbeError"]
