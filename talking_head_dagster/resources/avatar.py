"""The talking-head renderer: animates a portrait from speech, with a pluggable backend.

Backends: ``lite`` renders on the CPU (face mesh + speech-driven mouth); ``flashhead``
(SoulX-FlashHead on a GPU) is selected by ``auto`` once it is usable on the machine.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import dagster as dg

from talking_head_dagster.errors import PermanentInputError


@dataclass(frozen=True)
class AvatarResult:
    backend: str
    portrait: str
    frames: int
    fps: int
    width: int
    height: int
    duration_s: float
    render_seconds: float


class AvatarBackend(Protocol):
    name: str

    def render(
        self,
        portrait: Path,
        speech_wav: Path,
        out_mp4: Path,
        ffmpeg: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> AvatarResult: ...


class LiteBackend:
    """CPU renderer: a face-mesh-guided warp of the portrait's mouth driven by the speech envelope."""

    name = "lite"

    def __init__(self, size: int, fps: int):
        from talking_head_dagster.avatar.lite import LiteRenderer

        self._renderer = LiteRenderer(size=size, fps=fps)

    def render(self, portrait, speech_wav, out_mp4, ffmpeg, progress=None) -> AvatarResult:
        stats = self._renderer.render(portrait, speech_wav, out_mp4, ffmpeg, progress=progress)
        return AvatarResult(
            backend=self.name,
            portrait=str(portrait),
            frames=stats.frames,
            fps=stats.fps,
            width=stats.width,
            height=stats.height,
            duration_s=stats.duration_s,
            render_seconds=stats.render_seconds,
        )


def default_portrait() -> Path:
    """Grace Hopper's public-domain portrait, shipped inside matplotlib's sample data."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


class AvatarRenderer(dg.ConfigurableResource):
    backend: Literal["auto", "lite", "flashhead"] = "auto"
    portrait: str | None = None
    size: int = 512
    fps: int = 25

    def portrait_path(self) -> Path:
        path = Path(self.portrait) if self.portrait else default_portrait()
        if not path.is_file():
            raise PermanentInputError(f"The portrait {path} does not exist: set TALKING_HEAD_AVATAR__PORTRAIT.")
        return path

    def resolved_backend(self) -> AvatarBackend:
        if self.backend == "flashhead":
            raise PermanentInputError(
                "The flashhead avatar backend is not available in this version: use 'lite' or 'auto'."
            )
        # 'auto' falls back to the CPU renderer until a GPU backend is usable here.
        return LiteBackend(self.size, self.fps)

    def render(
        self, speech_wav: Path, out_mp4: Path, ffmpeg: str, progress: Callable[[int, int], None] | None = None
    ) -> AvatarResult:
        return self.resolved_backend().render(self.portrait_path(), speech_wav, out_mp4, ffmpeg, progress)
