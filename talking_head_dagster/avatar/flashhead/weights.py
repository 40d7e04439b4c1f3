"""The weight files SoulX-FlashHead loads, and which of them a machine lacks or holds only in part.

Read from the pinned upstream code: ``FlashHeadPipeline`` loads ``<ckpt>/Model_Lite`` and
``<ckpt>/VAE_LTX`` (Lite) or ``<ckpt>/Model_Pro`` and ``<ckpt>/VAE_Wan/Wan2.1_VAE.pth`` (Pro),
each model folder as a diffusers ``config.json`` + ``diffusion_pytorch_model.safetensors``, and
wav2vec2 with ``transformers`` from ``<wav2vec>`` (config, preprocessor config, and the weights
as safetensors or a PyTorch ``.bin``). Sizes are those of the published files: a file much
smaller than that is an interrupted copy or a Git LFS pointer, which would fail deep inside
the model load.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ModelType = Literal["lite", "pro"]

INCOMPLETE_BELOW = 0.9  # a weight file under 90 % of its published size is incomplete


@dataclass(frozen=True)
class WeightFile:
    path: str  # relative to its folder (the checkpoint or the wav2vec folder)
    size: int = 0  # published size in bytes; 0 for small JSON files (those must parse instead)
    alternative: str | None = None  # another name upstream loads the same weights from

    def describe(self) -> str:
        return f"{self.path} (or {self.alternative})" if self.alternative else self.path


_CONFIG = "config.json"
_DIFFUSERS = "diffusion_pytorch_model.safetensors"

MODEL_FILES: dict[ModelType, tuple[WeightFile, ...]] = {
    "lite": (
        WeightFile(f"Model_Lite/{_CONFIG}"),
        WeightFile(f"Model_Lite/{_DIFFUSERS}", 6_107_542_048),
        WeightFile(f"VAE_LTX/{_CONFIG}"),
        WeightFile(f"VAE_LTX/{_DIFFUSERS}", 1_676_798_532),
    ),
    "pro": (
        WeightFile(f"Model_Pro/{_CONFIG}"),
        WeightFile(f"Model_Pro/{_DIFFUSERS}", 6_030_864_656),
        WeightFile("VAE_Wan/Wan2.1_VAE.pth", 507_609_880),
    ),
}

WAV2VEC_FILES: tuple[WeightFile, ...] = (
    WeightFile(_CONFIG),
    WeightFile("preprocessor_config.json"),
    WeightFile("model.safetensors", 377_607_901, alternative="pytorch_model.bin"),
)


@dataclass(frozen=True)
class WeightsStatus:
    present: list[str]
    missing: list[str]
    incomplete: list[str]  # each with what is wrong

    @property
    def ok(self) -> bool:
        return not self.missing and not self.incomplete

    def problems(self) -> list[str]:
        return [f"missing {name}" for name in self.missing] + [f"incomplete {text}" for text in self.incomplete]


def check_weights(model_type: ModelType, ckpt_dir: Path, wav2vec_dir: Path) -> WeightsStatus:
    """Every file ``model_type`` needs, sorted into present, missing and incomplete (full paths)."""
    present: list[str] = []
    missing: list[str] = []
    incomplete: list[str] = []
    wanted = [(ckpt_dir, spec) for spec in MODEL_FILES[model_type]] + [(wav2vec_dir, spec) for spec in WAV2VEC_FILES]
    for folder, spec in wanted:
        path = _existing(folder, spec)
        if path is None:
            missing.append(str(folder / spec.describe()))
            continue
        problem = _problem(path, spec)
        if problem:
            incomplete.append(f"{path}: {problem}")
        else:
            present.append(str(path))
    return WeightsStatus(present, missing, incomplete)


def _existing(folder: Path, spec: WeightFile) -> Path | None:
    for name in (spec.path, spec.alternative):
        if name and (folder / name).is_file():
            return folder / name
    return None


def _problem(path: Path, spec: WeightFile) -> str | None:
    if path.suffix == ".json":
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return f"not readable JSON ({exc.__class__.__name__})"
        return None
    size = path.stat().st_size
    if size < INCOMPLETE_BELOW * spec.size:
        return f"{size:,} bytes, the published file has {spec.size:,}"
    return None
