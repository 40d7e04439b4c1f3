"""Upstream's streaming arithmetic, and the padding and trimming that keep every word of the speech.

How SoulX-FlashHead streams (its ``generate_video.py``, ``--audio_encode_mode stream``): each
pipeline call makes ``frame_num`` (33) frames, of which the first ``motion_frames`` (9 Lite,
5 Pro) repeat the end of the previous call, so each call adds ``frame_num - motion_frames``
new frames (24 Lite, 28 Pro). Each call sees an ``window_s`` (8 s) rolling window of 16 kHz
audio that ends with the new chunk's audio; the audio embedding is taken for the window's
last ``frame_num`` video frames, so the new frames line up with the new audio.

The original integration cut the speech into whole chunks and dropped the remainder: up to
one chunk (0.96 s for Lite) of the last words never animated. Here the speech is padded with
silence to whole chunks and the frames trimmed back, so a render has exactly
``ceil(duration * fps)`` frames and its last ones come from audio that holds the last words.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StreamPlan:
    sample_rate: int  # audio samples per second the pipeline takes (16 kHz)
    fps: int  # video frames per second it makes (25)
    frame_num: int  # frames per pipeline call (33)
    motion_frames: int  # frames of each call that repeat the previous call's end
    window_s: int  # seconds of audio each call sees (8)

    def __post_init__(self) -> None:
        if self.sample_rate % self.fps:
            raise ValueError(f"{self.sample_rate} Hz is not a whole number of samples per frame at {self.fps} fps")
        if not 0 <= self.motion_frames < self.frame_num:
            raise ValueError(f"motion_frames {self.motion_frames} must be in [0, frame_num={self.frame_num})")
        if self.window_frames < self.frame_num:
            raise ValueError(f"a {self.window_s} s audio window is shorter than {self.frame_num} frames")

    @classmethod
    def from_infer_params(cls, params: Mapping[str, object]) -> "StreamPlan":
        """From upstream's ``get_infer_params()`` once ``get_pipeline`` has set ``motion_frames_num``."""
        try:
            return cls(
                sample_rate=int(params["sample_rate"]),
                fps=int(params["tgt_fps"]),
                frame_num=int(params["frame_num"]),
                motion_frames=int(params["motion_frames_num"]),
                window_s=int(params["cached_audio_duration"]),
            )
        except KeyError as exc:
            raise ValueError(f"upstream's inference parameters lack {exc.args[0]!r}") from exc

    @property
    def samples_per_frame(self) -> int:
        return self.sample_rate // self.fps

    @property
    def new_frames(self) -> int:
        """Frames each call adds (upstream's ``slice_len``)."""
        return self.frame_num - self.motion_frames

    @property
    def chunk_samples(self) -> int:
        """Audio samples each call adds to the window."""
        return self.new_frames * self.samples_per_frame

    @property
    def window_samples(self) -> int:
        return self.window_s * self.sample_rate

    @property
    def window_frames(self) -> int:
        return self.window_s * self.fps

    @property
    def embedding_range(self) -> tuple[int, int]:
        """(start, end) video frames of the window whose audio embedding a call takes: its last ``frame_num``."""
        return self.window_frames - self.frame_num, self.window_frames

    def chunks_for(self, frames: int) -> int:
        """Pipeline calls needed for ``frames`` new frames (the last one may make more than needed)."""
        return -(-frames // self.new_frames)

    def padded(self, audio: np.ndarray, frames: int) -> np.ndarray:
        """``audio`` with silence appended up to whole chunks covering ``frames`` frames.

        Resampling can leave a few samples more than ``frames`` frames hold; those lie past the
        end of the speech and are cut.
        """
        length = self.chunks_for(frames) * self.chunk_samples
        audio = np.asarray(audio, dtype=np.float32)[:length]
        return np.pad(audio, (0, length - len(audio)))

    def chunks(self, audio: np.ndarray, frames: int) -> Iterator[np.ndarray]:
        """The audio each call adds, in order: ``chunks_for(frames)`` slices of ``chunk_samples``."""
        padded = self.padded(audio, frames)
        yield from padded.reshape(-1, self.chunk_samples)


class AudioWindow:
    """The rolling audio window upstream keeps: starts silent, each chunk pushes the oldest samples out."""

    def __init__(self, samples: int) -> None:
        self._samples = np.zeros(samples, np.float32)

    def push(self, chunk: np.ndarray) -> np.ndarray:
        """Append ``chunk`` and return the window now (a fresh array the caller may keep)."""
        n = len(chunk)
        if n > len(self._samples):
            raise ValueError(f"a chunk of {n} samples does not fit a window of {len(self._samples)}")
        self._samples = np.concatenate([self._samples[n:], np.asarray(chunk, np.float32)])
        return self._samples
