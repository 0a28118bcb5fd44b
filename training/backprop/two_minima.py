"""A function with two minima, descended like the quadratic bowl.

    f(p) = (p^2 - 1)^2 + p / 2        one parameter, `point` [1]; no data

f'(p) = 4p (p^2 - 1) + 1/2 vanishes at p ~ -1.0575 (the lower minimum, f ~ -0.5148),
p ~ 0.1271 (a maximum between them) and p ~ 0.9304 (the higher minimum, f ~ 0.4833). Which
minimum gradient descent reaches depends on where it starts: from -2 the left one, from +2
the right one (at a learning rate small enough not to jump the hump: 0.05 does not, 0.1
does). f''(-1.0575) ~ 9.42 and f''(0.9304) ~ 6.39, so a learning rate above 2 / 9.42 ~ 0.21
cannot settle in the left minimum.
"""

from __future__ import annotations

from torch import Tensor

from training.backprop.losses import l2_penalty
from training.backprop.steps import StepGraph, descend

TILT = 0.5


def two_minima_value(p: Tensor) -> Tensor:
    """f at every entry of p (any shape)."""
    return (p * p - 1.0) ** 2 + TILT * p


class TwoMinimaStep(StepGraph):
    """Forward u = p^2, r = u - 1, f = r^2 + p/2; backward one chain-rule line per node.
    L2 is l2/2 p^2 as for the bowl (no batch: m = 1)."""

    parameter_names = ("point",)
    loss = "two-minima"
    takes_data = False

    def forward(self, point: Tensor, lr: Tensor, l2: Tensor) -> tuple[Tensor, ...]:
        u = point * point  # [1]
        r = u - 1.0  # [1]
        penalty, (d_penalty,) = l2_penalty([point], l2, 1)  # [], [1]
        f = (r * r + TILT * point).sum() + penalty  # []
        df_dr = 2.0 * r  # [1]
        df_du = df_dr  # dr/du = 1
        df_dp = df_du * 2.0 * point + TILT + d_penalty  # du/dp = 2p, plus the tilt's slope
        return descend(f, [point], [df_dp], lr)
