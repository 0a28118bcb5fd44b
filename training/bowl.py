"""The quadratic bowl f(x, y) = (x + y - 3)^2 + (x + 2y - 5)^2 + 2, served like any model.

model.onnx evaluates f at a batch of points (input [-1, 2] -> value [-1, 1]). Its one
parameter, `point` [2], is the gradient-descent demo's position, not something f reads:
the inference graph carries it as an initializer so that the service's init="trained" finds
the bowl's default start like any other model's weights. That start is START = (-4, 4), up on
the wall of the long narrow valley, so the descent shows the valley's two speeds (Hessian
eigenvalues ~13.7 across, ~0.29 along it). Nothing is trained: the card has no training info.

    python -m training.bowl [--models-dir models]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper, numpy_helper
from torch import Tensor, nn

from service.cards import ModelCard, Preprocessing, TensorSpec, file_entry, write_card
from training.step_export import add_step_graph, quiet_exporter, strip_stack_traces

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


def export_model(bowl: nn.Module, path: Path, example: Tensor | None = None) -> None:
    """Export f, then add `point` as an initializer (the exporter drops what f never reads).
    Any function module with a `point` parameter (two-minima too); example: a batch of points."""
    if example is None:
        example = torch.tensor([[0.0, 0.0], [1.0, 2.0], [-4.0, 4.0]])
    with quiet_exporter():
        program = torch.onnx.export(
            bowl.eval(),
            (example,),
            input_names=["input"],
            output_names=["value"],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            opset_version=18,
            dynamo=True,
            verbose=False,
        )
    assert program is not None
    with tempfile.TemporaryDirectory() as tmp:
        program.save(str(Path(tmp) / "model.onnx"))
        strip_stack_traces(Path(tmp) / "model.onnx")
        model = onnx.load(str(Path(tmp) / "model.onnx"))
    point = numpy_helper.from_array(bowl.point.detach().numpy(), name="point")
    point.doc_string = "gradient-step demo start (init=trained); f does not read it"
    model.graph.initializer.append(point)
    # onnxruntime drops an initializer no node reads, printing a warning into the service's
    # log on every start; one Identity whose output nobody reads keeps `point` referenced.
    keep = helper.make_node("Identity", ["point"], ["point.kept"], name="keep_point")
    keep.doc_string = "keeps the `point` initializer referenced; its output is never used"
    model.graph.node.append(keep)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def check_model(path: Path) -> None:
    """onnxruntime's f must equal numpy's on a grid, including the minimum."""
    grid = np.stack(np.meshgrid(np.linspace(-5, 5, 11), np.linspace(-5, 5, 11)), -1)
    points = np.concatenate([grid.reshape(-1, 2), [MINIMUM]]).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (value,) = session.run(["value"], {"input": points})
    np.testing.assert_allclose(value[:, 0], bowl_value(points.astype(np.float64)), rtol=1e-6)


def bowl_card(version_dir: Path) -> ModelCard:
    return ModelCard(
        name=NAME,
        version=1,
        task="function",
        description=(
            "Quadratic bowl f(x, y) = (x + y - 3)^2 + (x + 2y - 5)^2 + 2, minimum 2 at (1, 2); "
            f"a gradient-descent demo. Parameter point starts at {START}."
        ),
        inputs=[TensorSpec(name="input", shape=[-1, 2])],
        outputs=[TensorSpec(name="value", shape=[-1, 1])],
        preprocessing=Preprocessing(kind="none"),
        parameters=[TensorSpec(name="point", shape=[2])],
        metrics={"minimum_value": MINIMUM_VALUE, "minimum_x": MINIMUM[0], "minimum_y": MINIMUM[1]},
        files={"model": file_entry(version_dir, "model.onnx")},
    )


def write_bowl(models_dir: Path) -> Path:
    """models/quadratic-bowl/1/{model.onnx, step.onnx, card.json}; returns the version dir."""
    version_dir = models_dir / NAME / "1"
    version_dir.mkdir(parents=True, exist_ok=True)
    export_model(QuadraticBowl(), version_dir / "model.onnx")
    check_model(version_dir / "model.onnx")
    write_card(version_dir, bowl_card(version_dir))
    add_step_graph(version_dir)
    return version_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.bowl", description=__doc__)
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="(%(default)s)")
    args = parser.parse_args(argv)
    print(f"{NAME}: wrote {write_bowl(args.models_dir)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
