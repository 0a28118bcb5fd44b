"""Touching digits: a shape far wider than a digit is cut where a narrow neck joins two.

A column through the middle of a digit crosses two or three strokes; where two digits touch,
the column at the joint crosses about one. So a wide shape is cut at its emptiest column when
that column holds little more ink than one stroke is thick, and each side is cut again while
it is still too wide. Pure functions on the shape's stroke mask.
"""

from __future__ import annotations

import numpy as np

from service.images.boxes import Box, Digit, Mask

SPLIT_ASPECT = 1.5
"""A shape wider than this many heights is two or more digits (1% of MNIST digits are wider
than 1.43 heights)."""

MIN_PART = 0.3
"""Each side of a cut is at least this many heights wide (a 1 is about that narrow)."""

PART_HEIGHT = 0.65
"""...and at least this fraction of the shape's height tall."""

NECK = 1.6
"""A neck holds at most this many stroke thicknesses of ink in its column."""


def split_wide(digit: Digit) -> list[Digit]:
    """The digit, or the digits it is made of when it is two or more touching."""
    box = digit.box
    if box.width <= SPLIT_ASPECT * box.height:
        return [digit]
    cut = neck(digit.mask)
    if cut is None:
        return [digit]
    left, right = part(digit, 0, cut), part(digit, cut, box.width)
    if min(left.box.height, right.box.height) < PART_HEIGHT * box.height:
        return [digit]  # a 5's long cap or a 7's bar, not a second digit
    return [*split_wide(left), *split_wide(right)]


def neck(mask: Mask) -> int | None:
    """The column to cut the mask at, or None when no column is a narrow neck."""
    height, width = mask.shape
    profile = mask.sum(axis=0)  # [W] stroke pixels per column
    low = max(1, int(np.ceil(MIN_PART * height)))
    if width - low <= low:
        return None
    columns = np.arange(low, width - low)
    # Among equally thin columns prefer the one nearest the middle (touching digits' joint).
    score = profile[columns] + np.abs(columns - width / 2) / width
    cut = int(columns[np.argmin(score)])
    return cut if profile[cut] <= NECK * stroke_thickness(mask) else None


def stroke_thickness(mask: Mask) -> float:
    """Mean stroke width: a stroke of width T and length L has area T*L and ~2L edge pixels."""
    inner = mask.copy()  # the mask eroded by a 3x3 cross, outside the mask counted empty, as
    inner[[0, -1]] = inner[:, [0, -1]] = False  # ndimage.binary_erosion, by slices (4x faster)
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    area = np.count_nonzero(mask)
    edge = area - np.count_nonzero(inner)
    return 2.0 * float(area) / max(float(edge), 1.0)


def part(digit: Digit, start: int, stop: int) -> Digit:
    """Columns [start, stop) of the digit, trimmed to the rows and columns with strokes."""
    mask = digit.mask[:, start:stop]
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, left = digit.box.top + int(rows[0]), digit.box.left + start + int(cols[0])
    box = Box(
        top, left, top + int(rows[-1]) + 1 - int(rows[0]), left + int(cols[-1]) + 1 - int(cols[0])
    )
    trimmed = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return Digit(box, trimmed, digit.pieces)
