"""two-minima: f(p) = (p^2 - 1)^2 + p / 2, a one-parameter function with two minima.

model.onnx evaluates f at a batch of points (input [-1, 1] -> value [-1, 1]); its parameter
`point` [1] is the descent's default start (init="trained"), +2, as the bowl's is (-4, 4).
From +2 gradient descent settles in the higher minimum near 0.93; from -2 in the lower one
near -1.06: where a descent ends depends on where it starts. Nothing is trained.
An untrained catalog entry (training.functions); its step graph is
training.backprop.two_minima.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from service.cards import ModelCard, write_card
from training.backprop.two_minima import TILT, two_minima_value
from training.export import cpu_session
from training.functions import export_function, function_card

NAME = "two-minima"
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


def two_minima_card(version_dir: Path) -> ModelCard:
    description = (
        "Two minima: f(p) = (p^2 - 1)^2 + p/2, the lower near p = -1.057 (f = -0.515), the "
        f"higher near 0.930 (f = 0.483); a gradient-descent demo, default start p = {START}."
    )
    metrics = {
        "lower_minimum_p": LOWER[0],
        "lower_minimum_value": LOWER[1],
        "higher_minimum_p": HIGHER[0],
        "higher_minimum_value": HIGHER[1],
    }
    return function_card(version_dir, NAME, description, 1, metrics)


def check_model(path: Path) -> None:
    """onnxruntime's f must equal numpy's on a grid that includes both minima."""
    points = np.concatenate([np.linspace(-2.5, 2.5, 51), [LOWER[0], HIGHER[0]]])
    x = points.reshape(-1, 1).astype(np.float32)
    session = cpu_session(path)
    (value,) = session.run(["value"], {"input": x})
    np.testing.assert_allclose(value[:, 0], two_minima_numpy(x[:, 0].astype(np.float64)),
                               rtol=1e-5, atol=1e-6)  # fmt: skip


def write_two_minima(version_dir: Path) -> None:
    """model.onnx and card.json into version_dir (the catalog adds step.onnx)."""
    example = torch.tensor([[-2.0], [0.0], [2.0]])
    export_function(TwoMinima(), example, version_dir / "model.onnx")
    check_model(version_dir / "model.onnx")
    write_card(version_dir, two_minima_card(version_dir))
