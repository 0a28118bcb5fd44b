"""service.images.shading: the fitted paper surface follows shading and gradients, never the
strokes."""

from __future__ import annotations

import numpy as np

from service.images.shading import paper_shading
from tests.service.images.synthetic import gradient_paper, seven


def test_paper_shading_follows_a_gradient_not_the_strokes() -> None:
    paper = gradient_paper(200, 150, 240)  # [200, 200]
    ink = 255 - np.minimum(paper, seven())  # white ink on a shaded dark background
    shading = paper_shading(ink)
    strokes = seven() < 128
    assert np.abs(shading - (255 - paper))[~strokes].max() < 4
    assert np.abs(shading - (255 - paper))[strokes].max() < 4, "strokes leaked into the paper"


def test_paper_shading_of_clean_black_background_is_zero() -> None:
    assert np.abs(paper_shading(255 - seven())).max() < 1e-6
