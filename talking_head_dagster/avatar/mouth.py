"""Speech -> per-video-frame mouth drivers: openness in [0, 1] and shape in [-1, 1].

Openness: the speech-band (300-3000 Hz) energy on a 10 ms hop, mapped from decibels to [0, 1]
against robust percentiles, gated so silence gives exactly 0, smoothed with an asymmetric
one-pole filter (fast attack, slower release) and sampled at the video frame centres.

Closures: a short, deep dip of that energy between two louder stretches (within ~0.1 s each
side) whose spectrum is not a hiss (so /s/, /sh/, /f/ do not count) is a lip closure, as on
/p/, /b/ and /m/; it shuts the mouth for the frames it covers. (From the energy alone a /t/ or
/k/ closure looks the same: those close the mouth too, which reads well at 25 fps.)

Shape: the first two formants from an LPC envelope per hop. A high second formant (/i/, /e/,
"ee") spreads the lips, a low one with a low first formant (/u/, /o/, "oo") rounds them;
weighted by how voiced the hop is, smoothed without lag (zero-phase) and held at 0 in silence.
Formants are used rather than MFCC templates (pylipsync): they need no per-voice templates, no
new dependency (librosa), and give rounded/spread directly; closures come from the energy.
"""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass
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
# Closures.
CLOSURE_WINDOW_S = 0.016  # a short analysis window: a 60 ms closure must show as a dip
CLOSURE_REACH_S = 0.10  # the louder neighbours are looked for this far on each side
CLOSURE_DEPTH_DB = (7.0, 15.0)  # a dip this far below both neighbours: closure 0 -> 1
CLOSURE_HISS_DB = (-2.0, 8.0)  # 3.5-8 kHz level above the speech band: a fricative, not lips
CLOSURE_RELEASE_S = 0.025
# Shape (formants, Hz; tuned on an adult voice, the thresholds are wide).
LPC_WINDOW_S = 0.025
SPREAD_F2 = (1650.0, 2100.0)  # F2 above this spreads the lips
ROUND_F2 = (1700.0, 1250.0)  # F2 below this rounds them...
ROUND_F1 = (650.0, 480.0)  # ...if F1 is low too (/u/, /o/; not the open /a/)
SHAPE_SIGMA_S = 0.05  # zero-phase Gaussian smoothing of the shape
SHAPE_ACTIVE = 0.12  # the shape fades in as the openness envelope rises to this


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


@dataclass(frozen=True)
class MouthDrivers:
    """Per-frame mouth drivers: ``openness`` in [0, 1] (0 = at rest, closures included),
    ``shape`` in [-1, 1] (< 0 rounded, > 0 spread) and ``closure`` in [0, 1] (lips pressed)."""

    openness: np.ndarray
    shape: np.ndarray
    closure: np.ndarray


def openness_from_samples(samples: np.ndarray, rate: int, fps: int) -> np.ndarray:
    """Per-frame mouth openness of mono float samples (closures included)."""
    return mouth_drivers(samples, rate, fps).openness


def mouth_drivers(samples: np.ndarray, rate: int, fps: int) -> MouthDrivers:
    """Per-frame openness, shape and closure of mono float samples.

    Steps:
      1. Speech-band level in dB on a 10 ms hop.
      2. Map dB to [0, 1] against the loud-speech percentile, with a noise gate.
      3. Asymmetric attack/release smoothing.
      4. Sample at the video frame centres (a little early), exactly ceil(duration * fps) values.
      5. Lip closures (short dips) shut the mouth; the shape from the formants.
    """
    n_frames = frame_count(len(samples), rate, fps)
    if n_frames == 0:
        empty = np.zeros(0, dtype=np.float32)
        return MouthDrivers(empty, empty, empty)
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
    # 5. Closures (the strongest within each frame's slot, so a 60 ms one is never missed) and shape.
    closure_hops = attack_release(closure_strength(samples, rate), hop_s, 0.5 * hop_s, CLOSURE_RELEASE_S)
    slot = np.clip(np.round((frame_times[:, None] + np.array([-0.3, 0.0, 0.3]) / fps) / hop_s), 0, len(env) - 1)
    closure = closure_hops[slot.astype(int)].max(axis=1)
    closure = np.where(out > 0, np.clip(closure, 0.0, 1.0), 0.0)
    out *= 1.0 - closure
    out[out < CLOSED_BELOW] = 0.0  # let the smoother's tail settle to exactly closed
    shape_hops = _smooth(lip_shape(samples, rate) * target**0.5, SHAPE_SIGMA_S / hop_s)
    shape = np.interp(frame_times, hop_times, shape_hops, left=0.0, right=0.0)
    active = np.clip(np.interp(frame_times, hop_times, env, left=env[0], right=0.0) / SHAPE_ACTIVE, 0.0, 1.0)
    return MouthDrivers(
        openness=np.clip(out, 0.0, 1.0).astype(np.float32),
        shape=np.clip(shape * active, -1.0, 1.0).astype(np.float32),
        closure=closure.astype(np.float32),
    )


def _hop_samples(rate: int) -> int:
    """The analysis hop in whole samples: HOP_S rounded (its true length is this / rate)."""
    return max(1, round(rate * HOP_S))


