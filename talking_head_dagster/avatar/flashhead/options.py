"""How a deployment configures the flashhead backend (from ``AvatarSettings.flashhead``)."""

from dataclasses import dataclass
from pathlib import Path

from talking_head_dagster.avatar.flashhead.weights import ModelType

# Free GPU memory a render needs by default, per model: estimates from the weights' sizes (bf16
# parameters, fp32 wav2vec) plus room for decoding 33 frames, not measurements; override with
# AVATAR__FLASHHEAD__MIN_FREE_GPU_GIB.
DEFAULT_MIN_FREE_GPU_GIB: dict[ModelType, float] = {"lite": 8.0, "pro": 12.0}


@dataclass(frozen=True)
class FlashHeadOptions:
    vendor_dir: Path = Path("vendor/SoulX-FlashHead")
    ckpt_dir: Path = Path("models/SoulX-FlashHead-1_3B")
    wav2vec_dir: Path = Path("models/wav2vec2-base-960h")
    model_type: ModelType = "lite"
    seed: int = 42
    face_crop: bool = False
    min_free_gpu_gib: float | None = None  # None: DEFAULT_MIN_FREE_GPU_GIB of the model
    size: int = 512  # the frame size and rate the deployment expects; upstream must render the same
    fps: int = 25

    @property
    def required_free_gib(self) -> float:
        if self.min_free_gpu_gib is not None:
            return self.min_free_gpu_gib
        return DEFAULT_MIN_FREE_GPU_GIB[self.model_type]

    def pipeline_key(self) -> tuple[Path, Path, Path, ModelType]:
        """What a loaded pipeline depends on (seed and face crop are applied per render)."""
        return (self.vendor_dir.resolve(), self.ckpt_dir.resolve(), self.wav2vec_dir.resolve(), self.model_type)
