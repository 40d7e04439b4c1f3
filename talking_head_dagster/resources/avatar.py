"""The talking-head renderer: animates a portrait from speech, with a pluggable backend.

Backends: ``lite`` renders on the CPU (face mesh + speech-driven mouth); ``flashhead`` renders
with SoulX-FlashHead on a CUDA GPU, in this process or, with ``flashhead_server_url``, on a
``talking-head avatar-server`` that keeps the pipeline loaded across runs. ``auto`` picks
``flashhead`` when its preflight passes on this machine (checkout at the pinned commit, weights,
GPU and memory), or when the server answers, and ``lite`` otherwise; the choice is made once per
process and recorded, with the reason, in the result.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol

import dagster as dg

from talking_head_dagster.avatar.flashhead.options import FlashHeadOptions
from talking_head_dagster.errors import PermanentInputError

# auto's decision per flashhead configuration: None when flashhead is usable, else why not.
# The preflight imports PyTorch and asks the GPU, so it runs once per process.
_AUTO_CHOICES: dict[FlashHeadOptions | str, str | None] = {}


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
    model: str | None = None  # the backend's model variant, e.g. flashhead's "lite" or "pro"
    attention: str | None = None  # the attention kernel a GPU backend ran with
    choice: str | None = None  # why this backend rendered, when 'auto' chose it
    server: str | None = None  # the avatar server that rendered, if not this process


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


def result_from_stats(backend: str, portrait: Path, stats, **extra) -> AvatarResult:
    """The result of a backend from its renderer's stats (frames, fps, width, height, durations)."""
    return AvatarResult(
        backend=backend,
        portrait=str(portrait),
        frames=stats.frames,
        fps=stats.fps,
        width=stats.width,
        height=stats.height,
        duration_s=stats.duration_s,
        render_seconds=stats.render_seconds,
        **extra,
    )


class LiteBackend:
    """CPU renderer: a face-mesh-guided warp of the portrait's mouth driven by the speech envelope."""

    name = "lite"

    def __init__(self, size: int, fps: int):
        from talking_head_dagster.avatar.lite import LiteRenderer

        self._renderer = LiteRenderer(size=size, fps=fps)

    def render(self, portrait, speech_wav, out_mp4, ffmpeg, progress=None) -> AvatarResult:
        stats = self._renderer.render(portrait, speech_wav, out_mp4, ffmpeg, progress=progress)
        return result_from_stats(self.name, portrait, stats)


class FlashHeadBackend:
    """GPU renderer: SoulX-FlashHead, its pipeline loaded once per process (see avatar/flashhead)."""

    name = "flashhead"

    def __init__(self, options: FlashHeadOptions):
        from talking_head_dagster.avatar.flashhead.renderer import FlashHeadRenderer

        self._renderer = FlashHeadRenderer(options)

    def render(self, portrait, speech_wav, out_mp4, ffmpeg, progress=None) -> AvatarResult:
        stats = self._renderer.render(portrait, speech_wav, out_mp4, ffmpeg, progress=progress)
        return result_from_stats(self.name, portrait, stats, model=stats.model_type, attention=stats.attention)


class FlashHeadServerBackend:
    """GPU renderer on an avatar server: the pipeline stays loaded there across runs (avatar/flashhead/server.py)."""

    name = "flashhead"

    def __init__(self, url: str):
        from talking_head_dagster.resources.avatar_server import AvatarServerClient

        self._client = AvatarServerClient(url)

    def render(self, portrait, speech_wav, out_mp4, ffmpeg, progress=None) -> AvatarResult:
        stats = self._client.render(portrait, speech_wav, out_mp4, progress=progress)
        return result_from_stats(
            self.name, portrait, stats, model=stats.model_type, attention=stats.attention, server=self._client.url
        )


def flashhead_server_unusable(url: str) -> str | None:
    """Why the avatar server at ``url`` cannot render (it does not answer), or None when it can."""
    if url not in _AUTO_CHOICES:
        from talking_head_dagster.resources.avatar_server import AvatarServerClient, AvatarServerUnavailableError

        try:
            AvatarServerClient(url).health()
            _AUTO_CHOICES[url] = None
        except AvatarServerUnavailableError as exc:
            _AUTO_CHOICES[url] = str(exc)
    return _AUTO_CHOICES[url]


