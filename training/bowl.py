"""The quadratic bowl f(x, y) = (x + y - 3)^2 + (x + 2y - 5)^2 + 2, served like any model.

model.onnx evaluates f at a batch of points (input [-1, 2] -> value [-1, 1]). Its one
parameter, `point` [2], is the gradient-descent demo's position, not something f reads:
the inference graph carries it as an initializer so that the service's init="trained" finds
the bowl's default start like any other model's weights. That start is START = (-4, 4), up on
the wall of the long narrow valley, so the descent shows the valley's two speeds (Hessian
eigenvalues ~13.7 across, ~0.29 along it). Nothing is trained: the card has no training info.
An untrained catalog entry (training.functions); its step graph is backprop.steps.QuadraticBowlStep.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from service.cards import ModelCard, write_card
from training.export import cpu_session
from training.functions import export_function, function_card

NAME = "quadratic-bowl"
START = (-4.0, 4.0)
MINIMUM = (1.0, 2.0)
MINIMUM_VALUE = 2.0


class QuadraticBowl(nn.Module):
    """f at each row (x, y) of `points`; `point` is the descent demo's default position."""

    def __init__(self) -> None:
        super().__init__()
        self.point = nn.Parameter(torch.tensor(START))

    def forward(self, points: Tensor) -> Tensor:
        x, y = points[:, 0:1], points[:, 1:2]  # [m, 1] each
        return (x + y - 3.0) ** 2 + (x + 2.0 * y - 5.0) ** 2 + 2.0  # [m, 1]


def bowl_value(points: np.ndarray) -> np.ndarray:
    """f in numpy, for checks and contour plots; points [..., 2] -> [...]."""
    x, y = points[..., 0], points[..., 1]
    return (x + y - 3.0) ** 2 + (x + 2.0 * y - 5.0) ** 2 + 2.0


def check_model(path: Path) -> None:
    """onnxruntime's f must equal numpy's on a grid, including the minimum."""
    grid = np.stack(np.meshgrid(np.linspace(-5, 5, 11), np.linspace(-5, 5, 11)), -1)
    points = np.concatenate([grid.reshape(-1, 2), [MINIMUM]]).astype(np.float32)
    session = cpu_session(path)
    (value,) = session.run(["value"], {"input": points})
    np.testing.assert_allclose(value[:, 0], bowl_value(points.astype(np.float64)), rtol=1e-6)


def bowl_card(version_dir: Path) -> ModelCard:
    description = (
        "Quadratic bowl f(x, y) = (x + y - 3)^2 + (x + 2y - 5)^2 + 2, minimum 2 at (1, 2); "
        f"a gradient-descent demo. Parameter point starts at {START}."
    )
    metrics = {"minimum_value": MINIMUM_VALUE, "minimum_x": MINIMUM[0], "minimum_y": MINIMUM[1]}
    return function_card(version_dir, NAME, description, 2, metrics)


def write_bowl(version_dir: Path) -> None:
    """model.onnx and card.json of the bowl into version_dir (the catalog adds step.onnx)."""
    example = torch.tensor([[0.0, 0.0], [1.0, 2.0], [-4.0, 4.0]])
    export_function(QuadraticBowl(), example, version_dir / "model.onnx")
    check_model(version_dir / "model.onnx")
    write_card(version_dir, bowl_card(version_dir))
