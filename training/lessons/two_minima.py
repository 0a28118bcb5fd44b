"""two-minima: f(p) = (p^2 - 1)^2 + p / 2, a one-parameter function with two minima.

model.onnx evaluates f at a batch of points (input [-1, 1] -> value [-1, 1]); its parameter
`point` [1] is the descent's default start (init="trained"), +2, as the bowl's is (-4, 4).
From +2 gradient descent settles in the higher minimum near 0.93; from -2 in the lower one
near -1.06: where a descent ends depends on where it starts. Nothing is trained.
The step graph is training.backprop.two_minima.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from training.backprop.two_minima import TILT, two_minima_value

START = 2.0
LOWER = (-1.0574537707383778, -0.5147536412757056)  # (p, f(p)), roots of 4p^3 - 4p + 1/2
HIGHER = (0.9304029265558516, 0.4832514917147508)


class TwoMinima(nn.Module):
    """f at each row of `points` [m, 1]; `point` is the descent's default start."""

    def __init__(self) -> None:
        super().__init__()
        self.point = nn.Parameter(torch.tensor([START]))

    def forward(self, points: Tensor) -> Tensor:
        return two_minima_value(points)  # [m, 1]


def two_minima_numpy(p: np.ndarray) -> np.ndarray:
    """f in numpy (float64), for checks and plots."""
    return (p * p - 1.0) ** 2 + TILT * p
