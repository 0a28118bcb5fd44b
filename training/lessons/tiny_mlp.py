"""tiny-mlp: a 2-4-1 sigmoid network on XOR-like data that no straight line separates.

The data: four Gaussian clusters at (+-1, +-1), class 1 where x1 and x2 have the same sign
(the (1, 1) and (-1, -1) clusters), class 0 elsewhere; seeded, so every run, card and test
sees the same points. logistic-regression's best line gets about half of them right; a few
hundred gradient steps of this network from a random start get nearly all.
The backward pass of its step graph is training.backprop.sigmoid_mlp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from training.data import Split

SEED = 20_260_101
CENTRES = ((1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0))  # the first two are class 1
SPREAD = 0.35


def xor_clusters(n_train: int = 120, n_validation: int = 60) -> Split:
    """Four seeded clusters; cluster q of each point uniform, class 1 for q in {0, 1}.
    Training and validation (the held-out part) points: x float32 [N, 2], y float32 0/1 [N]."""
    rng = np.random.default_rng(SEED)
    cluster = rng.integers(0, len(CENTRES), size=n_train + n_validation)  # [N]
    noise = rng.normal(scale=SPREAD, size=(len(cluster), 2))  # [N, 2]
    x = np.round(np.asarray(CENTRES)[cluster] + noise, 4).astype(np.float32)  # [N, 2]
    y = (cluster < 2).astype(np.float32)  # [N]
    return Split(x[:n_train], y[:n_train], x[n_train:], y[n_train:])


@dataclass(frozen=True)
class TinyMlpConfig:
    """2 inputs -> `hidden` sigmoid units -> 1 sigmoid output."""

    inputs: int = 2
    hidden: int = 4


class TinyMlp(nn.Module):
    """P(class 1 | x) = sigmoid(output(sigmoid(hidden(x)))); outputs (logit, probability)."""

    def __init__(self, config: TinyMlpConfig = TinyMlpConfig()) -> None:
        super().__init__()
        self.hidden = nn.Linear(config.inputs, config.hidden)
        self.output = nn.Linear(config.hidden, 1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        logit = self.output(torch.sigmoid(self.hidden(x)))  # [B, 1]
        return logit, torch.sigmoid(logit)
