"""Still images the composite overlays: the avatar's alpha mask and its soft border.

Drawn once per video with OpenCV at 4x and downsampled, so edges are anti-aliased; FFmpeg then
loops them, which costs far less per frame than computing a mask with a per-pixel filter.
"""

from pathlib import Path

import cv2
import numpy as np

SUPERSAMPLE = 4


def shape_alpha(width: int, height: int, shape: str, feather_px: float = 1.5) -> np.ndarray:
    """0..255 alpha of ``shape`` ("circle", "rounded", "soft") filling a ``width`` x ``height`` box."""
    big = np.zeros((height * SUPERSAMPLE, width * SUPERSAMPLE), np.uint8)
    if shape == "circle":
        # In half pixels (shift=1): centred between the middle pixels, touching all four edges.
        half_size = (big.shape[1] - 1, big.shape[0] - 1)
        cv2.ellipse(big, half_size, half_size, 0, 0, 360, 255, -1, cv2.LINE_AA, 1)
    elif shape == "rounded":
        radius = int(min(big.shape) * 0.12)
        _rounded_rect(big, 0, 0, big.shape[1] - 1, big.shape[0] - 1, radius, 255)
    elif shape == "soft":
        # A full-frame avatar fades into the background at its edges instead of ending in a line.
        feather_px = min(width, height) * 0.06
        big[:] = 255
    else:
        raise ValueError(f"Unknown mask shape {shape!r}")
    alpha = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA)
    if shape == "soft":
        alpha = _fade_edges(alpha, int(feather_px))
    elif feather_px > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather_px / 2)
    return alpha


def write_mask(path: Path, width: int, height: int, shape: str) -> Path:
    """A grayscale PNG to ``alphamerge`` with the avatar."""
    cv2.imwrite(str(path), shape_alpha(width, height, shape))
    return path


def write_border(path: Path, width: int, height: int, shape: str, border_px: int, color: str) -> Path:
    """An RGBA PNG of the same size: a ring of ``border_px`` along the mask's edge, soft on both sides."""
    outer = shape_alpha(width, height, shape, feather_px=1.0).astype(np.float32)
    inner_w, inner_h = width - 2 * border_px, height - 2 * border_px
    inner = np.zeros_like(outer)
    if border_px > 0 and inner_w > 0 and inner_h > 0:
        inner_alpha = shape_alpha(inner_w, inner_h, shape, feather_px=1.0).astype(np.float32)
        inner[border_px : border_px + inner_h, border_px : border_px + inner_w] = inner_alpha
    ring = np.clip(outer - inner, 0, 255) if border_px > 0 else np.zeros_like(outer)
    red, green, blue = _hex_color(color)
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = blue, green, red  # OpenCV writes BGRA
    rgba[..., 3] = ring.astype(np.uint8)
    cv2.imwrite(str(path), rgba)
    return path


def _rounded_rect(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, radius: int, value: int) -> None:
    cv2.rectangle(img, (x0 + radius, y0), (x1 - radius, y1), value, -1)
    cv2.rectangle(img, (x0, y0 + radius), (x1, y1 - radius), value, -1)
    for cx in (x0 + radius, x1 - radius):
        for cy in (y0 + radius, y1 - radius):
            cv2.circle(img, (cx, cy), radius, value, -1, cv2.LINE_AA)


def _fade_edges(alpha: np.ndarray, width: int) -> np.ndarray:
    """Multiply by linear ramps of ``width`` px along all four edges."""
    if width <= 0:
        return alpha
    height_px, width_px = alpha.shape
    ramp_x = np.clip(np.minimum(np.arange(width_px), np.arange(width_px)[::-1]) / width, 0, 1)
    ramp_y = np.clip(np.minimum(np.arange(height_px), np.arange(height_px)[::-1]) / width, 0, 1)
    return (alpha * np.outer(ramp_y, ramp_x)).astype(np.uint8)


def _hex_color(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"Border colour {color!r} is not #RRGGBB")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
