"""The avatar's alpha masks and its border ring, as arrays and as the PNG files FFmpeg reads."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from talking_head_dagster.media.masks import shape_alpha, write_border, write_mask

SIZES = [(486, 486), (200, 120), (101, 61), (960, 1080)]


def corners(alpha: np.ndarray) -> list[int]:
    return [int(alpha[0, 0]), int(alpha[0, -1]), int(alpha[-1, 0]), int(alpha[-1, -1])]


def edge_midpoints(alpha: np.ndarray) -> list[int]:
    height, width = alpha.shape
    return [
        int(alpha[0, width // 2]),
        int(alpha[-1, width // 2]),
        int(alpha[height // 2, 0]),
        int(alpha[height // 2, -1]),
    ]


def asymmetry(alpha: np.ndarray) -> int:
    """Largest difference between the mask and its left-right and top-bottom mirror images."""
    signed = alpha.astype(np.int16)
    return int(max(np.abs(signed - signed[:, ::-1]).max(), np.abs(signed - signed[::-1]).max()))


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_circle_is_opaque_in_the_middle_clear_in_the_corners_and_symmetric(width: int, height: int) -> None:
    alpha = shape_alpha(width, height, "circle")
    assert alpha.shape == (height, width) and alpha.dtype == np.uint8
    assert alpha[height // 2, width // 2] == 255
    assert corners(alpha) == [0, 0, 0, 0]
    assert asymmetry(alpha) <= 3
    # An ellipse touching all four sides: the edge midpoints are (almost) opaque, the diagonal half-way out clear.
    assert min(edge_midpoints(alpha)) > 200
    assert alpha[round(height * 0.1), round(width * 0.1)] == 0


def test_circle_covers_pi_over_four_of_its_box() -> None:
    alpha = shape_alpha(400, 400, "circle")
    assert alpha.astype(np.float64).sum() / 255 / 400**2 == pytest.approx(np.pi / 4, abs=0.005)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_rounded_has_opaque_edges_and_clear_corners(width: int, height: int) -> None:
    alpha = shape_alpha(width, height, "rounded")
    assert alpha[height // 2, width // 2] == 255
    assert min(edge_midpoints(alpha)) >= 250
    assert max(corners(alpha)) <= 8
    assert asymmetry(alpha) <= 3
    # The corner radius is 12% of the short side: a pixel well inside it along the diagonal is opaque.
    inset = round(min(width, height) * 0.12)
    assert alpha[inset, inset] == 255


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_soft_fades_to_nothing_at_every_edge(width: int, height: int) -> None:
    alpha = shape_alpha(width, height, "soft")
    feather = int(min(width, height) * 0.06)
    assert alpha[height // 2, width // 2] == 255
    assert alpha[0].max() == alpha[-1].max() == alpha[:, 0].max() == alpha[:, -1].max() == 0
    row = alpha[height // 2, : feather + 1].astype(int)
    assert all(np.diff(row) >= 0) and row[feather] >= 250  # a ramp up to opaque over the feather
    assert alpha[feather:-feather, feather:-feather].min() >= 250
    assert asymmetry(alpha) <= 1


def test_an_unknown_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown mask shape 'star'"):
        shape_alpha(100, 100, "star")


def test_mask_file_is_a_grayscale_png_of_the_alpha(tmp_path: Path) -> None:
    path = write_mask(tmp_path / "mask.png", 240, 160, "rounded")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image.shape == (160, 240)
    assert np.array_equal(image, shape_alpha(240, 160, "rounded"))


@pytest.mark.parametrize("shape", ["circle", "rounded"])
def test_border_is_an_rgba_ring_along_the_edge_in_the_colour_given(tmp_path: Path, shape: str) -> None:
    width, height, border_px = 300, 200, 8
    path = write_border(tmp_path / "border.png", width, height, shape, border_px, "#FF8000")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image.shape == (height, width, 4)
    blue, green, red, alpha = (image[..., i] for i in range(4))  # OpenCV reads BGRA
    ring = alpha > 128
    assert ring.any()
    assert np.all(red[ring] == 255) and np.all(green[ring] == 128) and np.all(blue[ring] == 0)
    # The ring follows the mask's edge: opaque a few pixels in from each side's middle, clear in the middle.
    assert alpha[height // 2, border_px // 2] > 200 and alpha[height // 2, width - 1 - border_px // 2] > 200
    assert alpha[border_px // 2, width // 2] > 200 and alpha[height - 1 - border_px // 2, width // 2] > 200
    assert alpha[height // 2, border_px + 3 : width - border_px - 3].max() == 0
    assert alpha[border_px + 3 : height - border_px - 3, width // 2].max() == 0
    assert alpha[height // 4 : -height // 4, width // 4 : -width // 4].max() == 0
    # Nowhere outside the mask, and about border_px thick.
    assert np.all(alpha[shape_alpha(width, height, shape) == 0] == 0)
    thickness = int((alpha[height // 2, : width // 2] > 128).sum())
    assert border_px - 2 <= thickness <= border_px + 2
    assert asymmetry(alpha) <= 3


def test_no_border_is_a_fully_transparent_image(tmp_path: Path) -> None:
    path = write_border(tmp_path / "border.png", 120, 120, "circle", 0, "#ffffff")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image.shape == (120, 120, 4) and image[..., 3].max() == 0


@pytest.mark.parametrize("color", ["#FFF", "white", "#12345", "#1234567", "#GGHHII", ""])
def test_a_bad_colour_is_refused(tmp_path: Path, color: str) -> None:
    with pytest.raises(ValueError):
        write_border(tmp_path / "border.png", 100, 100, "circle", 4, color)
