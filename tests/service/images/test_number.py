"""service.images.number: what read_number does before and around finding the digits."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from service.errors import Unprocessable
from service.images.decode import WORKING_PIXELS, decode
from service.images.digits import BLANK
from service.images.number import grown, read_number
from tests.service.images.synthetic import encode, seven
from training.data import load_mnist


def png(pixels: np.ndarray, mode: str = "L") -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels, mode).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def mnist_digits(mnist_dir: Path) -> np.ndarray:
    return load_mnist(mnist_dir, train=False)[0][:20]


def test_a_28x28_upload_is_already_in_mnists_form(mnist_digits: np.ndarray) -> None:
    for digit in mnist_digits:
        (found,) = read_number(png(digit), 10**6, 12)
        assert np.array_equal(found.image, digit)  # the model's own input, unchanged
        assert found.box == (0, 0, 28, 28)
        (inverted,) = read_number(png(255 - digit), 10**6, 12)  # dark ink on light paper
        assert np.array_equal(inverted.image, digit)


def test_a_blank_28x28_upload_is_422() -> None:
    with pytest.raises(Unprocessable) as caught:
        read_number(png(np.full((28, 28), 7, np.uint8)), 10**6, 12)
    assert caught.value.message == BLANK


def test_any_other_size_is_brought_to_mnists_form(mnist_digits: np.ndarray) -> None:
    digit = mnist_digits[0]
    big = np.asarray(Image.fromarray(digit).resize((29, 29), Image.Resampling.BILINEAR))
    (found,) = read_number(png(big), 10**6, 12)
    assert not np.array_equal(found.image, digit)  # re-fitted: cut, 20x20, centred by mass
    assert np.corrcoef(found.image.ravel(), digit.ravel().astype(float))[0, 1] > 0.8


@pytest.mark.parametrize("colour", [(0, 0, 0), (20, 40, 200), (250, 250, 250)])
def test_a_one_colour_canvas_is_composited_as_the_general_case(colour: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    rgba = np.zeros((60, 80, 4), np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = rng.integers(0, 256, (60, 80))
    rgba[0, 0, 3] = 0  # some transparency, so light strokes get black paper
    luma = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    paper = 0.0 if luma > 127.5 else 255.0
    alpha = rgba[..., 3] / 255.0
    expected = luma * alpha + paper * (1 - alpha)
    assert np.abs(decode(png(rgba, "RGBA"), 10**6) - expected).max() <= 1.0


def test_a_digits_mask_grows_by_its_four_neighbours_as_scipys_dilation() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        mask = rng.random((int(rng.integers(1, 40)), int(rng.integers(1, 40)))) < 0.2
        assert np.array_equal(grown(mask), ndimage.binary_dilation(mask, iterations=1))


def numpy_peak_bytes(data: bytes) -> int:
    """The most memory numpy held at once while reading the upload (tracemalloc sees numpy's
    arrays; Pillow's decoder buffers are its own)."""
    tracemalloc.start()
    try:
        read_number(data, 10**8, 12)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_after_decoding_is_bounded_by_the_working_size_not_the_upload() -> None:
    # A 12-megapixel photo of a seven holds 60 times the pixels of a 450x450 one; everything
    # after decoding works on the working size, so numpy's peak is about the same for both
    # (a float32 copy of the full photo alone would be 48 MB).
    small = Image.fromarray(seven(450, ink=40, paper=230).astype(np.uint8))
    large = small.resize((4000, 3000), Image.Resampling.BILINEAR)
    peaks = [numpy_peak_bytes(encode(image, "JPEG", quality=90)) for image in (small, large)]
    assert peaks[1] < 2 * peaks[0] + 10**6
    assert peaks[1] < 40 * WORKING_PIXELS  # a few float32 working images, not the upload
