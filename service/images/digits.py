"""Grayscale photo of a handwritten digit -> MNIST-style input: pure functions, no I/O.

MNIST was made by scaling each binary NIST digit to fit a 20x20 box (aspect ratio kept,
anti-aliased) and pasting it into 28x28 so that its centre of mass is the centre. An upload
is brought to the same form (`to_digit` for one digit; service.images.number cuts a number
into digits first and fits each alike), then `to_tensor` with the card's normalization:

    bytes --service.images.decode--> gray float32 [H, W], 0 black .. 255 white
          --ink_map--------> ink [H, W], white on black, 1 = a stroke core: polarity from the
                             border, paper shading (service.images.shading) and grain (a 3x3
                             median, in 8 bits) removed
          --crop_to_ink----> the strokes' bounding box (strokes: ink >= 1/2)
          --fit_box--------> binary strokes area-averaged to fit 20x20: uint8, anti-aliased
          --centre_by_mass-> uint8 [28, 28], centre of mass at (14, 14)
          --to_tensor------> float32 [1, 784], (p/255 - mean) / std from the card
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from PIL import Image

from service.errors import Unprocessable
from service.images.decode import FloatImage
from service.images.shading import MAD_TO_SIGMA, paper_shading

Pixels = npt.NDArray[np.uint8]
Image_ = TypeVar("Image_", FloatImage, Pixels)
Counts = npt.NDArray[np.float64] | npt.NDArray[np.int64]

BLANK = "the image is blank: no ink (no digit) was found on it"

SIDE = 28
BOX = 20
"""MNIST's geometry: a 28x28 field, the digit scaled to fit 20x20."""

CENTRE = 14.0
"""Where MNIST's centres of mass sit (row and column index; measured mean 14.0 +- 0.3)."""

BORDER = 0.04
"""Fraction of each side read as the border to tell the paper's brightness."""

MIN_CONTRAST = 24.0
"""Ink fainter than this (0..255) above the paper is no ink at all: the image is blank."""

INK_FRACTION = 0.3
"""Below this fraction of the strongest ink is paper, when measuring a typical stroke core."""

NOISE_SIGMAS = 5.0
"""...and so are pixels within this many noise standard deviations of the paper."""

STROKE_EDGE = 0.5
"""A pixel is on a stroke when its ink reaches half a stroke core's: the half-maximum edge."""

EDGE_BAND = 0.6
"""An outermost row or column more than this fraction ink is background (a table), not a digit."""

SUPERSAMPLE = 4
"""Strokes are cut out on a grid at least this many times finer than the 20x20 box."""


def ink_map(gray: FloatImage) -> FloatImage:
    """Ink strength, white ink on black: paper 0, a typical stroke core 1 (may exceed 1)."""
    ink = 255.0 - gray if light_paper(gray) else gray
    # Paper ~ 0; in 8 bits from here on: the levels are whole numbers anyway, and fast.
    levels = in_levels(ink - paper_shading(ink) + 0.5).astype(np.uint8)  # [H, W]
    smooth = median3(levels)  # grain, JPEG ringing and isolated specks gone; stroke edges kept
    peak = float(smooth.max())
    noise = noise_sigma(levels)
    if peak < MIN_CONTRAST or peak < 2 * NOISE_SIGMAS * noise:
        raise Unprocessable(BLANK)
    floor = max(INK_FRACTION * peak, NOISE_SIGMAS * noise)
    core = histogram_median(np.bincount(smooth.ravel(), minlength=256), above=floor)
    return smooth * np.float32(1.0 / core)  # a typical stroke core -> 1


def light_paper(gray: FloatImage) -> bool:
    """True when the border (the paper) is nearer the image's light end than its dark end."""
    band = max(1, round(BORDER * min(gray.shape)))
    border = np.concatenate(
        [gray[:band].ravel(), gray[-band:].ravel(), gray[:, :band].ravel(), gray[:, -band:].ravel()]
    )
    # The 1st and 99th percentiles, from the histogram of whole levels (a sort is slower).
    counts = np.bincount(in_levels(thinned(gray)).astype(np.uint8).ravel(), minlength=256)
    cumulative = np.cumsum(counts)
    dark, light = np.searchsorted(cumulative, [0.01 * cumulative[-1], 0.99 * cumulative[-1]])
    return bool(median(border) > (dark + light) / 2.0)


