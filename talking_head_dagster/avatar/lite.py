"""The "lite" CPU avatar backend: animate a portrait's mouth, eyes and head from a speech WAV.

Everything expensive is precomputed once per render (the face-centred crop, the mouth and eye
warp fields, the blink schedule and head-motion matrices); per frame the renderer only scales
those fields by the current openness/closure, remaps two or three small regions, draws the
inner mouth, applies one affine warp and pipes the frame to ffmpeg (libx264 + AAC).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from talking_head_dagster.avatar.encode import avatar_mp4, encode_args
from talking_head_dagster.avatar.face import FaceAnalysis, analyse_face, load_image
from talking_head_dagster.avatar.mouth import mouth_drivers, read_wav

CROP_FACTOR = 2.2  # crop side / face size: head and shoulders
CROP_DROP = 0.12  # move the crop centre down by this fraction of the face height
JAW_DROP = 0.30  # lower-lip drop at openness 1, as a fraction of the mouth width
UPPER_LIP_LIFT = 0.12  # upper-lip lift, as a fraction of the jaw drop
SPREAD = 0.10  # each mouth corner moves out by this fraction of the mouth width at shape +1 ("ee")
ROUND = 0.11  # ...and in by this fraction at shape -1 ("oo")
CAVITY_DARK = np.array([22, 16, 34], dtype=np.float32)  # BGR, top of the mouth cavity
CAVITY_TONGUE = np.array([48, 44, 112], dtype=np.float32)  # BGR, bottom (tongue hint)
TEETH = np.array([168, 184, 198], dtype=np.float32)  # BGR, shadowed ivory upper teeth
LASH = np.array([28, 26, 30], dtype=np.float32)  # BGR, the lash line of a closed lid
SWAY_DEG = (0.30, 0.18, 0.10)  # head roll amplitudes (degrees) of three incommensurate sines
SWAY_PX = (1.1, 0.6, 0.3)  # horizontal drift amplitudes (pixels at 512)
BOB_PX = (0.6, 0.3)  # vertical drift amplitudes (pixels at 512)
BREATH = 0.0025  # vertical scale amplitude of breathing
BLINK_FIRST_S = (0.8, 2.5)
BLINK_GAP_S = (3.0, 6.0)


@dataclass(frozen=True)
class LiteRenderStats:
    frames: int
    fps: int
    width: int
    height: int
    duration_s: float
    render_seconds: float
    mean_openness: float


@dataclass(frozen=True, eq=False)
class LitePortrait:
    """A portrait prepared for rendering.

    ``canvas`` is the face-centred square crop (BGR, size x size) and ``landmarks`` the face
    landmarks in canvas pixels. ``reference`` is the output frame with the mouth closed, eyes
    open and the head at rest; ``mouth_box`` and ``eye_boxes`` are (x0, y0, x1, y1) regions of
    the output frame where the mouth and the eyes move.
    """

    canvas: np.ndarray
    landmarks: np.ndarray
    reference: np.ndarray
    mouth_box: tuple[int, int, int, int]
    eye_boxes: tuple[tuple[int, int, int, int], ...]


@dataclass(frozen=True, eq=False)
class _Scene:
    """What one render needs from the portrait: the crop, its landmarks and the warps."""

    canvas: np.ndarray
    landmarks: np.ndarray
    mouth: MouthWarp
    eyes: list[EyeBlink]


class LiteRenderer:
    """Warp-based talking-head renderer for CPUs (no neural network at render time)."""

    def __init__(
        self,
        size: int = 512,
        fps: int = 25,
        crf: int = 20,
        preset: str = "veryfast",
        *,
        idle_motion: bool = True,
        seed: int = 0,
        cache_dir: Path | None = None,
    ) -> None:
        """``idle_motion`` adds blinks and a slow head sway; ``seed`` makes them reproducible;
        ``cache_dir`` keeps face analyses on disk between processes."""
        if size < 128 or size % 2:
            raise ValueError(f"size must be an even number of pixels >= 128, got {size}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.size = size
        self.fps = fps
        self.crf = crf
        self.preset = preset
        self.idle_motion = idle_motion
        self.seed = seed
        self.cache_dir = cache_dir
        self.zoom = _sway_zoom(size)

    # ------------------------------------------------------------------ public API

    def prepare(self, portrait: Path) -> LitePortrait:
        """Analyse and crop a portrait; raises PermanentInputError for unusable portraits."""
        scene = self._scene(portrait)
        rest = _zoom_matrix(self.size, self.zoom)
        reference = cv2.warpAffine(scene.canvas, rest, (self.size, self.size), flags=cv2.INTER_LINEAR)
        return LitePortrait(
            canvas=scene.canvas,
            landmarks=scene.landmarks,
            reference=reference,
            mouth_box=_box_through(rest, scene.mouth.roi, self.size),
            eye_boxes=tuple(_box_through(rest, eye.roi, self.size) for eye in scene.eyes),
        )

    def drivers(self, speech_wav: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-frame mouth openness and eyelid closure (both in [0, 1]) and mouth shape (-1 rounded
        .. +1 spread) for a speech WAV."""
        samples, rate = read_wav(speech_wav)
        return self._drivers(samples, rate)

    def render(
        self,
        portrait: Path,
        speech_wav: Path,
        out_mp4: Path,
        ffmpeg: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> LiteRenderStats:
        """Render ``portrait`` speaking ``speech_wav`` into ``out_mp4`` (H.264 + AAC).

        Steps:
          1. Analyse and crop the face; precompute the mouth and eye warps.
          2. Per-frame mouth openness from the speech; blink closures and head motion.
          3. Warp, draw and encode every frame; ``out_mp4`` appears only once ffmpeg succeeded.
        """
        started = time.perf_counter()
        # 1. Face, crop and warps.
        scene = self._scene(portrait)
        # 2. Drivers.
        samples, rate = read_wav(speech_wav)
        openness, blinks, shape = self._drivers(samples, rate)
        if len(openness) == 0:
            raise ValueError(f"{speech_wav}: the speech WAV holds no audio")
        motion = self._motion(len(openness), scene.landmarks)
        # 3. Frames into the MP4 (I420 is the encoder's own format: no conversion in ffmpeg).
        encoding = {"size": self.size, "fps": self.fps, "preset": self.preset, "crf": self.crf}
        with avatar_mp4(ffmpeg, out_mp4, speech_wav, pix_fmt="yuv420p", **encoding) as write:
            self._frames(scene, openness, shape, blinks, motion, write, progress)
        return LiteRenderStats(
            frames=len(openness),
            fps=self.fps,
            width=self.size,
            height=self.size,
            duration_s=len(samples) / rate,
            render_seconds=time.perf_counter() - started,
            mean_openness=float(openness.mean()),
        )

    # ------------------------------------------------------------------ steps

    def _scene(self, portrait: Path) -> _Scene:
        analysis = analyse_face(portrait, self.cache_dir)
        canvas, landmarks = crop_face(load_image(portrait), analysis, self.size)
        return _Scene(canvas, landmarks, MouthWarp(landmarks, canvas.shape), _make_eyes(landmarks, canvas))

    def _drivers(self, samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mouth = mouth_drivers(samples, rate, self.fps)
        if not self.idle_motion:
            return mouth.openness, np.zeros_like(mouth.openness), mouth.shape
        blinks = blink_curve(len(mouth.openness), self.fps, np.random.default_rng([self.seed, 0]))
        return mouth.openness, blinks, mouth.shape

    def _motion(self, n_frames: int, landmarks: np.ndarray) -> np.ndarray:
        if not self.idle_motion:
            return np.broadcast_to(_zoom_matrix(self.size, self.zoom), (n_frames, 2, 3))
        rng = np.random.default_rng([self.seed, 1])
        return head_motion(n_frames, self.fps, rng, self.size, self.zoom, _pivot(landmarks))

    def _frames(
        self,
        scene: _Scene,
        openness: np.ndarray,
        shape: np.ndarray,
        blinks: np.ndarray,
        motion: np.ndarray,
        sink: Callable[[np.ndarray], None],
        progress: Callable[[int, int], None] | None,
    ) -> None:
        """Per frame: open the mouth, close the eyes, sway the head, hand the frame to ``sink``."""
        canvas, n_frames = scene.canvas, len(openness)
        work = canvas.copy()
        frame = np.empty_like(canvas)
        yuv = np.empty((self.size * 3 // 2, self.size), np.uint8)  # I420: the encoder's own format
        for i in range(n_frames):
            scene.mouth.apply(canvas, work, float(openness[i]), float(shape[i]))
            for eye in scene.eyes:
                eye.apply(canvas, work, float(blinks[i]))
            cv2.warpAffine(
                work, motion[i], (self.size, self.size), dst=frame,
                flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
            )  # fmt: skip
            cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420, dst=yuv)  # BT.601, limited range
            sink(yuv)
            if progress is not None and ((i + 1) % self.fps == 0 or i + 1 == n_frames):
                progress(i + 1, n_frames)

    def _ffmpeg_args(self, speech_wav: Path, out: Path) -> list[str]:
        return encode_args(
            pix_fmt="yuv420p", size=self.size, fps=self.fps, speech_wav=speech_wav, out=out,
            preset=self.preset, crf=self.crf,
        )  # fmt: skip


# ---------------------------------------------------------------------- crop


def crop_face(image: np.ndarray, analysis: FaceAnalysis, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Square, face-centred crop (clamped to the image) resized to size x size, and landmarks."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = analysis.box
    face = max(x1 - x0, y1 - y0)
    side = round(min(CROP_FACTOR * face, w, h))
    cx = (x0 + x1) / 2
    cy = (y0 + y1) / 2 + CROP_DROP * (y1 - y0)
    left = round(float(np.clip(cx - side / 2, 0, w - side)))
    top = round(float(np.clip(cy - side / 2, 0, h - side)))
    crop = image[top : top + side, left : left + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    canvas = cv2.resize(crop, (size, size), interpolation=interp)
    landmarks = (analysis.landmarks - np.array([left, top], np.float32)) * np.float32(size / side)
    return np.ascontiguousarray(canvas), landmarks.astype(np.float32)


# ---------------------------------------------------------------------- geometry helpers


def _smoothstep(edge0: np.ndarray | float, edge1: np.ndarray | float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / np.maximum(np.asarray(edge1) - edge0, 1e-6), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class _Frame2D:
    """A local frame: origin, unit axis ``eu`` (along the feature) and ``ev`` (downwards)."""

    origin: np.ndarray
    eu: np.ndarray
    ev: np.ndarray

    @classmethod
    def from_corners(cls, left: np.ndarray, right: np.ndarray, origin: np.ndarray) -> _Frame2D:
        eu = (right - left) / max(float(np.linalg.norm(right - left)), 1e-6)
        ev = np.array([-eu[1], eu[0]], np.float32)
        return cls(origin.astype(np.float32), eu.astype(np.float32), ev)

    def uv(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = pts - self.origin
        return d @ self.eu, d @ self.ev

    def xy(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return self.origin + np.outer(u, self.eu) + np.outer(v, self.ev)

    def roi(self, u_range: tuple[float, float], v_range: tuple[float, float], shape) -> tuple:
        """Integer canvas box (x0, y0, x1, y1) holding the uv rectangle, clamped to the canvas."""
        corners = self.xy(
            np.array([u_range[0], u_range[1], u_range[0], u_range[1]]),
            np.array([v_range[0], v_range[0], v_range[1], v_range[1]]),
        )
        x0, y0 = np.floor(corners.min(axis=0)).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
        return max(0, x0), max(0, y0), min(shape[1], x1), min(shape[0], y1)


def _curve(frame: _Frame2D, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A landmark curve as (u, v) samples sorted by u, for np.interp."""
    u, v = frame.uv(pts)
    order = np.argsort(u)
    return u[order], v[order]


def _grid(roi: tuple, frame: _Frame2D) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = roi
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    u = (xs - frame.origin[0]) * frame.eu[0] + (ys - frame.origin[1]) * frame.eu[1]
    v = (xs - frame.origin[0]) * frame.ev[0] + (ys - frame.origin[1]) * frame.ev[1]
    return xs, ys, u, v


# ---------------------------------------------------------------------- mouth


class MouthWarp:
    """Opens and shapes the mouth: drops the jaw and lower lip, lifts the upper lip a little,
    moves the mouth corners out (spread) or in (rounded), draws the cavity.

    The opening displaces along the face's "down" axis ``ev``, the shape along ``eu``; both are
    fields over a region of interest (ROI) that fade to zero before its border, so the warped ROI
    has no seam. The shape is applied after the opening (the corners of the opened mouth move).
    Where the resting mouth already shows teeth, the cavity keeps them: the upper teeth stay
    with the skull, the lower ones travel with the jaw, and only the gap between them is dark.
    """

    def __init__(self, landmarks: np.ndarray, shape: tuple[int, ...]) -> None:
        fa = FaceAnalysis
        lm = landmarks
        left, right = lm[list(fa.MOUTH_CORNERS)]
        self.f = f = _Frame2D.from_corners(left, right, lm[list(fa.INNER_LIP_CENTRES)].mean(axis=0))
        mw = float(np.linalg.norm(right - left))
        self.mw = mw
        # Lip curves in the mouth frame.
        self.upper_in = _curve(f, lm[list(fa.UPPER_INNER_LIP)])
        self.lower_in = _curve(f, lm[list(fa.LOWER_INNER_LIP)])
        upper_out = _curve(f, lm[list(fa.UPPER_OUTER_LIP)])
        jaw = _curve(f, lm[list(fa.JAW)])
        self.jaw = jaw
        u_in = f.uv(lm[list(fa.INNER_MOUTH_CORNERS)])[0]
        self.c_in, self.a_in = float(u_in.mean()), float(abs(u_in[1] - u_in[0]) / 2)
        self.jaw_half = float((jaw[0][-1] - jaw[0][0]) / 2)
        self.lift_height = float(np.max(self.upper_in[1] - upper_out[1])) + 0.3 * mw
        self.fall_length = 0.75 * mw
        self.blend_length = 0.6 * mw
        self.drop = JAW_DROP * mw
        # ROI covering every non-zero displacement, with a margin.
        v_top = float(np.min(self.upper_in[1])) - self.lift_height - 2
        v_bottom = float(np.max(jaw[1])) + self.fall_length + 2
        u_half = 0.95 * self.jaw_half + 2
        self.roi = f.roi((-u_half, u_half), (v_top, v_bottom), shape)
        # Per-pixel fields.
        self.xs, self.ys, u, v = _grid(self.roi, f)
        self.u, self.v = u, v
        self.dv = v - np.interp(u, *self.upper_in).astype(np.float32)  # > 0 below the mouth line
        # Inside the mouth the lower lip leaves a gap (the cavity); beside it the skin just moves.
        inside = np.abs(u - self.c_in) < self.a_in
        self.gap_cap = np.where(inside, self.dv, np.float32(1e6)).astype(np.float32)
        self.down = (self.drop * self._down_weight(u, v)).astype(np.float32)
        self._limit_fold()
        self.up = (UPPER_LIP_LIFT * self.drop * self._up_weight(u, v)).astype(np.float32)
        self.u_samples = np.linspace(self.c_in - self.a_in, self.c_in + self.a_in, 25)
        self.roi_out = np.empty((self.roi[3] - self.roi[1], self.roi[2] - self.roi[0], 3), np.uint8)
        # Shape: the horizontal field (per unit of corner gain) and the opening fields stacked,
        # so that one remap evaluates them where the shape moved each pixel from.
        self.v_top, self.v_bottom = v_top, v_bottom
        self.top_out = float(np.min(upper_out[1]))
        self.low_flat = float(np.max(self.lower_in[1])) + 0.5 * mw
        self.low_zero = max(self.low_flat + 0.1 * mw, min(float(np.max(jaw[1])), v_bottom - 2))
        self.r_max = min(1.7, max(1.3, 0.95 * (u_half - 2 - abs(self.c_in)) / (mw / 2)))  # cheeks, not the jaw line
        self.across = self._shift(u, v).astype(np.float32)
        self.fields = cv2.merge([self.dv, self.up, self.down, self.gap_cap])
        self.grid_x = (self.xs - self.roi[0]).astype(np.float32)
        self.grid_y = (self.ys - self.roi[1]).astype(np.float32)
        slope = np.diff(self.across, axis=1) * float(abs(f.eu[0])) if self.across.shape[1] > 1 else np.zeros(1)
        # The gain may not fold the field (d/du of the shift stays above -0.8 and below 0.8).
        self.max_gain = 0.8 / max(float(np.abs(slope).max()), 1e-6)
        # Teeth: the resting inner-lip gap per pixel column (0 where the lips meet).
        self.rest_gap = np.maximum(np.interp(u, *self.lower_in) - np.interp(u, *self.upper_in), 0.0).astype(np.float32)
        self.shows_teeth = float(np.max(self.rest_gap[np.abs(u - self.c_in) < 0.5 * self.a_in], initial=0.0)) > 1.5

    def _shift(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Source offset along ``eu`` per unit gain: -(u - c) in the mouth, fading out beside and
        above/below it (an output pixel at u samples u + gain * shift: gain > 0 widens)."""
        half = self.mw / 2
        ru = (u - self.c_in) / half
        f = ru * (1.0 - _smoothstep(1.0, self.r_max, np.abs(ru)))
        g = _smoothstep(self.v_top + 2, self.top_out, v) * (1.0 - _smoothstep(self.low_flat, self.low_zero, v))
        return -half * f * g

    def _gain(self, spread: float) -> float:
        """The gain moving the mouth corners by SPREAD (spread > 0) or ROUND (< 0) of the width."""
        delta = spread * (SPREAD if spread > 0 else ROUND) * self.mw
        gain = delta / (self.mw / 2 + delta)
        return float(np.clip(gain, -self.max_gain, self.max_gain))

    def _to_output(self, u: np.ndarray, v: np.ndarray, gain: float) -> np.ndarray:
        """Where the shape moves a point at (u, v): solve p + gain * shift(p) = u by fixed point."""
        p = u.copy()
        for _ in range(3):
            p = u - gain * self._shift(p, v)
        return p

    def _lip_profile(self, u: np.ndarray) -> np.ndarray:
        """How far the lip opens across the mouth: 1 in the middle, 0 at the inner corners."""
        t = np.clip(1.0 - ((u - self.c_in) / self.a_in) ** 2, 0.0, 1.0)
        return t**0.9

    def _down_weight(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Jaw-drop weight: the lip profile at the lower lip, the whole chin below, 0 past the jaw."""
        v_lip = np.interp(u, *self.lower_in)
        jaw_width = 1.0 - _smoothstep(0.45 * self.jaw_half, 0.95 * self.jaw_half, np.abs(u))
        s = _smoothstep(v_lip, v_lip + self.blend_length, v)
        weight = self._lip_profile(u) * (1.0 - s) + jaw_width * s
        v_jaw = np.interp(u, *self.jaw)
        below_jaw = 1.0 - _smoothstep(v_jaw - 0.05 * self.mw, v_jaw + self.fall_length, v)
        return weight * below_jaw

    def _up_weight(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        v_lip = np.interp(u, *self.upper_in)
        return self._lip_profile(u) * _smoothstep(v_lip - self.lift_height, v_lip, v)

    def _limit_fold(self) -> None:
        """Scale the drop down if the field would fold (source order must stay monotonic)."""
        slope = np.diff(self.down, axis=0)
        worst = float(slope.max()) if slope.size else 0.0
        if worst > 0.8:
            self.down *= 0.8 / worst
            self.drop *= 0.8 / worst

    def _lower_edge(self, u: np.ndarray, openness: float) -> np.ndarray:
        """Output v of the lower inner lip: solve v = v_lip + drop * w(u, v) by fixed point."""
        v_lip = np.interp(u, *self.lower_in)
        v = v_lip.copy()
        for _ in range(3):
            v = v_lip + openness * self.drop * self._down_weight(u, v)
        return v

    def apply(self, canvas: np.ndarray, work: np.ndarray, openness: float, spread: float = 0.0) -> None:
        """Write the mouth ROI of ``work``: ``canvas`` with the mouth opened by ``openness`` and
        shaped by ``spread`` (-1 rounded .. +1 spread)."""
        x0, y0, x1, y1 = self.roi
        gain = self._gain(spread)
        if openness <= 0.0 and gain == 0.0:
            work[y0:y1, x0:x1] = canvas[y0:y1, x0:x1]
            return
        eu, ev = self.f.eu, self.f.ev
        if gain == 0.0:
            qx, qy = self.xs, self.ys
            dv, up, down, gap_cap = self.dv, self.up, self.down, self.gap_cap
        else:
            shift = gain * self.across
            qx, qy = self.xs + shift * eu[0], self.ys + shift * eu[1]
            at = cv2.remap(
                self.fields, self.grid_x + shift * eu[0], self.grid_y + shift * eu[1], cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )  # fmt: skip
            dv, up, down, gap_cap = cv2.split(at)
        if openness > 0.0:
            disp = np.where(dv < 0, np.minimum(openness * up, -dv), -np.minimum(openness * down, gap_cap))
            map_x, map_y = qx + disp * ev[0], qy + disp * ev[1]
        else:
            map_x, map_y = qx, qy
        cv2.remap(canvas, map_x, map_y, cv2.INTER_LINEAR, dst=self.roi_out)
        if openness > 0.0 or self.shows_teeth:
            self._draw_cavity(canvas, self.roi_out, openness, gain)
        work[y0:y1, x0:x1] = self.roi_out

    def _draw_cavity(self, canvas: np.ndarray, roi: np.ndarray, openness: float, gain: float) -> None:
        """Inner mouth between the lifted upper and dropped lower lip: dark, with upper teeth; or,
        where the portrait shows its teeth at rest, those teeth with a dark gap between them."""
        us = self.u_samples
        top = np.interp(us, *self.upper_in) - openness * UPPER_LIP_LIFT * self.drop * self._lip_profile(us)
        bottom = self._lower_edge(us, openness)
        if float(np.max(bottom - top)) < 0.6:
            return
        u_top, u_bottom = self._to_output(us, top, gain), self._to_output(us, bottom, gain)
        x0, y0 = self.roi[0], self.roi[1]
        poly = np.concatenate([self.f.xy(u_top, top), self.f.xy(u_bottom[::-1], bottom[::-1])])
        poly -= np.array([x0, y0], np.float32)
        # Bounding box of the cavity (plus the feather), inside the ROI.
        bx0, by0 = np.maximum(np.floor(poly.min(axis=0)).astype(int) - 3, 0)
        bx1, by1 = np.minimum(np.ceil(poly.max(axis=0)).astype(int) + 4, roi.shape[1::-1])
        mask = np.zeros((by1 - by0, bx1 - bx0), np.uint8)
        pts = np.round((poly - [bx0, by0]) * 8).astype(np.int32)
        cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, shift=3)
        sigma = max(0.5, 0.012 * self.mw)
        alpha = cv2.GaussianBlur(mask, (0, 0), sigma).astype(np.float32) * (0.96 / 255.0)
        # Colour: dark at the top, tongue-red at the bottom, teeth just under the upper lip.
        box = (slice(by0, by1), slice(bx0, bx1))
        u, v = self.u[box], self.v[box]
        v_top = np.interp(u, u_top, top)
        v_bottom = np.interp(u, u_bottom, bottom)
        gap = np.maximum(v_bottom - v_top, 1e-3)
        depth = np.clip((v - v_top) / gap, 0.0, 1.0)[..., None]
        colour = CAVITY_DARK + (CAVITY_TONGUE - CAVITY_DARK) * depth**2
        teeth_h = np.minimum(0.07 * self.mw, 0.35 * gap)
        below_lip = v - v_top
        teeth = (1.0 - _smoothstep(0.4 * teeth_h, teeth_h, below_lip)) * (
            1.0 - _smoothstep(0.35 * self.a_in, 0.75 * self.a_in, np.abs(u - self.c_in))
        )
        teeth *= float(np.clip((openness - 0.2) / 0.4, 0.0, 1.0)) * 0.7
        shade = 1.0 - 0.35 * np.clip(below_lip / np.maximum(teeth_h, 1e-3), 0.0, 1.0)
        colour += (TEETH * shade[..., None] - colour) * teeth[..., None]
        if self.shows_teeth:
            colour = self._blend_teeth(canvas, colour, box, u, v, v_bottom)
        patch = roi[box].astype(np.float32)
        a = alpha[..., None]
        roi[box] = (patch + (colour - patch) * a + 0.5).astype(np.uint8)

    def _blend_teeth(
        self, canvas: np.ndarray, colour: np.ndarray, box: tuple, u: np.ndarray, v: np.ndarray, v_bottom: np.ndarray
    ) -> np.ndarray:
        """The portrait's own mouth interior over the cavity colour: its upper part (upper teeth)
        where it was, its lower part (lower teeth) moved down with the lower lip."""
        upper = np.interp(u, *self.upper_in)
        lower = np.interp(u, *self.lower_in)
        g0 = self.rest_gap[box]
        split = upper + 0.55 * g0  # upper teeth above this line at rest, lower teeth below
        jaw = np.maximum(v_bottom - lower, 0.0)  # how far the lower lip (and teeth) moved down
        w_upper = 1.0 - _smoothstep(split - 0.75, split + 0.75, v)
        w_lower = _smoothstep(split + jaw - 0.75, split + jaw + 0.75, v)
        weight = np.minimum(w_upper + w_lower, 1.0) * _smoothstep(1.0, 3.0, g0)
        # Source rows: the upper teeth in place (never the lip above), the lower ones up by the drop.
        v_src = np.where(w_upper >= w_lower, np.maximum(v, upper + 0.5), np.minimum(v - jaw, lower - 0.5))
        step = (v_src - v).astype(np.float32)
        ev = self.f.ev
        inside = cv2.remap(
            canvas, self.xs[box] + step * ev[0], self.ys[box] + step * ev[1], cv2.INTER_LINEAR
        ).astype(np.float32)  # fmt: skip
        return colour + (inside - colour) * weight[..., None]


# ---------------------------------------------------------------------- eyes


class EyeBlink:
    """Closes one eye by drawing the upper lid down over it: skin colour and a lash line.

    The lid colour is the (robust, smoothed) colour of the skin just above the eye, so the lid
    matches the face; only the eye opening and a thin strip above it change, so glasses frames,
    brows and hair stay put.
    """

    def __init__(
        self, landmarks: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...], canvas: np.ndarray
    ) -> None:
        lm = landmarks
        corners = lm[[upper[0], upper[-1]]]
        self.f = f = _Frame2D.from_corners(corners[0], corners[1], corners.mean(axis=0))
        self.upper = _curve(f, lm[list(upper)])
        self.lower = _curve(f, lm[list(lower)])
        width = float(np.linalg.norm(corners[1] - corners[0]))
        opening = np.interp(self.upper[0], *self.lower) - self.upper[1]
        self.height = height = max(float(opening.max()), 1.0)
        self.fade = max(0.35 * height, 1.5)  # the lid blends in over this strip above the lash line
        self.lash = max(0.035 * width, 1.0)
        v_top = float(self.upper[1].min()) - 1.6 * height - 2
        v_bottom = float(self.lower[1].max()) + 2
        half = width / 2 + 2
        self.roi = f.roi((-half, half), (v_top, v_bottom), canvas.shape)
        _, _, u, v = _grid(self.roi, f)
        v_lid = np.interp(u, *self.upper).astype(np.float32)
        self.v_rel = v - v_lid  # > 0 below the upper lid line
        # Full closure travel per column: down to the lower lid, +1 px so the lids overlap.
        travel = np.interp(u, *self.lower) - v_lid + 1.0
        inside = 1.0 - _smoothstep(width / 2 - 1, width / 2 + 1, np.abs(u))
        self.travel = (np.maximum(travel, 0.0) * inside).astype(np.float32)
        self.lid = self._lid_colour(canvas, u, width)
        self.dirty = False

    def _lid_colour(self, canvas: np.ndarray, u: np.ndarray, width: float) -> np.ndarray:
        """Per-pixel lid colour: a bright-ish percentile of the skin above each column, smoothed."""
        x0, y0, x1, y1 = self.roi
        patch = canvas[y0:y1, x0:x1].astype(np.float32)
        skin = (self.v_rel > -1.5 * self.height) & (self.v_rel < -0.5 * self.height)
        bins = np.clip(np.round(u - u.min()).astype(int), 0, None)
        n_bins = int(bins.max()) + 1
        fallback = np.percentile(patch[skin], 60, axis=0) if skin.any() else patch.reshape(-1, 3).mean(0)
        columns = np.tile(fallback, (n_bins, 1)).astype(np.float32)
        for b in range(n_bins):
            sel = skin & (bins == b)
            if sel.sum() >= 2:
                columns[b] = np.percentile(patch[sel], 60, axis=0)
        sigma = max(1.0, 0.12 * width)
        columns = cv2.GaussianBlur(columns[:, None, :], (1, 0), sigmaX=0.1, sigmaY=sigma)[:, 0, :]
        return columns[bins]

    def apply(self, canvas: np.ndarray, work: np.ndarray, closure: float) -> None:
        """Write the eye ROI of ``work``: ``canvas`` with the eye closed by ``closure``."""
        x0, y0, x1, y1 = self.roi
        if closure <= 0.0:
            if self.dirty:
                work[y0:y1, x0:x1] = canvas[y0:y1, x0:x1]
                self.dirty = False
            return
        c = closure * self.travel
        v_rel = self.v_rel
        # Lid: from a soft top (above the old lash line) down to the new lid edge at c.
        alpha = _smoothstep(-self.fade, 0.0, v_rel) * np.clip(c - v_rel + 0.5, 0.0, 1.0)
        alpha *= np.minimum(c, 1.0)  # no lid where the travel is nil (corners)
        to_edge = c - v_rel
        # A convex lid: lit at the top, a little darker towards the lash line.
        shade = 1.02 - 0.16 * _smoothstep(-self.fade, c, v_rel)
        lash = 1.0 - _smoothstep(0.0, self.lash, to_edge)
        colour = self.lid * shade[..., None]
        colour += (LASH - colour) * (0.75 * lash)[..., None]
        patch = canvas[y0:y1, x0:x1].astype(np.float32)
        a = alpha[..., None]
        work[y0:y1, x0:x1] = (patch + (colour - patch) * a + 0.5).astype(np.uint8)
        self.dirty = True


def _make_eyes(landmarks: np.ndarray, canvas: np.ndarray) -> list[EyeBlink]:
    fa = FaceAnalysis
    return [
        EyeBlink(landmarks, fa.LEFT_EYE_UPPER, fa.LEFT_EYE_LOWER, canvas),
        EyeBlink(landmarks, fa.RIGHT_EYE_UPPER, fa.RIGHT_EYE_LOWER, canvas),
    ]


# ---------------------------------------------------------------------- blinks and head motion


def _blink_shape(dt: np.ndarray) -> np.ndarray:
    """Eyelid closure of one blink, ``dt`` seconds after it starts: close, hold, reopen."""
    closing = _smoothstep(0.0, 0.08, dt)
    opening = 1.0 - _smoothstep(0.14, 0.32, dt)
    return np.where(dt < 0.11, closing, opening) * (dt >= 0)


def blink_curve(n_frames: int, fps: int, rng: np.random.Generator) -> np.ndarray:
    """Per-frame eyelid closure in [0, 1]: a blink every 3-6 s (random, seeded)."""
    times = np.arange(n_frames) / fps
    closure = np.zeros(n_frames, dtype=np.float32)
    start = rng.uniform(*BLINK_FIRST_S)
    while start < n_frames / fps:
        closure = np.maximum(closure, _blink_shape(times - start))
        start += rng.uniform(*BLINK_GAP_S)
    return closure


def _sines(t: np.ndarray, amps: tuple[float, ...], base_hz: float, rng: np.random.Generator) -> np.ndarray:
    """A non-periodic wobble: sines at incommensurate, slightly random frequencies."""
    out = np.zeros_like(t)
    for k, amp in enumerate(amps):
        hz = base_hz * (1.0 + 1.618 * k) * rng.uniform(0.85, 1.15)
        out += amp * np.sin(2 * np.pi * hz * t + rng.uniform(0, 2 * np.pi))
    return out


def _sway_zoom(size: int) -> float:
    """Zoom that keeps the canvas border out of the frame whatever the sway."""
    scale = size / 512
    corner = math.radians(sum(SWAY_DEG)) * 1.2 * size  # roll about a pivot low in the frame
    travel = (sum(SWAY_PX) + sum(BOB_PX)) * scale + BREATH * size + corner
    return size / (size - 2 * (travel + 1))


def _pivot(landmarks: np.ndarray) -> tuple[float, float]:
    """The neck, below the chin: the head rolls about it."""
    chin = landmarks[FaceAnalysis.CHIN]
    height = float(chin[1] - landmarks[FaceAnalysis.FOREHEAD][1])
    return float(chin[0]), float(chin[1] + 0.35 * height)


def _zoom_matrix(size: int, zoom: float) -> np.ndarray:
    c = size / 2
    return np.array([[zoom, 0, c - zoom * c], [0, zoom, c - zoom * c]], np.float32)


def head_motion(
    n_frames: int, fps: int, rng: np.random.Generator, size: int, zoom: float, pivot: tuple[float, float]
) -> np.ndarray:
    """Per-frame 2x3 affine matrices (canvas -> output): roll, drift, breathing, fixed zoom."""
    t = np.arange(n_frames) / fps
    scale = size / 512
    roll = np.radians(_sines(t, SWAY_DEG, 0.11, rng))
    dx = _sines(t, SWAY_PX, 0.07, rng) * scale
    dy = _sines(t, BOB_PX, 0.09, rng) * scale
    breath = 1.0 + BREATH * np.sin(2 * np.pi * rng.uniform(0.2, 0.26) * t + rng.uniform(0, 2 * np.pi))
    px, py = pivot
    zoom_m = np.vstack([_zoom_matrix(size, zoom), [0, 0, 1]])
    mats = np.empty((n_frames, 2, 3), np.float32)
    for i in range(n_frames):
        cos, sin = math.cos(roll[i]), math.sin(roll[i])
        # Scale y about the pivot (breathing), roll about the pivot, then drift.
        a = np.array([[cos, -sin * breath[i]], [sin, cos * breath[i]]])
        offset = np.array([px, py]) - a @ np.array([px, py]) + [dx[i], dy[i]]
        m = np.vstack([np.column_stack([a, offset]), [0, 0, 1]])
        mats[i] = (zoom_m @ m)[:2]
    return mats


def _box_through(matrix: np.ndarray, roi: tuple, size: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = roi
    pts = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], np.float32) @ matrix.T
    bx0, by0 = np.floor(pts.min(axis=0)).astype(int)
    bx1, by1 = np.ceil(pts.max(axis=0)).astype(int)
    return max(0, int(bx0)), max(0, int(by0)), min(size, int(bx1)), min(size, int(by1))
