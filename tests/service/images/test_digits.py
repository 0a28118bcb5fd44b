"""service.images.digits: each preprocessing step on synthetic images, then MNIST itself through the
whole chain (a clean MNIST digit must come back as MNIST made it)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from service.errors import Unprocessable
from service.images import digits
from service.images.decode import WORKING_SIDE, decode
from tests.service.images.synthetic import gradient_paper, seven
from training.data import MNIST_MEAN, MNIST_STD, load_mnist

BLANK = "the image is blank: no ink (no digit) was found on it"


# -- polarity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ink", "paper", "light"), [(0, 255, True), (255, 0, False), (20, 120, True), (200, 60, False)]
)
def test_light_paper_is_told_by_the_border(ink: int, paper: int, light: bool) -> None:
    assert digits.light_paper(seven(ink=ink, paper=paper)) is light


def test_polarity_holds_when_the_digit_touches_the_border() -> None:
    gray = seven()
    gray[:, :8] = 0  # a stroke along the whole left edge
    assert digits.light_paper(gray) is True


# -- ink map --------------------------------------------------------------------------------


def test_ink_map_is_white_ink_on_black_whatever_the_polarity() -> None:
    dark_on_light = digits.ink_map(seven(ink=30, paper=230))
    light_on_dark = digits.ink_map(seven(ink=230, paper=30))
    strokes = seven() < 128
    for ink in (dark_on_light, light_on_dark):
        # The 3x3 median rounds the line's ends and fills its inner corners by a pixel.
        assert np.mean(ink[strokes] > 0.9) > 0.97
        assert np.mean(ink[~strokes] >= digits.STROKE_EDGE) < 0.002


def test_ink_map_removes_uneven_paper_and_grain() -> None:
    rng = np.random.default_rng(0)
    paper = gradient_paper(200, 120, 250)
    gray = np.where(seven() < 128, 40.0, paper) + rng.normal(0, 6, size=paper.shape)
    ink = digits.ink_map(gray)
    strokes = seven() < 128
    assert np.median(ink[strokes]) > 0.9
    assert (ink[~strokes] >= digits.STROKE_EDGE).mean() < 1e-3  # the paper is not ink


@pytest.mark.parametrize(
    "gray",
    [
        np.full((50, 60), 255.0),
        np.full((50, 60), 0.0),
        np.full((50, 60), 128.0) + np.random.default_rng(1).normal(0, 4, size=(50, 60)),
        gradient_paper(100, 90, 250),
        np.zeros((1, 1)),
    ],
    ids=["white", "black", "grainy-grey", "gradient", "one-pixel"],
)
def test_blank_image_is_422(gray: np.ndarray) -> None:
    with pytest.raises(Unprocessable) as caught:
        digits.to_digit(gray)
    assert caught.value.message == BLANK


def test_blank_jpeg_of_paper_is_422() -> None:
    rng = np.random.default_rng(2)
    paper = gradient_paper(300, 160, 230) + rng.normal(0, 5, size=(300, 300))
    out = io.BytesIO()
    Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=40)
    with pytest.raises(Unprocessable, match="blank"):
        digits.to_digit(decode(out.getvalue(), 10**6))


# -- crop, fit, centre ----------------------------------------------------------------------


def test_crop_to_ink_is_the_strokes_bounding_box() -> None:
    ink = np.zeros((50, 60))
    ink[10:20, 30:35] = 1.0
    ink[5, 5] = 0.2  # faint: not a stroke
    assert digits.crop_to_ink(ink).shape == (10, 5)


@pytest.mark.parametrize("edge", ["left", "top", "bottom"])
def test_a_table_seen_along_one_edge_is_not_the_digit(edge: str) -> None:
    gray = seven(400) * 0.85 + 20  # a 7 on light paper
    band = {"left": np.s_[:, :50], "top": np.s_[:40, :], "bottom": np.s_[-30:, :]}[edge]
    gray[band] = 25  # dark table past the paper's edge
    assert np.array_equal(digits.to_digit(gray), digits.to_digit(seven(400) * 0.85 + 20))


def test_fit_box_keeps_the_aspect_ratio() -> None:
    assert digits.fit_box(np.ones((100, 50))).shape == (20, 10)
    assert digits.fit_box(np.ones((30, 90))).shape == (7, 20)
    assert digits.fit_box(np.ones((400, 3))).shape == (20, 1)  # a thin 1 stays one pixel wide


def test_fit_box_enlarges_small_digits_and_antialiases_edges() -> None:
    ink = np.zeros((7, 7))
    ink[1:6, 1:6] = 1.0
    box = digits.fit_box(ink)
    assert box.shape == (20, 20)
    assert box[10, 10] == 255 and box[0, 0] == 0
    assert ((box > 0) & (box < 255)).any(), "the edge should be anti-aliased"


def test_centre_by_mass_puts_the_centre_of_mass_at_14_14() -> None:
    digit = np.zeros((10, 12), dtype=np.uint8)
    digit[:3, :] = 255  # mass in the top rows: the box must sit low
    field = digits.centre_by_mass(digit)
    mass = field.astype(float)
    rows, cols = np.indices(field.shape)
    assert field.shape == (28, 28) and field.dtype == np.uint8
    assert abs((mass * rows).sum() / mass.sum() - 14) <= 0.5
    assert abs((mass * cols).sum() / mass.sum() - 14) <= 0.5


def test_centre_by_mass_never_pushes_the_digit_out_of_the_field() -> None:
    digit = np.zeros((20, 20), dtype=np.uint8)
    digit[0, 0] = 255  # all mass in a corner: the shift is clipped
    digit[19, 19] = 1
    field = digits.centre_by_mass(digit)
    assert field.sum() == digit.astype(int).sum()


def test_to_tensor_normalizes_with_the_card_and_casts_once() -> None:
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[0, 1] = 255
    tensor = digits.to_tensor(digit, 0.1307, 0.3081)
    assert tensor.shape == (1, 784) and tensor.dtype == np.float32
    np.testing.assert_allclose(tensor[0, :2], [-0.1307 / 0.3081, (1 - 0.1307) / 0.3081], rtol=1e-6)


# -- the whole chain ------------------------------------------------------------------------


def test_drawn_seven_becomes_an_mnist_style_digit() -> None:
    digit = digits.to_digit(seven(size=600, width=30))
    rows = np.flatnonzero(digit.any(axis=1))
    cols = np.flatnonzero(digit.any(axis=0))
    assert rows[-1] - rows[0] + 1 == 20  # the longer side fits 20
    assert cols[-1] - cols[0] + 1 <= 20
    assert digit.max() == 255


@pytest.fixture(scope="module")
def mnist_sample(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_mnist(mnist_dir, train=False)
    return images[:200], labels[:200]


def test_clean_mnist_digits_come_back_as_mnist_made_them(
    mnist_sample: tuple[np.ndarray, np.ndarray],
) -> None:
    # Not pixel-exact: faint sub-pixel strokes fall below the half-maximum edge, and the
    # centring rounds to whole pixels. Accuracy through the model is test_photolike's job.
    images, _ = mnist_sample
    again = [digits.to_digit(image.astype(np.float64)) for image in images]
    correlations = np.array(
        [
            np.corrcoef(a.ravel(), image.ravel())[0, 1]
            for a, image in zip(again, images, strict=True)
        ]
    )
    assert np.median(correlations) > 0.95
    assert np.mean(correlations > 0.75) > 0.95


def test_mnist_digit_upscaled_as_png_comes_back(
    mnist_sample: tuple[np.ndarray, np.ndarray],
) -> None:
    original = mnist_sample[0][0]
    out = io.BytesIO()
    Image.fromarray(255 - original).resize((280, 280), Image.Resampling.BICUBIC).save(out, "PNG")
    again = digits.to_digit(decode(out.getvalue(), 10**6))
    correlation = np.corrcoef(again.ravel().astype(float), original.ravel().astype(float))[0, 1]
    assert correlation > 0.85
    tensor = digits.to_tensor(again, MNIST_MEAN, MNIST_STD)
    assert tensor.shape == (1, 784)
    side = WORKING_SIDE  # the working resolution
    assert decode(out.getvalue(), 10**6).shape == (side, side)


def test_centre_by_mass_of_nothing_is_blank() -> None:
    with pytest.raises(Unprocessable) as caught:
        digits.centre_by_mass(np.zeros((20, 20), dtype=np.uint8))
    assert caught.value.message == BLANK


@pytest.mark.parametrize("shape", [(1, 1), (2, 5), (37, 23), (112, 112)])
def test_median3_is_pillows_3x3_median_exactly(shape: tuple[int, int]) -> None:
    levels = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    pillow = Image.fromarray(levels).filter(ImageFilter.MedianFilter(3))
    assert np.array_equal(digits.median3(levels), np.asarray(pillow))


@pytest.mark.parametrize("size", [1, 2, 3, 4, 447, 448])
def test_median_is_numpys(size: int) -> None:
    rng = np.random.default_rng(size)
    for _ in range(20):
        values = rng.integers(0, 256, size).astype(np.float32)
        assert digits.median(values) == float(np.median(values))