def in_levels(values: FloatImage) -> FloatImage:
    """np.clip(values, 0, 255) by its two ufuncs: np.clip's wrappers cost 4 times more."""
    return np.minimum(np.maximum(values, np.float32(0.0)), np.float32(255.0))


def median(values: FloatImage) -> float:
    """np.median of a 1-D array, by the one partition it makes, without its wrappers' cost."""
    middle = values.size // 2
    if values.size % 2:
        return float(np.partition(values, middle)[middle])
    low, high = np.partition(values, (middle - 1, middle))[middle - 1 : middle + 1]
    return float((low + high) / 2.0)


def median3(levels: Pixels) -> Pixels:
    """3x3 median filter (edges repeated), exact: each column of three sorted once, then per
    window the median of (the largest low, the median middle, the smallest high)."""
    padded = edge_padded(levels)  # [H+2, W+2]
    up, mid, down = padded[:-2], padded[1:-1], padded[2:]
    low, high = np.minimum(up, mid), np.maximum(up, mid)
    low, middle, high = np.minimum(low, down), *median_and_max(high, low, down)
    lows = np.maximum(np.maximum(low[:, :-2], low[:, 1:-1]), low[:, 2:])  # [H, W]
    highs = np.minimum(np.minimum(high[:, :-2], high[:, 1:-1]), high[:, 2:])
    middles = median_of(middle[:, :-2], middle[:, 1:-1], middle[:, 2:])
    return median_of(lows, middles, highs)


def edge_padded(levels: Pixels) -> Pixels:
    """np.pad(levels, 1, mode="edge"), by five slice copies (np.pad's wrappers cost 4x more)."""
    height, width = levels.shape
    padded = np.empty((height + 2, width + 2), dtype=levels.dtype)
    padded[1:-1, 1:-1] = levels
    padded[0, 1:-1], padded[-1, 1:-1] = levels[0], levels[-1]
    padded[:, 0], padded[:, -1] = padded[:, 1], padded[:, -2]  # the corners too
    return padded


def median_and_max(high: Pixels, low: Pixels, third: Pixels) -> tuple[Pixels, Pixels]:
    """(middle, largest) of three values per pixel, given low <= high for the first two."""
    return np.maximum(low, np.minimum(high, third)), np.maximum(high, third)


def median_of(a: Pixels, b: Pixels, c: Pixels) -> Pixels:
    """Per pixel, the median of three."""
    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))


def noise_sigma(levels: Pixels) -> float:
    """Robust standard deviation of the paper's grain: MAD_TO_SIGMA x the median absolute
    deviation, from the levels' histogram."""
    counts = np.bincount(thinned(levels).ravel(), minlength=256)  # [256]
    centre = histogram_median(counts)
    deviations = np.bincount(np.abs(LEVELS - round(centre)), weights=counts)
    return MAD_TO_SIGMA * histogram_median(deviations)


LEVELS = np.arange(256)
LEVELS.flags.writeable = False


def histogram_median(counts: Counts, above: float = -1) -> float:
    """The median level of a histogram (counts per level 0, 1, ...), of the levels > above."""
    if above >= 0:  # else every level counts
        counts = np.where(LEVELS[: counts.size] > above, counts, 0)
    cumulative = np.cumsum(counts)
    return float(np.searchsorted(cumulative, cumulative[-1] / 2.0))


def thinned(image: Image_, pixels: int = 1 << 15) -> Image_:
    """Every k-th pixel along each axis, so that at most `pixels` remain (all when fewer)."""
    step = max(1, int(np.ceil(np.sqrt(image.size / pixels))))
    return image[::step, ::step]