def _hop_frames(samples: np.ndarray, rate: int, win: int) -> np.ndarray:
    """Frames of ``win`` samples centred every ``_hop_samples(rate)`` (a read-only view)."""
    hop = _hop_samples(rate)
    n_hops = max(1, -(-len(samples) // hop))
    padded = np.zeros(n_hops * hop + win, dtype=np.float32)
    padded[win // 2 : win // 2 + len(samples)] = samples
    return np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:n_hops]


def band_level_db(
    samples: np.ndarray, rate: int, bands: tuple[tuple[float, float], ...] = (BAND_HZ,), window_s: float = WINDOW_S
) -> np.ndarray:
    """Mean power (dBFS) in each band of Hann-windowed frames centred every ``_hop_samples(rate)``.

    One band gives a 1-D array (one level per hop); several give (hops, bands).
    """
    win = 1 << max(6, math.ceil(math.log2(rate * window_s)))
    window = np.hanning(win).astype(np.float32)
    power = np.abs(np.fft.rfft(_hop_frames(samples, rate, win) * window, axis=1)) ** 2 / float((window**2).sum())
    freqs = np.fft.rfftfreq(win, 1.0 / rate)
    levels = [power[:, (freqs >= lo) & (freqs <= hi)].mean(axis=1) for lo, hi in bands]
    out = 10.0 * np.log10(np.stack(levels, axis=1) + 1e-12)
    return out[:, 0] if len(bands) == 1 else out


def closure_strength(samples: np.ndarray, rate: int) -> np.ndarray:
    """Per hop, how surely the lips are shut: a short dip between louder neighbours, not a hiss."""
    levels = band_level_db(samples, rate, (BAND_HZ, (3500.0, 8000.0)), CLOSURE_WINDOW_S)
    level, hiss = levels[:, 0], levels[:, 1] - levels[:, 0]
    reach = max(1, round(CLOSURE_REACH_S * rate / _hop_samples(rate)))
    floor = np.full(reach, -200.0)
    padded = np.concatenate([floor, level, floor])
    windows = np.lib.stride_tricks.sliding_window_view(padded, reach + 1)
    before, after = windows[: len(level)].max(axis=1), windows[reach:].max(axis=1)
    neighbours = np.minimum(before, after)
    # The neighbours must be speech (mapped like the openness), the dip deep and not a fricative.
    speech_around = np.clip(normalise_level(neighbours, reference=level) * 3.0, 0.0, 1.0)
    depth = _smoothstep(CLOSURE_DEPTH_DB[0], CLOSURE_DEPTH_DB[1], neighbours - level)
    voiced_hiss = np.where(level > ABS_FLOOR_DB, hiss, -100.0)
    not_hiss = 1.0 - _smoothstep(CLOSURE_HISS_DB[0], CLOSURE_HISS_DB[1], voiced_hiss)
    return np.clip(1.25 * depth * not_hiss * speech_around, 0.0, 1.0)


def formants(samples: np.ndarray, rate: int) -> np.ndarray:
    """Per hop, the first two formants (Hz; NaN where none) from an LPC envelope.

    Pre-emphasis, a Hamming window, autocorrelation LPC of order 2 + kHz (Levinson-Durbin,
    vectorised over the hops), the envelope on a 20 Hz grid and its first two peaks.
    """
    order = int(2 + rate / 1000)
    win = round(rate * LPC_WINDOW_S)
    x = np.append(samples[:1], samples[1:] - 0.97 * samples[:-1]).astype(np.float32)
    frames = _hop_frames(x, rate, win) * np.hamming(win).astype(np.float32)
    spec = np.fft.rfft(frames, 2 * win, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, : order + 1].astype(np.float64)
    ac[:, 0] = ac[:, 0] * (1.0 + 1e-9) + 1e-12
    n = len(ac)
    a = np.zeros((n, order + 1))
    a[:, 0] = 1.0
    err = ac[:, 0].copy()
    for i in range(1, order + 1):
        k = -(ac[:, i] + np.einsum("nj,nj->n", a[:, 1:i], ac[:, i - 1 : 0 : -1])) / err
        a[:, 1:i] = a[:, 1:i] + k[:, None] * a[:, i - 1 : 0 : -1]
        a[:, i] = k
        err *= 1.0 - k * k
    grid = np.arange(150.0, 3600.0, 20.0)
    basis = np.exp(-2j * np.pi * np.outer(np.arange(order + 1), grid) / rate)
    envelope = -np.log(np.abs(a @ basis) + 1e-9)
    peak = np.zeros_like(envelope, dtype=bool)
    peak[:, 1:-1] = (envelope[:, 1:-1] > envelope[:, :-2]) & (envelope[:, 1:-1] >= envelope[:, 2:])
    out = np.full((n, 2), np.nan)
    for k in range(2):
        has = peak.any(axis=1)
        first = np.argmax(peak, axis=1)
        out[has, k] = grid[first[has]]
        peak[np.arange(n), first] = False
    return out


def lip_shape(samples: np.ndarray, rate: int) -> np.ndarray:
    """Per hop, the lip shape from the formants: +1 spread (high F2), -1 rounded (low F1 and F2)."""
    f = formants(samples, rate)
    f1, f2 = np.nan_to_num(f[:, 0], nan=500.0), np.nan_to_num(f[:, 1], nan=1500.0)
    spread = _smoothstep(SPREAD_F2[0], SPREAD_F2[1], f2)
    rounded = _smoothstep(ROUND_F2[0], ROUND_F2[1], f2) * _smoothstep(ROUND_F1[0], ROUND_F1[1], f1)
    return spread - rounded


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    """0 at ``edge0``, 1 at ``edge1`` (either order), smooth in between."""
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Zero-phase Gaussian smoothing (``sigma`` in samples): no lag."""
    radius = max(1, int(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / max(sigma, 1e-6)) ** 2)
    return np.convolve(np.pad(x, radius, mode="edge"), kernel / kernel.sum(), mode="valid")


def normalise_level(level_db: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """dB -> [0, 1]: 1 at the loud-speech percentile, 0 at RANGE_DB below it or at the floor.

    The percentile is that of ``reference`` (another level track of the same speech) if given.
    """
    ref = level_db if reference is None else reference
    voiced = ref[ref > ABS_FLOOR_DB]
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
