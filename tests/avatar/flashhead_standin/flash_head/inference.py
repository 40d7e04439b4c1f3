"""STAND-IN for SoulX-FlashHead's ``flash_head/inference.py``, for tests without a GPU. Not the model.

Same five functions with the same signatures as upstream's module at the pinned commit, numpy
instead of PyTorch, and frames that encode their origin (see ../../README.md). Like upstream, it
opens its parameters by a path relative to the working directory when imported.
"""

import copy

import numpy as np
import yaml

with open("flash_head/configs/infer_params.yaml") as f:
    infer_params = yaml.safe_load(f)

# Every get_pipeline call of the process, for tests to count loads.
LOADS: list[dict] = []

# The temporal stride of each model's VAE decides how many frames a call repeats (Lite 9, Pro 5).
VAE_TEMPORAL_STRIDE = {"lite": 8, "pro": 4}
MOTION_LATENT_FRAMES = 2


class StandInPipeline:
    def __init__(self, ckpt_dir: str, model_type: str, wav2vec_dir: str) -> None:
        self.ckpt_dir = ckpt_dir
        self.model_type = model_type
        self.wav2vec_dir = wav2vec_dir
        self.base_data: dict | None = None
        self.calls = 0


def get_pipeline(world_size, ckpt_dir, model_type, wav2vec_dir):
    LOADS.append({"world_size": world_size, "ckpt_dir": ckpt_dir, "model_type": model_type, "wav2vec_dir": wav2vec_dir})
    infer_params["motion_frames_num"] = (MOTION_LATENT_FRAMES - 1) * VAE_TEMPORAL_STRIDE[model_type] + 1
    return StandInPipeline(ckpt_dir, model_type, wav2vec_dir)


def get_base_data(pipeline, cond_image_path_or_dir, base_seed, use_face_crop):
    pipeline.base_data = {"image": cond_image_path_or_dir, "seed": base_seed, "face_crop": use_face_crop}
    pipeline.calls = 0


def get_infer_params():
    return copy.deepcopy(infer_params)


def get_audio_embedding(pipeline, audio_array, audio_start_idx=-1, audio_end_idx=-1):
    """Per video frame of [start, end): the loudest sample of that frame's audio. Shape [1, frames]."""
    per_frame = infer_params["sample_rate"] // infer_params["tgt_fps"]
    audio = np.asarray(audio_array, dtype=np.float32)
    frames = len(audio) // per_frame
    if audio_start_idx == -1 or audio_end_idx == -1:
        audio_start_idx, audio_end_idx = 0, frames
    peaks = np.abs(audio[: frames * per_frame]).reshape(frames, per_frame).max(axis=1)
    return peaks[audio_start_idx:audio_end_idx][None, :]


def run_pipeline(pipeline, audio_embedding):
    """frame_num float frames [T, H, W, 3] in 0..255, like upstream's output before conversion."""
    if pipeline.base_data is None:
        raise RuntimeError("get_base_data was not called")
    frame_num, height, width = infer_params["frame_num"], infer_params["height"], infer_params["width"]
    peaks = audio_embedding[0]
    if len(peaks) != frame_num:
        raise ValueError(f"an embedding of {len(peaks)} frames, expected {frame_num}")
    colours = np.stack(
        [
            np.full(frame_num, 8 + 16 * pipeline.calls),
            8 + 7 * np.arange(frame_num),
            np.clip(peaks * 255, 0, 255),
        ],
        axis=1,
    ).astype(np.float32)
    pipeline.calls += 1
    return np.broadcast_to(colours[:, None, None, :], (frame_num, height, width, 3))
