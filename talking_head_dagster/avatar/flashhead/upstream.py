"""The SoulX-FlashHead code this project drives: where it comes from and the commit it is pinned to.

The adapter calls five functions of ``flash_head/inference.py`` (``get_pipeline``,
``get_base_data``, ``get_infer_params``, ``get_audio_embedding``, ``run_pipeline``) and relies on
the streaming behaviour read at this commit; another commit may change either, so the
checkout must be at exactly this one (``vendor/README.md`` says how).
"""

REPOSITORY_URL = "https://github.com/Soul-AILab/SoulX-FlashHead"
PINNED_COMMIT = "12467cef31a9554cd9682a0521e6e87deaef9810"

# The package upstream imports itself as, and the module holding its Python API.
PACKAGE = "flash_head"
INFERENCE_MODULE = "flash_head.inference"
INFERENCE_FILE = "flash_head/inference.py"

# What upstream's code imports besides PyTorch (checked by the CUDA check) and numpy, as
# module -> package to install. Read from its flash_head/ sources at the pinned commit.
IMPORTED_MODULES = {
    "torchvision": "torchvision",
    "diffusers": "diffusers",
    "transformers": "transformers",
    "xfuser": "xfuser",
    "einops": "einops",
    "loguru": "loguru",
    "safetensors": "safetensors",
    "pyloudnorm": "pyloudnorm",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "mediapipe": "mediapipe",
}

# Where the weights come from (the operator downloads them; see the README).
MODEL_REPOSITORY = "Soul-AILab/SoulX-FlashHead-1_3B"
WAV2VEC_REPOSITORY = "facebook/wav2vec2-base-960h"


def checkout_instructions(vendor_dir: object) -> str:
    """The commands that put the pinned checkout at ``vendor_dir``."""
    return f"git clone {REPOSITORY_URL} {vendor_dir} && git -C {vendor_dir} checkout {PINNED_COMMIT}"
