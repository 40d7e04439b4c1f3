"""Face analysis of a portrait: load it, find exactly one usable face, return its landmarks.

The analysis uses MediaPipe's bundled models (face mesh with refined lips and irises, plus the
full-range face detector as a fallback and for error messages). Results are cached per portrait
content hash in memory and, optionally, as a small ``.npz`` in a cache directory.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

from talking_head_dagster.errors import PermanentInputError

MIN_FACE_PX = 80
"""The smallest face (landmark box height, in portrait pixels) that animates acceptably."""

_ANALYSIS_MAX_SIDE = 1600  # larger portraits are analysed downscaled (landmarks scaled back)
_SECOND_FACE_RATIO = 0.35  # a second face smaller than this fraction of the main one is ignored
_CACHE_VERSION = 1
_MEMORY_CACHE_SIZE = 32


@dataclass(frozen=True, eq=False)
class FaceAnalysis:
    """Landmarks of the one face in a portrait, in pixel coordinates of the loaded image.

    ``landmarks`` is a float32 array of shape (478, 2) holding (x, y) for every MediaPipe face-mesh
    point (468 mesh points + 10 iris points). ``box`` is (x0, y0, x1, y1), the bounding box of
    all landmarks, clamped to the image. The ClassVar index tuples name the points the renderer
    uses; each lip/lid curve runs from the subject's right corner (image left) to the other one.
    """

    image_width: int
    image_height: int
    landmarks: np.ndarray
    box: tuple[int, int, int, int]

    UPPER_OUTER_LIP: ClassVar[tuple[int, ...]] = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
    LOWER_OUTER_LIP: ClassVar[tuple[int, ...]] = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
    UPPER_INNER_LIP: ClassVar[tuple[int, ...]] = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
    LOWER_INNER_LIP: ClassVar[tuple[int, ...]] = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
    JAW: ClassVar[tuple[int, ...]] = (
        58,
        172,
        136,
        150,
        149,
        176,
        148,
        152,
        377,
        400,
        378,
        379,
        365,
        397,
        288,
    )
    MOUTH_CORNERS: ClassVar[tuple[int, int]] = (61, 291)
    INNER_MOUTH_CORNERS: ClassVar[tuple[int, int]] = (78, 308)
    INNER_LIP_CENTRES: ClassVar[tuple[int, int]] = (13, 14)  # upper, lower
    CHIN: ClassVar[int] = 152
    NOSE_BOTTOM: ClassVar[int] = 2
    FOREHEAD: ClassVar[int] = 10
    # Eyes as seen in the image: "image-left" is the subject's right eye.
    LEFT_EYE_UPPER: ClassVar[tuple[int, ...]] = (33, 246, 161, 160, 159, 158, 157, 173, 133)
    LEFT_EYE_LOWER: ClassVar[tuple[int, ...]] = (33, 7, 163, 144, 145, 153, 154, 155, 133)
    RIGHT_EYE_UPPER: ClassVar[tuple[int, ...]] = (362, 398, 384, 385, 386, 387, 388, 466, 263)
    RIGHT_EYE_LOWER: ClassVar[tuple[int, ...]] = (362, 382, 381, 380, 374, 373, 390, 249, 263)

    def points(self, indices: tuple[int, ...] | list[int]) -> np.ndarray:
        """The (x, y) pixel coordinates of the given landmark indices, shape (len, 2)."""
        return self.landmarks[list(indices)]

    @property
    def face_height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def face_width(self) -> int:
        return self.box[2] - self.box[0]


# --------------------------------------------------------------------------- image loading


def load_image(path: Path) -> np.ndarray:
    """Read a portrait as a BGR uint8 image; raise PermanentInputError if it is not an image."""
    return decode_image(_read_bytes(path), Path(path).name)


def decode_image(data: bytes, name: str = "portrait") -> np.ndarray:
    """Decode image bytes to BGR uint8 (3 channels), whatever the source layout.

    Grayscale and CMYK become BGR, 16-bit is scaled to 8-bit, EXIF orientation is applied, and
    an alpha channel is composited over white (cut-out portraits keep a clean background).
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    raw = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if raw is None:
        return _decode_with_pil(data, name)
    if raw.ndim == 3 and raw.shape[2] == 4:
        return _composite_alpha(raw)
    # IMREAD_COLOR applies EXIF orientation and converts gray/CMYK/16-bit to BGR uint8.
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None:
        return _decode_with_pil(data, name)
    return bgr


