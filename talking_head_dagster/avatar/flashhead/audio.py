"""The speech as upstream takes it: mono float32 at its sample rate (16 kHz), resampled by FFmpeg.

Upstream's own scripts load audio with librosa; FFmpeg is already a dependency of every stage
here and resamples as well, so no audio library is added for the GPU backend.
"""

import subprocess
import wave
from pathlib import Path

import numpy as np

from talking_head_dagster.avatar.mouth import frame_count
from talking_head_dagster.errors import PermanentInputError


def speech_frames(speech_wav: Path, fps: int) -> tuple[int, float]:
    """Video frames the speech needs, ``ceil(duration * fps)`` in exact integers, and its duration."""
    try:
        with wave.open(str(speech_wav), "rb") as wav:
            samples, rate = wav.getnframes(), wav.getframerate()
    except (OSError, wave.Error, EOFError) as exc:
        raise PermanentInputError(f"{speech_wav} is not a readable WAV file: {exc}") from exc
    if samples == 0:
        raise PermanentInputError(f"{speech_wav}: the speech WAV holds no audio")
    return frame_count(samples, rate, fps), samples / rate


def load_speech(ffmpeg: str, speech_wav: Path, sample_rate: int) -> np.ndarray:
    """The speech as mono float32 samples in [-1, 1] at ``sample_rate``."""
    cmd = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(speech_wav), "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "pipe:1",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True)
    if result.returncode != 0:
        tail = result.stderr.decode("utf-8", "replace").strip()[-1000:]
        raise RuntimeError(f"ffmpeg could not resample {speech_wav} to {sample_rate} Hz: {tail}")
    return np.frombuffer(result.stdout, "<f4").astype(np.float32)
