"""Speech -> per-video-frame mouth openness in [0, 1].

The envelope is the speech-band (300-3000 Hz) energy on a 10 ms hop, mapped from decibels to
[0, 1] against robust percentiles, gated so silence gives exactly 0, smoothed with an
asymmetric one-pole filter (fast attack, slower release) and sampled at the video frame centres.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np

BAND_HZ = (300.0, 3000.0)
HOP_S = 0.010
WINDOW_S = 0.032
ATTACK_S = 0.035
RELEASE_S = 0.100
LEAD_S = 0.030  # sample the envelope slightly early: lips move before the sound they make
RANGE_DB = 30.0  # openness goes 0 -> 1 over this range below the loud-speech level
ABS_FLOOR_DB = -70.0  # below this band level (dBFS) a frame is silence whatever the file
PEAK_PERCENTILE = 95.0
GAMMA = 1.3  # >1 keeps consonants fairly closed and lets vowels open wide
CLOSED_BELOW = 0.03  # smaller openness is invisible (a fraction of a pixel): snap it to 0


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Samples of a PCM WAV as mono float32 in [-1, 1], and the sample rate."""
    with wave.open(str(path), "rb") as wf:
        channels, width, rate = wf.getnchannels(), wf.getsampwidth(), wf.getframerate()
        raw = wf.readframes(wf.getnframes())
    usable = len(raw) // (width * channels) * width * channels
    raw = raw[:usable]
    if width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / float(1 << 23)
    elif width == 4:
        x = np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    else:
        raise ValueError(f"{path}: unsupported WAV sample width {width} bytes")
    return x.reshape(-1, channels).mean(axis=1), rate


def frame_count(n_samples: int, rate: int, fps: int) -> int:
    """``ceil(duration * fps)`` computed exactly in integers."""
    return -(-n_samples * fps // rate)


def wav_frame_count(path: Path, fps: int) -> int:
    """How many video frames cover the WAV at ``path``."""
    with wave.open(str(path), "rb") as wf:
        return frame_count(wf.getnframes(), wf.getframerate(), fps)


def mouth_openness(path: Path, fps: int) -> np.ndarray:
    """Per-frame mouth openness of the speech WAV at ``path``: ``ceil(duration * fps)`` floats."""
    samples, rate = read_wav(path)
    return openness_from_samples(samples, rate, fps)


def openness_from_samples(samples: np.ndarray, rate: int, fps: int) -> np.ndarray:
    """Per-frame mouth openness of mono float samples.

    Steps:
      1. Speech-band level in dB on a 10 ms hop.
      2. Map dB to [0, 1] against the loud-speech percentile, with a noise gate.
      3. Asymmetric attack/release smoothing.
      4. Sample at the video frame centres (a little early), exactly ceil(duration * fps) values.
    """
    n_frames = frame_count(len(samples), rate, fps)
    if n_frames == 0:
        return np.zeros(0, dtype=np.float32)
    # 1. Speech-band level.
    level_db = band_level_db(samples, rate)
    # 2. Normalise and gate.
    target = normalise_level(level_db)
    # 3. Smooth. The hop is a whole number of samples, so not exactly HOP_S (220 samples at
    # 22050 Hz is 9.977 ms): use the true hop, or the mouth drifts behind the audio by
    # ~2 ms per second of speech (two frames late after 30 s).
    hop_s = _hop_samples(rate) / rate
    env = attack_release(target, hop_s, ATTACK_S, RELEASE_S)
    # 4. Sample at frame centres.
    hop_times = np.arange(len(env)) * hop_s
    frame_times = (np.arange(n_frames) + 0.5) / fps + LEAD_S
    out = np.interp(frame_times, hop_times, env, left=env[0], right=0.0)
    out[out < CLOSED_BELOW] = 0.0  # let the smoother's tail settle to exactly closed
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _hop_samples(rate: int) -> int:
    """The analysis hop in whole samples: HOP_S rounded (its true length is this / rate)."""
    return max(1, round(rate * HOP_S))


def band_level_db(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mean power (dBFS) in BAND_HZ of Hann-windowed frames centred every ``_hop_samples(rate)``."""
    hop = _hop_samples(rate)
    win = 1 << max(6, math.ceil(math.log2(rate * WINDOW_S)))
    n_hops = max(1, -(-len(samples) // hop))
    padded = np.zeros(n_hops * hop + win, dtype=np.float32)
    padded[win // 2 : win // 2 + len(samples)] = samples
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:n_hops]
    window = np.hanning(win).astype(np.float32)
    spectrum = np.fft.rfft(frames * window, axis=1)
    freqs = np.fft.rfftfreq(win, 1.0 / rate)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    power = (np.abs(spectrum[:, band]) ** 2).mean(axis=1) / float((window**2).sum())
    return 10.0 * np.log10(power + 1e-12)


def normalise_level(level_db: np.ndarray) -> np.ndarray:
    """dB -> [0, 1]: 1 at the loud-speech percentile, 0 at RANGE_DB below it or at the floor."""
    voiced = level_db[level_db > ABS_FLOOR_DB]
    if voiced.size == 0:
        return np.zeros_like(level_db)
    peak = float(np.percentile(voiced, PEAK_PERCENTILE))
    gate = max(peak - RANGE_DB, ABS_FLOOR_DB)
    if peak - gate < 6.0:  # barely above the floor: nothing worth animating
        return np.zeros_like(level_db)
    x = np.clip((level_db - gate) / (peak - gate), 0.0, 1.0)
    return x**GAMMA


def attack_release(x: np.ndarray, dt: float, attack_s: float, release_s: float) -> np.ndarray:
    """Asymmetric one-pole smoother: follows rises with ``attack_s``, falls with ``release_s``."""
    a_up = 1.0 - math.exp(-dt / attack_s)
    a_down = 1.0 - math.exp(-dt / release_s)
    out = np.empty(len(x), dtype=np.float64)
    y = 0.0
    for i, v in enumerate(x.tolist()):
        y += (a_up if v > y else a_down) * (v - y)
        out[i] = y
    return out