def flashhead_unusable(options: FlashHeadOptions) -> str | None:
    """Why the flashhead backend cannot run here (every problem, one per line), or None when it can."""
    if options not in _AUTO_CHOICES:
        from talking_head_dagster.avatar.flashhead.preflight import run_preflight

        report = run_preflight(options)
        _AUTO_CHOICES[options] = None if report.ok else "\n".join(report.problems())
    return _AUTO_CHOICES[options]


def default_portrait() -> Path:
    """Grace Hopper's public-domain portrait, shipped inside matplotlib's sample data."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


class AvatarRenderer(dg.ConfigurableResource):
    backend: Literal["auto", "lite", "flashhead"] = "auto"
    portrait: str | None = None
    size: int = 512
    fps: int = 25
    flashhead_model: Literal["lite", "pro"] = "lite"
    flashhead_vendor_dir: str = "vendor/SoulX-FlashHead"
    flashhead_ckpt_dir: str = "models/SoulX-FlashHead-1_3B"
    flashhead_wav2vec_dir: str = "models/wav2vec2-base-960h"
    flashhead_seed: int = 42
    flashhead_face_crop: bool = False
    flashhead_min_free_gpu_gib: float | None = None
    flashhead_server_url: str | None = None

    def flashhead_options(self) -> FlashHeadOptions:
        return FlashHeadOptions(
            vendor_dir=Path(self.flashhead_vendor_dir),
            ckpt_dir=Path(self.flashhead_ckpt_dir),
            wav2vec_dir=Path(self.flashhead_wav2vec_dir),
            model_type=self.flashhead_model,
            seed=self.flashhead_seed,
            face_crop=self.flashhead_face_crop,
            min_free_gpu_gib=self.flashhead_min_free_gpu_gib,
            size=self.size,
            fps=self.fps,
        )

    def portrait_path(self, override: str | None = None) -> Path:
        """``override`` (a table's portrait), else the deployment's, else the bundled one."""
        chosen = override or self.portrait
        path = Path(chosen) if chosen else default_portrait()
        if not path.is_file():
            where = "the table's portrait" if override else "TALKING_HEAD_AVATAR__PORTRAIT"
            raise PermanentInputError(f"The portrait {path} does not exist: check {where}.")
        return path

    def resolved_backend(self) -> tuple[AvatarBackend, str | None]:
        """The backend to render with and, for 'auto', why it was chosen.

        An explicit 'flashhead' runs its preflight on the first render and fails there, before
        any work, with a DeploymentError naming every problem.
        """
        if self.backend == "lite":
            return LiteBackend(self.size, self.fps), None
        if self.flashhead_server_url:
            return self._server_backend(self.flashhead_server_url)
        options = self.flashhead_options()
        if self.backend == "flashhead":
            return FlashHeadBackend(options), None
        unusable = flashhead_unusable(options)
        if unusable is None:
            return FlashHeadBackend(options), "auto: flashhead is usable on this machine"
        return LiteBackend(self.size, self.fps), "auto: flashhead is not usable here: " + unusable.replace("\n", "; ")

    def _server_backend(self, url: str) -> tuple[AvatarBackend, str | None]:
        if self.backend == "flashhead":
            return FlashHeadServerBackend(url), None
        unusable = flashhead_server_unusable(url)
        if unusable is None:
            return FlashHeadServerBackend(url), f"auto: the avatar server at {url} answers"
        return LiteBackend(self.size, self.fps), "auto: " + unusable

    def render(
        self,
        speech_wav: Path,
        out_mp4: Path,
        ffmpeg: str,
        progress: Callable[[int, int], None] | None = None,
        portrait: str | None = None,
    ) -> AvatarResult:
        backend, choice = self.resolved_backend()
        result = backend.render(self.portrait_path(portrait), speech_wav, out_mp4, ffmpeg, progress)
        return replace(result, choice=choice)
