"""The notes' computation graph J(a, b, c) = 3(a + bc), forward left to right, backward right
to left, one chain-rule line per node.

    u = b c        v = a + u        J = 3 v                       forward, each [N, 1]
    dJ/dv = 3      dJ/du = dJ/dv dv/du = 3      dJ/da = dJ/dv dv/da = 3
    dJ/db = dJ/du du/db = 3c                    dJ/dc = dJ/du du/dc = 3b

At (a, b, c) = (5, 3, 2): u = 6, v = 11, J = 33; dJ/dv = 3, dJ/du = 3, dJ/da = 3, dJ/db = 6,
dJ/dc = 9, so nudging a by 0.001 moves J by 0.003. model.onnx computes every output, the
backward half included; no autograd anywhere.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

NAME = "computation-graph"
FORMULA = "J(a, b, c) = 3(a + bc); u = bc, v = a + u, J = 3v"
INPUT = "input"  # [N, 3]: columns a, b, c
FORWARD = ("u", "v", "J")
BACKWARD = ("dJ_dv", "dJ_du", "dJ_da", "dJ_db", "dJ_dc")
OUTPUTS = (*FORWARD, *BACKWARD)


class ComputationGraph(nn.Module):
    """(u, v, J, dJ_dv, dJ_du, dJ_da, dJ_db, dJ_dc) at each row (a, b, c); every output [N, 1]."""

    def forward(self, abc: Tensor) -> tuple[Tensor, ...]:
        a, b, c = abc[:, 0:1], abc[:, 1:2], abc[:, 2:3]  # [N, 1] each
        u = b * c  # [N, 1]
        v = a + u  # [N, 1]
        j = 3.0 * v  # [N, 1]
        dj_dv = torch.full_like(v, 3.0)  # dJ/dv = 3, the same at every row
        dj_du = dj_dv * 1.0  # dv/du = 1
        dj_da = dj_dv * 1.0  # dv/da = 1
        dj_db = dj_du * c  # du/db = c
        dj_dc = dj_du * b  # du/dc = b
        return u, v, j, dj_dv, dj_du, dj_da, dj_db, dj_dc


def example() -> Tensor:
    """The notes' point and two more, for export tracing and parity."""
    return torch.tensor([[5.0, 3.0, 2.0], [1.0, -2.0, 0.5], [0.0, 0.0, 0.0]])