def crop_to_ink(ink: FloatImage) -> FloatImage:
    """The smallest rectangle holding every stroke pixel (ink >= STROKE_EDGE), once the bands
    along the image's edges that are mostly ink (a table or the paper's edge) are cut off."""
    top, bottom, left, right = inner_frame(ink >= STROKE_EDGE)
    ink = ink[top:bottom, left:right]
    strokes = ink >= STROKE_EDGE
    rows = np.flatnonzero(strokes.any(axis=1))
    cols = np.flatnonzero(strokes.any(axis=0))
    if rows.size == 0:
        raise Unprocessable(BLANK)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def inner_frame(strokes: npt.NDArray[np.bool_]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) inside the runs of edge rows and columns that are mostly
    ink: no pen stroke fills most of an image's outermost line, a table seen past the paper
    does."""
    # The fraction as np.mean makes it (a float64 sum over the count), without its wrappers.
    rows = np.add.reduce(strokes, axis=1) / strokes.shape[1] > EDGE_BAND  # [H]
    cols = np.add.reduce(strokes, axis=0) / strokes.shape[0] > EDGE_BAND  # [W]
    return (*band_run(rows), *band_run(cols))


def band_run(full: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """[start, stop) of `full` without its leading and trailing runs of True."""
    if full.all():
        return 0, 0
    return int(np.argmin(full)), full.size - int(np.argmin(full[::-1]))


def fit_box(ink: FloatImage, box: int = BOX) -> Pixels:
    """Binary strokes area-averaged to fit box x box, aspect kept: NIST -> MNIST. uint8 0..255.

    The strokes are cut at STROKE_EDGE on a grid at least SUPERSAMPLE times finer than the
    box, so the downscale makes MNIST's anti-aliased edge whatever the upload's resolution.
    """
    height, width = ink.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    fine = enlarge(ink, SUPERSAMPLE * box)
    strokes = Image.fromarray(np.where(fine >= STROKE_EDGE, 255, 0).astype(np.uint8))
    # Pillow's BOX filter averages each output pixel's exact footprint: area anti-aliasing.
    return np.asarray(strokes.resize(size, Image.Resampling.BOX), dtype=np.uint8)


def enlarge(ink: FloatImage, side: int) -> FloatImage:
    """Bilinear upsampling by an integer factor until the longer side is at least `side`."""
    factor = -(-side // max(ink.shape))  # ceil
    if factor <= 1:
        return ink
    rows = upsampling_weights(ink.shape[0], factor)  # [H*f, H]
    cols = upsampling_weights(ink.shape[1], factor)  # [W*f, W]
    return np.asarray(rows @ ink.astype(np.float32) @ cols.T, dtype=np.float32)  # [H*f, W*f]


@lru_cache(maxsize=1024)
def upsampling_weights(length: int, factor: int) -> FloatImage:
    """[length * factor, length] bilinear weights, pixel centres aligned (edges clamped)."""
    positions = (np.arange(length * factor) + 0.5) / factor - 0.5  # in input pixel units
    positions = np.clip(positions, 0, length - 1)
    below = np.minimum(np.floor(positions).astype(int), max(length - 2, 0))
    above = np.minimum(below + 1, length - 1)
    frac = positions - below
    weights = np.zeros((length * factor, length), dtype=np.float32)
    rows = np.arange(length * factor)
    np.add.at(weights, (rows, below), 1.0 - frac)
    np.add.at(weights, (rows, above), frac)
    weights.flags.writeable = False  # shared by every call: cached
    return weights


def centre_by_mass(digit: Pixels, side: int = SIDE) -> Pixels:
    """Paste into side x side so the ink's centre of mass lands on (CENTRE, CENTRE)."""
    height, width = digit.shape
    mass = digit.astype(np.float32)
    total = mass.sum()
    if total == 0:  # specks so sparse that the downscale averaged them away
        raise Unprocessable(BLANK)
    row = (mass.sum(axis=1) @ np.arange(height)) / total
    col = (mass.sum(axis=0) @ np.arange(width)) / total
    # Integer shift, clipped so the digit never leaves the field (odd shapes, e.g. a long 7).
    top = min(max(round(CENTRE - row), 0), side - height)
    left = min(max(round(CENTRE - col), 0), side - width)
    field = np.zeros((side, side), dtype=np.uint8)
    field[top : top + height, left : left + width] = digit
    return field


def to_digit(gray: FloatImage) -> Pixels:
    """The 28x28 uint8 MNIST-style digit (white on black) of a grayscale photo."""
    gray = np.asarray(gray, dtype=np.float32)
    # Small images (MNIST's own 28x28) are enlarged first so the 3x3 median cannot erase strokes.
    return centre_by_mass(fit_box(crop_to_ink(ink_map(enlarge(gray, SUPERSAMPLE * SIDE)))))


def to_tensor(digit: Pixels, mean: float, std: float) -> npt.NDArray[np.float32]:
    """Model input [1, 784]: (p/255 - mean) / std, row-major; the one float32 cast."""
    scaled = (digit.astype(np.float64) / 255.0 - mean) / std
    return scaled.reshape(1, SIDE * SIDE).astype(np.float32)
