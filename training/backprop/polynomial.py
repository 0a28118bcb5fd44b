"""Polynomial regression on an orthonormal Legendre basis, degree chosen per step (1..9).

Raw x in, as model.onnx: the graph scales x to t = (x - centre) / half_width in [-1, 1] and
builds the features h_k = sqrt(2k + 1) P_k(t), k = 1..9, Legendre polynomials normalized so
that each has mean square 1 over [-1, 1]. Plain powers t, t^2, ..., t^9 on a dozen points
give a Gram matrix whose eigenvalues span about 1e-7..1 and gradient descent would crawl
for ever; this basis keeps them within two orders of magnitude.

Forward:   h = legendre(x) [m, 9];  mask_k = 1 if k <= degree else 0;  v = W * mask
           y_hat = h v^T + b;  L = mean((y_hat - y)^2) + l2/(2m) |v|^2
Backward:  dL/dy_hat = 2 (y_hat - y) / m;  dL/dv = dL/dy_hat^T h + l2/m v
           dW = dL/dv * mask (the chain rule through v = W * mask);  db = sum dL/dy_hat
Weights above the degree get no gradient and change nothing: one graph serves degrees 1..9.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from training.backprop.losses import l2_penalty, mean_squared_error
from training.backprop.steps import StepGraph, descend, linear_backward

MAX_DEGREE = 9


def legendre_features(x: Tensor, centre: float, half_width: float) -> Tensor:
    """[m, 1] raw x -> [m, 9]: sqrt(2k + 1) P_k(t), t = (x - centre) / half_width, k = 1..9.

    Bonnet's recursion: P_0 = 1, P_1 = t, (k + 1) P_{k+1} = (2k + 1) t P_k - k P_{k-1}.
    """
    t = (x - centre) / half_width  # [m, 1]
    previous, current = torch.ones_like(t), t  # P_0, P_1
    columns = [current]
    for k in range(1, MAX_DEGREE):
        previous, current = current, ((2 * k + 1) * t * current - k * previous) / (k + 1)
        columns.append(current)
    scale = [math.sqrt(2 * k + 1) for k in range(1, MAX_DEGREE + 1)]
    return torch.cat(columns, dim=1) * torch.tensor(scale, dtype=x.dtype)  # [m, 9]


class PolynomialFitStep(StepGraph):
    """Least squares on the Legendre features; `degree` (an INT64 scalar input) masks the
    weights above it. Also outputs y_hat at the parameters fed in, for drawing the curve."""

    loss = "mean-squared-error"
    prediction = "prediction"
    option = "degree"

    def __init__(self, centre: float, half_width: float) -> None:
        super().__init__()
        self.centre, self.half_width = centre, half_width

    def input_names(self) -> list[str]:
        return [*super().input_names(), self.option]

    def output_names(self) -> list[str]:
        return [*super().output_names(), self.prediction]

    def forward(
        self, w: Tensor, b: Tensor, x: Tensor, y: Tensor, lr: Tensor, l2: Tensor, degree: Tensor
    ) -> tuple[Tensor, ...]:
        m = x.shape[0]
        powers = torch.arange(1, MAX_DEGREE + 1, device=x.device)  # [9]
        mask = (powers <= degree).to(w.dtype)  # [9]
        h = legendre_features(x, self.centre, self.half_width)  # [m, 9]
        v = w * mask  # [1, 9]
        y_hat = h @ v.t() + b  # [m, 1]
        mse, d_y_hat = mean_squared_error(y_hat, y)  # [], [m, 1]
        penalty, (d_penalty,) = l2_penalty([v], l2, m)  # [], [1, 9]
        dv, db = linear_backward(d_y_hat, h)  # [1, 9], [1]
        dw = (dv + d_penalty) * mask  # [1, 9]
        return (*descend(mse + penalty, [w, b], [dw, db], lr), y_hat)