def _composite_alpha(bgra: np.ndarray) -> np.ndarray:
    scale = 65535.0 if bgra.dtype == np.uint16 else 255.0
    img = bgra.astype(np.float32) / scale
    alpha = img[:, :, 3:4]
    out = img[:, :, :3] * alpha + (1.0 - alpha)
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _decode_with_pil(data: bytes, name: str) -> np.ndarray:
    """Fallback for formats OpenCV does not read (e.g. GIF)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = np.asarray(im.convert("RGBA"))
                return _composite_alpha(rgba[:, :, [2, 1, 0, 3]].copy())
            rgb = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise PermanentInputError(
            f"The portrait {name!r} could not be read as an image ({exc.__class__.__name__}); "
            "upload a JPEG or PNG photo."
        ) from exc
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _read_bytes(path: Path) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PermanentInputError(f"The portrait file {str(path)!r} cannot be opened: {exc}") from exc
    if not data:
        raise PermanentInputError(f"The portrait file {Path(path).name!r} is empty; upload a photo.")
    return data


# --------------------------------------------------------------------------- analysis


def analyse_face(path: Path, cache_dir: Path | None = None) -> FaceAnalysis:
    """Analyse the portrait at ``path``; cached by content hash (memory, then ``cache_dir``)."""
    data = _read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    npz = Path(cache_dir) / f"face-v{_CACHE_VERSION}-{digest[:32]}.npz" if cache_dir else None
    analysis = _memory_get(digest)
    if analysis is None and npz is not None:
        analysis = _load_npz(npz)
    if analysis is None:
        analysis = analyse_image(decode_image(data, Path(path).name))
    if npz is not None and not npz.exists():
        _save_npz(npz, analysis)
    _memory_put(digest, analysis)
    return analysis


def analyse_image(bgr: np.ndarray) -> FaceAnalysis:
    """Find the single face in a BGR image and return its landmarks.

    Steps:
      1. Downscale very large images for analysis.
      2. Run the face mesh on the whole image (two faces at most).
      3. If it finds nothing, use the full-range detector to tell "no face" from "too small",
         and retry the mesh on a crop around a detected face.
      4. Reject several faces, and faces too small to animate.
    """
    h, w = bgr.shape[:2]
    # 1. Downscale very large images for analysis.
    scale = min(1.0, _ANALYSIS_MAX_SIDE / max(h, w))
    small = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    rgb = np.ascontiguousarray(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
    # 2. Face mesh on the whole image.
    faces = _run_mesh(rgb)
    # 3. Fallback through the detector.
    if not faces:
        faces = _mesh_via_detector(rgb, scale)
    faces = sorted(faces, key=_height, reverse=True)
    # 4. Reject several faces, and small ones.
    if len(faces) > 1 and _height(faces[1]) >= _SECOND_FACE_RATIO * _height(faces[0]):
        raise PermanentInputError("The portrait shows more than one face; crop it to the one person who should speak.")
    landmarks = (faces[0] / scale).astype(np.float32)
    return _make_analysis(landmarks, w, h)


def _make_analysis(landmarks: np.ndarray, w: int, h: int) -> FaceAnalysis:
    x0, y0 = np.floor(landmarks.min(axis=0)).astype(int)
    x1, y1 = np.ceil(landmarks.max(axis=0)).astype(int)
    box = (max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1)))
    face_h = box[3] - box[1]
    if face_h < MIN_FACE_PX:
        raise PermanentInputError(
            f"The face in the portrait is too small: it is {face_h} px high, and at least "
            f"{MIN_FACE_PX} px is needed. Use a larger photo or one cropped closer to the face."
        )
    lips = landmarks[list(FaceAnalysis.UPPER_OUTER_LIP + FaceAnalysis.LOWER_OUTER_LIP)]
    if lips.min() < 0 or lips[:, 0].max() >= w or lips[:, 1].max() >= h:
        raise PermanentInputError(
            "The mouth is cut off at the edge of the portrait; use a photo showing the whole face."
        )
    return FaceAnalysis(image_width=w, image_height=h, landmarks=landmarks, box=box)


def _height(points: np.ndarray) -> float:
    return float(points[:, 1].max() - points[:, 1].min())


_MP_LOCK = threading.Lock()


def _run_mesh(rgb: np.ndarray) -> list[np.ndarray]:
    """All face meshes in an RGB image, as (478, 2) pixel arrays."""
    import mediapipe as mp

    h, w = rgb.shape[:2]
    with (
        _MP_LOCK,
        mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=2, refine_landmarks=True, min_detection_confidence=0.5
        ) as mesh,
    ):
        result = mesh.process(rgb)
    faces = []
    for face in result.multi_face_landmarks or []:
        pts = np.array([(p.x * w, p.y * h) for p in face.landmark], dtype=np.float32)
        faces.append(pts)
    return faces


def _detect_boxes(rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Face boxes (x0, y0, x1, y1) in pixels from the full-range detector, largest first."""
    import mediapipe as mp

    h, w = rgb.shape[:2]
    with (
        _MP_LOCK,
        mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5) as detector,
    ):
        result = detector.process(rgb)
    boxes = []
    for det in result.detections or []:
        rb = det.location_data.relative_bounding_box
        boxes.append((rb.xmin * w, rb.ymin * h, (rb.xmin + rb.width) * w, (rb.ymin + rb.height) * h))
    return sorted(boxes, key=lambda b: b[3] - b[1], reverse=True)


