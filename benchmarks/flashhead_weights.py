"""Random SoulX-FlashHead weights in the published layout, for benchmarking without the real ones.

The compute of a render does not depend on the weights' values, so a model built from the
published architecture with random values runs exactly the work the real one does (its frames
are noise). The folders written here have the layout and file formats ``FlashHeadPipeline``
loads (``weights.py`` lists them), so the adapter's preflight, loader and renderer run unchanged.

Architectures:
- the DiT (``Model_Lite`` / ``Model_Pro``): upstream's ``WanModelAudioProject`` with the Wan 1.3B
  dimensions below; its parameter count times 4 bytes matches the published fp32 file
  (``parameter_bytes`` checks it: 6,107,542,048 and 6,030,864,656 bytes less the file header);
- ``VAE_LTX``: diffusers' ``AutoencoderKLLTXVideo`` with the one config upstream accepts (its
  ``diffusers_config_mapping.DIFFUSERS_VAE_CONFIG``), saved with that exact ``config.json``;
- ``VAE_Wan``: upstream's ``WanVAE`` model (``_video_vae`` defaults), saved as a ``.pth`` state dict;
- wav2vec2: transformers' base architecture (``Wav2Vec2Config()``, 12 layers of 768), saved as
  safetensors, with the default feature extractor.

``layers`` shrinks the DiT (for a CPU check of the code path only: the figures then mean nothing).
Upstream must already be importable (its checkout on ``sys.path``; see ``flashhead_cpu.py``
for machines without CUDA).
"""

import json
import math
from pathlib import Path

import torch

DIT_LITE = {
    "dim": 1536,
    "in_dim": 256,  # 128 noise latent channels + 128 reference-image latent channels (LTX VAE)
    "ffn_dim": 8960,
    "out_dim": 128,
    "text_dim": 4096,
    "freq_dim": 256,
    "eps": 1e-6,
    "vae_stride": [8, 32, 32],
    "patch_size": [1, 1, 1],
    "num_heads": 12,
    "num_layers": 30,
    "has_image_input": False,
}
DIT_PRO = DIT_LITE | {
    "in_dim": 32,  # 16 + 16 channels (Wan VAE)
    "out_dim": 16,
    "vae_stride": [4, 8, 8],
    "patch_size": [1, 2, 2],
}
DIT = {"lite": ("Model_Lite", DIT_LITE), "pro": ("Model_Pro", DIT_PRO)}


def dit_config(model_type: str, layers: int | None = None) -> dict:
    config = dict(DIT[model_type][1])
    if layers is not None:
        config["num_layers"] = layers
    return config


def parameter_bytes(model_type: str) -> int:
    """fp32 bytes of the full DiT's parameters, counted on PyTorch's meta device (no memory used)."""
    from flash_head.src.modules.flash_head_model import WanModelAudioProject

    with torch.device("meta"):
        model = WanModelAudioProject(**dit_config(model_type))
    return 4 * sum(math.prod(p.shape) for p in model.parameters())


def build_random_weights(
    model_type: str, ckpt_dir: Path, wav2vec_dir: Path, layers: int | None = None, seed: int = 0
) -> None:
    """Write a random ``model_type`` checkpoint into ``ckpt_dir`` and a random wav2vec2 into ``wav2vec_dir``.

    Skips what a previous call with the same arguments already wrote (a marker file per folder).
    """
    torch.manual_seed(seed)
    folder, _ = DIT[model_type]
    _once(ckpt_dir / folder, {"layers": layers, "seed": seed}, lambda out: _write_dit(model_type, out, layers))
    if model_type == "lite":
        _once(ckpt_dir / "VAE_LTX", {"seed": seed}, _write_ltx_vae)
    else:
        _once(ckpt_dir / "VAE_Wan", {"seed": seed}, _write_wan_vae)
    _once(wav2vec_dir, {"seed": seed}, _write_wav2vec)


def _once(folder: Path, key: dict, write) -> None:
    marker = folder / ".random-weights.json"
    if marker.is_file() and json.loads(marker.read_text()) == key:
        return
    folder.mkdir(parents=True, exist_ok=True)
    write(folder)
    marker.write_text(json.dumps(key))


def _write_dit(model_type: str, out: Path, layers: int | None) -> None:
    from flash_head.src.modules.flash_head_model import WanModelAudioProject

    model = WanModelAudioProject(**dit_config(model_type, layers))
    model.save_pretrained(out, safe_serialization=True, max_shard_size="100GB")


def _write_ltx_vae(out: Path) -> None:
    from diffusers import AutoencoderKLLTXVideo
    from flash_head.ltx_video.utils.diffusers_config_mapping import DIFFUSERS_VAE_CONFIG

    arguments = {k: v for k, v in DIFFUSERS_VAE_CONFIG.items() if not k.startswith("_")}
    model = AutoencoderKLLTXVideo(**arguments)
    # The latent statistics are buffers of ones and zeros by default; real ones are not.
    model.latents_mean.normal_(0.0, 0.1)
    model.latents_std.uniform_(0.5, 1.5)
    model.save_pretrained(out, safe_serialization=True, max_shard_size="100GB")
    # Upstream accepts the config only if it equals the one it knows, key for key.
    (out / "config.json").write_text(json.dumps(DIFFUSERS_VAE_CONFIG, indent=2))


def _write_wan_vae(out: Path) -> None:
    from flash_head.wan.modules.vae import WanVAE_

    model = WanVAE_(dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
                    temperal_downsample=[False, True, True], dropout=0.0)  # fmt: skip
    torch.save(model.state_dict(), out / "Wan2.1_VAE.pth")


def _write_wav2vec(out: Path) -> None:
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    Wav2Vec2Model(Wav2Vec2Config()).save_pretrained(out, safe_serialization=True)
    Wav2Vec2FeatureExtractor(return_attention_mask=False, do_normalize=True).save_pretrained(out)
