"""Measure lip sync of a rendered talking head, independently of the renderer.

Three small tools, shared by the tests and the benchmark:

* :func:`lip_gaps` runs MediaPipe's face mesh on rendered frames and returns, per frame, the
  inner-lip gap (landmarks 13 and 14) divided by the face height (landmarks 10 to 152), so the
  value does not depend on the frame size or on the head's sway; :func:`lip_measures` adds the
  mouth width (corners 61 and 291), to judge the mouth's shape.
* :func:`speech_envelope` is the plain RMS of the raw WAV samples in each video frame's time
  slot. It deliberately shares nothing with :mod:`talking_head_dagster.avatar.mouth` (no band
  filter, no gate, no smoothing, its own WAV reader), so a good score is not circular.
* :func:`pearson` correlates the two; :func:`lipsync_score` puts it together.
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

UPPER_INNER_LIP = 13
LOWER_INNER_LIP = 14
FOREHEAD = 10
CHIN = 152
MOUTH_CORNERS = (61, 291)


def read_samples(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples of a 16-bit PCM WAV (what Piper and the tests write), and the rate."""
    with wave.open(str(path), "rb") as wf:
        if wf.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM, got {wf.getsampwidth() * 8}-bit")
        channels, rate = wf.getnchannels(), wf.getframerate()
        raw = wf.readframes(wf.getnframes())
    x = np.frombuffer(raw, "<i2").astype(np.float64) / 32768.0
    return x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1), rate


def speech_envelope(path: Path, fps: int) -> np.ndarray:
    """RMS of the raw samples in each video frame's slot [i / fps, (i + 1) / fps): ceil(dur * fps) values."""
    x, rate = read_samples(path)
    n = -(-len(x) * fps // rate)
    edges = np.arange(n + 1) * rate // fps
    sq = np.concatenate([[0.0], np.cumsum(x * x)])
    counts = np.maximum(np.diff(edges), 1)
    return np.sqrt(np.maximum(np.diff(sq[np.minimum(edges, len(x))]), 0.0) / counts)


def decode_rgb(ffmpeg: str, mp4: Path, width: int, height: int) -> np.ndarray:
    """All video frames of ``mp4`` as an (n, height, width, 3) RGB uint8 array."""
    cmd = [ffmpeg, "-v", "error", "-i", str(mp4), "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    frame_bytes = width * height * 3
    if len(raw) % frame_bytes:
        raise ValueError(f"{mp4}: decoded {len(raw)} bytes, not a whole number of {width}x{height} frames")
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def lip_gaps(frames_rgb: Iterable[np.ndarray]) -> np.ndarray:
    """Per frame, the inner-lip gap |p13 - p14| / |p10 - p152| seen by the face mesh (NaN: no face).

    The mesh runs in video (tracking) mode, as on a real clip; ``refine_landmarks`` turns on
    MediaPipe's lip refinement, which places the inner lip contour on the visible lip edge.
    """
    return lip_measures(frames_rgb)[:, 0]


def lip_measures(frames_rgb: Iterable[np.ndarray]) -> np.ndarray:
    """Per frame, (inner-lip gap, mouth width |p61 - p291|), both / face height; NaN: no face."""
    import mediapipe as mp

    out: list[tuple[float, float]] = []
    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.5
    ) as mesh:
        for frame in frames_rgb:
            h, w = frame.shape[:2]
            result = mesh.process(np.ascontiguousarray(frame))
            if not result.multi_face_landmarks:
                out.append((float("nan"), float("nan")))
                continue
            lm = result.multi_face_landmarks[0].landmark

            def xy(i: int, lm=lm, w=w, h=h) -> np.ndarray:
                return np.array([lm[i].x * w, lm[i].y * h])

            gap = float(np.linalg.norm(xy(UPPER_INNER_LIP) - xy(LOWER_INNER_LIP)))
            width = float(np.linalg.norm(xy(MOUTH_CORNERS[0]) - xy(MOUTH_CORNERS[1])))
            face = float(np.linalg.norm(xy(FOREHEAD) - xy(CHIN)))
            out.append((gap / face, width / face) if face > 0 else (float("nan"), float("nan")))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation over the frames where both are finite; 0.0 if either is constant.

    A constant series (a mouth that never moves, or a silent envelope) has no correlation with
    anything, so it scores 0 rather than NaN: "ignores the audio" must score low, not undefined.
    """
    n = min(len(a), len(b))
    a, b = np.asarray(a[:n], np.float64), np.asarray(b[:n], np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if len(a) < 3:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if den <= 1e-12 * max(len(a), 1):
        return 0.0
    return float((a * b).sum() / den)


def lipsync_score(ffmpeg: str, mp4: Path, speech_wav: Path, size: int, fps: int) -> tuple[float, np.ndarray]:
    """Pearson(lip gap, speech envelope) of a rendered square clip, and the lip gaps."""
    gaps = lip_gaps(decode_rgb(ffmpeg, mp4, size, size))
    return pearson(gaps, speech_envelope(speech_wav, fps)), gaps


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM of two grey uint8 images (Wang et al. 2004: 11x11 Gaussian, sigma 1.5).

    The same definition as ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    use_sample_covariance=False)``, done with OpenCV filters in float32 (fast enough per frame).
    """
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    x, y = a.astype(np.float32), b.astype(np.float32)

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(img, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