def _mesh_via_detector(rgb: np.ndarray, scale: float) -> list[np.ndarray]:
    """Explain a failed mesh with the detector, or retry the mesh on a crop around its face."""
    boxes = _detect_boxes(rgb)
    if not boxes:
        raise PermanentInputError(
            "No face found in the portrait; use a clear, front-facing photo of one person's face."
        )
    x0, y0, x1, y1 = boxes[0]
    found_h = round((y1 - y0) / scale)
    if found_h < MIN_FACE_PX:
        raise PermanentInputError(
            f"The face in the portrait is too small: it is about {found_h} px high, and at least "
            f"{MIN_FACE_PX} px is needed. Use a larger photo or one cropped closer to the face."
        )
    if len(boxes) > 1 and boxes[1][3] - boxes[1][1] >= _SECOND_FACE_RATIO * (y1 - y0):
        raise PermanentInputError("The portrait shows more than one face; crop it to the one person who should speak.")
    # Retry on a square crop 2x the detected box, where the mesh's own detector sees a big face.
    h, w = rgb.shape[:2]
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, 2.0 * max(x1 - x0, y1 - y0)
    cx0, cy0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    cx1, cy1 = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
    faces = _run_mesh(np.ascontiguousarray(rgb[cy0:cy1, cx0:cx1]))
    if not faces:
        raise PermanentInputError(
            "No face found in the portrait: a face-like region was seen but its features could not "
            "be located. Use a sharp, well-lit, front-facing photo."
        )
    return [f + np.array([cx0, cy0], dtype=np.float32) for f in faces[:1]]


# --------------------------------------------------------------------------- caches

_MEMORY: OrderedDict[str, FaceAnalysis] = OrderedDict()
_MEMORY_LOCK = threading.Lock()


def _memory_get(digest: str) -> FaceAnalysis | None:
    with _MEMORY_LOCK:
        hit = _MEMORY.get(digest)
        if hit is not None:
            _MEMORY.move_to_end(digest)
        return hit


def _memory_put(digest: str, analysis: FaceAnalysis) -> None:
    with _MEMORY_LOCK:
        _MEMORY[digest] = analysis
        _MEMORY.move_to_end(digest)
        while len(_MEMORY) > _MEMORY_CACHE_SIZE:
            _MEMORY.popitem(last=False)


def _load_npz(path: Path) -> FaceAnalysis | None:
    try:
        with np.load(path) as z:
            size = z["size"]
            return FaceAnalysis(
                image_width=int(size[0]),
                image_height=int(size[1]),
                landmarks=z["landmarks"].astype(np.float32),
                box=tuple(int(v) for v in z["box"]),
            )
    except (OSError, KeyError, ValueError):
        return None


def _save_npz(path: Path, analysis: FaceAnalysis) -> None:
    """Write the cache file atomically; a failure to cache is not an error."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".face-", suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                landmarks=analysis.landmarks,
                box=np.array(analysis.box, dtype=np.int32),
                size=np.array([analysis.image_width, analysis.image_height], dtype=np.int32),
            )
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
