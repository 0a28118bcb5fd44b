"""A derivative as the slope a tiny nudge reveals: (f(a + h) - f(a)) / h against the exact slope.

Three functions, one column each, in this order:
    f1(a) = 4a                 slope 4
    f2(a) = a^2                slope 2a
    f3(a) = (3a^2 + 2)^4       slope by the chain rule: g = 3a^2 + 2 (inner), f3 = g^4 (outer),
                               df3/da = df3/dg dg/da = 4 g^3 * 6a      (3000 at a = 1)
Input [N, 2] = (a, h); outputs f, f_plus_h, slope_estimate, slope, each [N, 3].

FP64 throughout: in float32 (eps ~ 1.2e-7) the difference f(a + h) - f(a) at h = 1e-6 keeps
barely one significant digit, so the estimate would say more about rounding than about the
slope; in float64 (eps ~ 2.2e-16) h = 1e-6 is honest and rounding takes over only near
h ~ 1e-8 and below, which the page shows.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

NAME = "derivative"
FORMULA = "slope_estimate = (f(a + h) - f(a)) / h; f = 4a, a^2, (3a^2 + 2)^4"
FUNCTIONS = ("4a", "a^2", "(3a^2 + 2)^4")
INPUT = "input"  # [N, 2]: columns a, h
OUTPUTS = ("f", "f_plus_h", "slope_estimate", "slope")
DTYPE = torch.float64


def values(a: Tensor) -> Tensor:
    """[f1, f2, f3] at each a; a [N, 1] -> [N, 3]."""
    inner = 3.0 * a * a + 2.0  # g [N, 1]
    return torch.cat([4.0 * a, a * a, inner**4], dim=1)  # [N, 3]


def slopes(a: Tensor) -> Tensor:
    """The exact slopes [4, 2a, 4 g^3 6a] at each a; a [N, 1] -> [N, 3]."""
    inner = 3.0 * a * a + 2.0  # g = 3a^2 + 2 [N, 1]
    douter_dinner = 4.0 * inner**3  # d(g^4)/dg = 4 g^3, at the inner value
    dinner_da = 6.0 * a  # dg/da = 6a
    chain = douter_dinner * dinner_da  # df3/da = df3/dg dg/da
    return torch.cat([torch.full_like(a, 4.0), 2.0 * a, chain], dim=1)  # [N, 3]


class Derivative(nn.Module):
    """(f, f_plus_h, slope_estimate, slope) at each row (a, h); each [N, 3], float64."""

    def forward(self, ah: Tensor) -> tuple[Tensor, ...]:
        a, h = ah[:, 0:1], ah[:, 1:2]  # [N, 1] each
        f = values(a)  # [N, 3]
        f_plus_h = values(a + h)  # [N, 3]
        estimate = (f_plus_h - f) / h  # [N, 3]: the secant's slope
        return f, f_plus_h, estimate, slopes(a)


def example() -> Tensor:
    """The notes' points: a = 2 and 5 at h = 0.001, a = 1 for the chain rule's 3000."""
    return torch.tensor([[2.0, 1e-3], [5.0, 1e-3], [1.0, 1e-6]], dtype=DTYPE)
