"""service.images.necks: the stroke thickness it cuts by, against scipy's erosion."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from service.images.necks import stroke_thickness


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 2), (37, 23), (80, 63)])
@pytest.mark.parametrize("density", [0.2, 0.7, 1.0])
def test_stroke_thickness_erodes_exactly_as_scipy_does(
    shape: tuple[int, int], density: float
) -> None:
    """The slices' 3x3-cross erosion (the outside empty) counts the very edge pixels that
    ndimage.binary_erosion leaves."""
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    mask = ndimage.binary_dilation(rng.random(shape) < density / 4) | (rng.random(shape) < density)
    edge = mask & ~ndimage.binary_erosion(mask)
    expected = 2.0 * float(mask.sum()) / max(float(edge.sum()), 1.0)
    assert stroke_thickness(mask) == expected
