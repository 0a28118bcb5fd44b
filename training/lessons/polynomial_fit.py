"""polynomial-fit: eleven noisy points, a held-out ten, and a polynomial of degree 1 to 9.

The points lie on y = 0.3 - 0.4 x + (1.8 / 27) x^3 plus Gaussian noise (sd 0.25), x in
[-3, 3]: the training x evenly spaced with a little jitter, the validation x between them.
With eleven points a degree-9 polynomial (ten parameters) nearly interpolates them and
swings between: the notes' over-fitting, and why more data than parameters matters.
Features are orthonormal Legendre polynomials of t = x / 3 (training.backprop.polynomial),
so gradient descent stays well conditioned even at degree 9. The served model was trained
at degree 3; its weights above that are zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from training.backprop.polynomial import MAX_DEGREE, legendre_features
from training.data import Split

SEED = 9
CENTRE, HALF_WIDTH = 0.0, 3.0
NOISE = 0.25
TRAINED_DEGREE = 3


def true_curve(x: np.ndarray) -> np.ndarray:
    """The curve behind the noise, in raw x (t = x / 3: 1.8 t^3 - 1.2 t + 0.3)."""
    t = (x - CENTRE) / HALF_WIDTH
    return 1.8 * t**3 - 1.2 * t + 0.3


def noisy_curve(n_train: int = 11) -> Split:
    """Seeded: training t evenly spaced in [-1, 1] (+-0.03 jitter), validation (the held-out
    part) between them; x float32 [N, 1], y float32 [N]."""
    rng = np.random.default_rng(SEED)
    grid = np.linspace(-1.0, 1.0, n_train)
    t = np.clip(grid + rng.uniform(-0.03, 0.03, n_train), -1.0, 1.0)
    y = true_curve(CENTRE + HALF_WIDTH * t) + rng.normal(0.0, NOISE, n_train)
    t_val = grid[:-1] + 1.0 / n_train + rng.uniform(-0.03, 0.03, n_train - 1)
    y_val = true_curve(CENTRE + HALF_WIDTH * t_val) + rng.normal(0.0, NOISE, n_train - 1)

    def column(values: np.ndarray) -> np.ndarray:
        return np.round(CENTRE + HALF_WIDTH * values, 4).astype(np.float32).reshape(-1, 1)

    rounded = (np.round(y, 4).astype(np.float32), np.round(y_val, 4).astype(np.float32))
    return Split(column(t), rounded[0], column(t_val), rounded[1])


@dataclass(frozen=True)
class PolynomialFitConfig:
    """Legendre features of t = (x - centre) / half_width; weights above `degree` stay 0."""

    degree: int = TRAINED_DEGREE
    centre: float = CENTRE
    half_width: float = HALF_WIDTH


class PolynomialFit(nn.Module):
    """prediction = sum_k w_k mask_k sqrt(2k + 1) P_k(t) + b; outputs (prediction,)."""

    mask: Tensor  # [9]

    def __init__(self, config: PolynomialFitConfig = PolynomialFitConfig()) -> None:
        super().__init__()
        self.config = config
        self.linear = nn.Linear(MAX_DEGREE, 1)
        with torch.no_grad():
            self.linear.weight[:, config.degree :] = 0.0  # never trained: no gradient reaches them
        powers = torch.arange(1, MAX_DEGREE + 1)
        self.register_buffer("mask", (powers <= config.degree).float(), persistent=False)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        h = legendre_features(x, self.config.centre, self.config.half_width)  # [B, 9]
        return (self.linear(h * self.mask),)  # [B, 1]
