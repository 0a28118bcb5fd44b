"""Losses next to their derivatives, with the conventions every step graph shares.

Batch conventions (m = number of rows):
    mean squared error     L = mean((y_hat - y)^2)          dL/dy_hat = 2 (y_hat - y) / m
    binary cross-entropy   L = mean(-y log a - (1-y) log(1-a)), a = sigmoid(z)
                                                            dL/dz = (a - y) / m
    softmax cross-entropy  L = mean(-log softmax(Z)[y])     dL/dZ = (softmax(Z) - onehot(y)) / m
    L2 penalty             R = l2/(2m) * sum(W^2), weights only, never biases
                                                            dR/dW = l2 / m * W

The textbook writes dz = a - y per example and divides by m when it averages dw; folding the
1/m into dz once keeps every later chain-rule line free of it.
"""

from __future__ import annotations

import torch
from torch import Tensor


def mean_squared_error(y_hat: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """L = mean((y_hat - y)^2) and dL/dy_hat = 2 (y_hat - y) / m; y_hat [m, 1], y [m]."""
    m = y_hat.shape[0]
    residual = y_hat - y.unsqueeze(1)  # [m, 1]
    loss = (residual * residual).mean()  # []
    d_y_hat = 2.0 * residual / m  # [m, 1]
    return loss, d_y_hat


def binary_cross_entropy(z: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """L = mean(-y log a - (1-y) log(1-a)) with a = sigmoid(z); dL/dz = (a - y) / m.

    The loss is evaluated as softplus(z) - y z (the same value, no log(0) for confident z);
    softplus(z) = max(z, 0) + log(1 + exp(-|z|)). z [m, 1], y [m] of 0/1.
    """
    m = z.shape[0]
    target = y.unsqueeze(1)  # [m, 1]
    softplus = z.clamp(min=0.0) + (1.0 + (-z.abs()).exp()).log()  # [m, 1]
    loss = (softplus - target * z).mean()  # []
    a = z.sigmoid()  # [m, 1]
    dz = (a - target) / m  # [m, 1]
    return loss, dz


def softmax_cross_entropy(z: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """L = mean(-log softmax(Z)[y]); dL/dZ = (softmax(Z) - onehot(y)) / m. Z [m, k], y [m] int."""
    m, k = z.shape
    log_p = z.log_softmax(dim=1)  # [m, k]
    classes = torch.arange(k, device=z.device)  # [k]
    onehot = (y.unsqueeze(1) == classes).to(z.dtype)  # [m, k]
    loss = -(onehot * log_p).sum(dim=1).mean()  # []
    dz = (log_p.exp() - onehot) / m  # [m, k]
    return loss, dz


def l2_penalty(weights: list[Tensor], l2: Tensor, m: int) -> tuple[Tensor, list[Tensor]]:
    """R = l2 / (2m) * sum of every weight squared; dR/dW = l2 / m * W (biases never enter)."""
    squares = torch.stack([(w * w).sum() for w in weights]).sum()  # []
    penalty = l2 / (2 * m) * squares  # []
    return penalty, [l2 / m * w for w in weights]
