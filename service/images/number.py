"""Photo of a handwritten number -> one MNIST-style 28x28 image per digit: pure functions.

    bytes --decode-------> gray at the working resolution, and the upload's size
          --ink_map------> ink, white on black (service.images.digits)
          --find_digits--> each digit's box and stroke mask (service.images.segment)
          --to_mnist-----> per digit: its own strokes, a thin pen widened to MNIST's stroke,
                           fitted to 20x20 and centred by mass in 28x28 (service.images.digits)

Each digit's box comes back in the upload's pixels (the upright image, EXIF orientation
applied), as [x, y, width, height].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from service.errors import Unprocessable
from service.images.boxes import Digit, Mask
from service.images.decode import EXIF_ORIENTATION, FloatImage, load_frame, open_image, to_gray
from service.images.digits import (
    BLANK,
    MIN_CONTRAST,
    SIDE,
    STROKE_EDGE,
    SUPERSAMPLE,
    Pixels,
    centre_by_mass,
    enlarge,
    fit_box,
    ink_map,
    inner_frame,
    light_paper,
)
from service.images.necks import stroke_thickness
from service.images.segment import find_digits

QUARTER_TURNS = (5, 6, 7, 8)
"""EXIF orientations whose pixels are stored a quarter turn from upright."""

THIN_PEN = 0.10
"""A digit whose strokes are thinner than this many heights was written with a thin pen (5%
of MNIST's digits are thinner; the median is 0.135)..."""

MNIST_PEN = 0.13
"""...and is widened to about this many heights, the stroke the classifier learned on."""


@dataclass(frozen=True)
class FoundDigit:
    """One digit of the number: the 28x28 image the model reads and where it is."""

    image: Pixels
    box: tuple[int, int, int, int]
    """[x, y, width, height] in the upload's pixels."""


def read_number(data: bytes, max_pixels: int, max_digits: int) -> list[FoundDigit]:
    """The digits of an uploaded number, left to right (CPU-bound: run it in a thread)."""
    image = open_image(data, max_pixels)
    stored = image.size  # before a JPEG's reduced decoding (draft) changes it
    gray = to_gray(load_frame(image))  # decoded (422 when corrupt) before EXIF is read again
    width, height = upright_size(image, stored)
    if (digit := mnist_form(gray)) is not None:
        return [FoundDigit(digit, (0, 0, width, height))]
    # Small images (MNIST's own 28x28) are enlarged first so the 3x3 median cannot erase strokes.
    work = enlarge(gray, SUPERSAMPLE * SIDE)
    ink = ink_map(work)
    top, bottom, left, right = inner_frame(ink >= STROKE_EDGE)
    frame = np.zeros(ink.shape, dtype=bool)
    frame[top:bottom, left:right] = True
    digits = find_digits((ink >= STROKE_EDGE) & frame)
    if len(digits) > max_digits:
        raise Unprocessable(
            f"the image holds {len(digits)} digits; at most {max_digits} are read "
            "(NNSERVE_MAX_DIGITS)"
        )
    scale = (width / work.shape[1], height / work.shape[0])
    return [FoundDigit(to_mnist(ink, d), upload_box(d, scale)) for d in digits]


def mnist_form(gray: FloatImage) -> Pixels | None:
    """The pixels of a 28x28 upload, white ink on black: the model's own input size, a digit
    already brought to MNIST's form (MNIST's own images); None for any other size."""
    if gray.shape != (SIDE, SIDE):
        return None
    ink = 255.0 - gray if light_paper(gray) else gray
    if float(ink.max() - ink.min()) < MIN_CONTRAST:
        raise Unprocessable(BLANK)
    return np.asarray(np.round(ink - ink.min()), dtype=np.uint8)


def upright_size(image: Image.Image, stored: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of the image as shown: EXIF orientations 5-8 turn it a quarter."""
    width, height = stored
    turned = image.getexif().get(EXIF_ORIENTATION, 1) in QUARTER_TURNS
    return (height, width) if turned else (width, height)


def to_mnist(ink: FloatImage, digit: Digit) -> Pixels:
    """The digit's own strokes as MNIST's 28x28: neighbours masked out, thin pens widened."""
    b = digit.box
    # One pixel around the strokes keeps their soft edge, which the 20x20 fit interpolates.
    crop = ink[b.top : b.bottom, b.left : b.right] * grown(digit.mask)
    thickness = stroke_thickness(digit.mask)
    if thickness < THIN_PEN * b.height:
        grow = 2 * round((MNIST_PEN * b.height - thickness) / 2) + 1  # odd: centred
        crop = ndimage.grey_dilation(np.pad(crop, grow), size=(grow, grow))
    return centre_by_mass(fit_box(cropped_to_strokes(crop)))


def grown(mask: Mask) -> Mask:
    """The mask and its 4-neighbours (a 3x3 cross dilation, as ndimage's default), by slices:
    scipy's generic dilation costs more than the digit's whole fit."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def cropped_to_strokes(ink: FloatImage) -> FloatImage:
    """The rows and columns of `ink` that hold stroke pixels."""
    strokes = ink >= STROKE_EDGE
    rows = np.flatnonzero(strokes.any(axis=1))
    cols = np.flatnonzero(strokes.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def upload_box(digit: Digit, scale: tuple[float, float]) -> tuple[int, int, int, int]:
    """The digit's box in the upload's pixels: [x, y, width, height]."""
    b, (sx, sy) = digit.box, scale
    x, y = int(b.left * sx), int(b.top * sy)
    return x, y, max(1, round(b.right * sx) - x), max(1, round(b.bottom * sy) - y)
