"""The chunk loop: speech in, exactly ``frames`` RGB frames out, through upstream's streaming API."""

from collections.abc import Iterator
from types import ModuleType

import numpy as np

from talking_head_dagster.avatar.flashhead.chunking import AudioWindow, StreamPlan


def stream_frames(
    inference: ModuleType, pipeline: object, plan: StreamPlan, audio: np.ndarray, frames: int
) -> Iterator[np.ndarray]:
    """Yield ``frames`` uint8 RGB frames (H x W x 3) animated by ``audio`` (mono, ``plan.sample_rate``).

    ``inference`` is upstream's ``flash_head.inference`` (or the test stand-in) and ``pipeline``
    what its ``get_pipeline`` returned, with ``get_base_data`` already applied.

    Steps, per chunk of new audio:
      1. push it into the rolling window;
      2. embed the window's last ``frame_num`` frames of audio;
      3. generate ``frame_num`` frames and drop the ``motion_frames`` that repeat the last call;
      4. yield the new frames, stopping at ``frames`` (the last chunk is padding past that).
    """
    window = AudioWindow(plan.window_samples)
    start, end = plan.embedding_range
    emitted = 0
    for chunk in plan.chunks(audio, frames):
        # 1. Window.
        samples = window.push(chunk)
        # 2. Audio embedding.
        embedding = inference.get_audio_embedding(pipeline, samples, start, end)
        # 3. Frames.
        video = inference.run_pipeline(pipeline, embedding)
        if len(video) != plan.frame_num:
            raise RuntimeError(
                f"SoulX-FlashHead returned {len(video)} frames for a chunk, expected {plan.frame_num}: "
                "is the checkout at the pinned commit?"
            )
        new = to_uint8_rgb(video[plan.motion_frames :])
        # 4. Only the frames the speech needs.
        yield from new[: frames - emitted]
        emitted = min(frames, emitted + len(new))


def to_uint8_rgb(video: object) -> np.ndarray:
    """[T, H, W, 3] frames in 0..255 as uint8, rounded; a torch tensor is converted on its device first."""
    if hasattr(video, "detach"):  # torch: round on the GPU and copy a quarter of the bytes
        import torch

        video = video.detach().round().clamp(0, 255).to(torch.uint8).cpu().numpy()
    array = np.asarray(video)
    if array.dtype != np.uint8:
        array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    if array.ndim != 4 or array.shape[-1] != 3:
        raise RuntimeError(f"SoulX-FlashHead returned frames of shape {array.shape}, expected [T, H, W, 3]")
    return array
