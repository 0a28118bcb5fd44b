"""Untrained catalog entries: a function f served like a model (the bowl, two-minima).

model.onnx evaluates f at a batch of points (input [-1, n] -> value [-1, 1]). The module's
one parameter, `point`, is the gradient-descent demo's default start, not something f reads:
the graph carries it as an initializer so that the service's init="trained" finds it like
any other model's weights. The entry's `write(version_dir)` writes model.onnx and card.json;
training.publish.publish_function adds its step graph.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import helper, numpy_helper
from torch import Tensor, nn

from service.cards import ModelCard, Preprocessing, TensorSpec, file_entry
from training.export import export_graph


def function_card(
    version_dir: Path, name: str, description: str, features: int, metrics: dict[str, float]
) -> ModelCard:
    """The card of f: input [-1, features] -> value [-1, 1], its start `point` [features]."""
    return ModelCard(
        name=name,
        version=1,
        task="function",
        description=description,
        inputs=[TensorSpec(name="input", shape=[-1, features])],
        outputs=[TensorSpec(name="value", shape=[-1, 1])],
        preprocessing=Preprocessing(kind="none"),
        parameters=[TensorSpec(name="point", shape=[features])],
        metrics=metrics,
        files={"model": file_entry(version_dir, "model.onnx")},
    )


def export_function(function: nn.Module, example: Tensor, path: Path) -> None:
    """Export f, then add `point` as an initializer (the exporter drops what f never reads).
    example: a batch of points [m, n]."""
    model = export_graph(function, (example,), ["input"], ["value"], ["input"])
    point = numpy_helper.from_array(function.point.detach().numpy(), name="point")
    point.doc_string = "gradient-step demo start (init=trained); f does not read it"
    model.graph.initializer.append(point)
    # onnxruntime drops an initializer no node reads, printing a warning into the service's
    # log on every start; one Identity whose output nobody reads keeps `point` referenced.
    keep = helper.make_node("Identity", ["point"], ["point.kept"], name="keep_point")
    keep.doc_string = "keeps the `point` initializer referenced; its output is never used"
    model.graph.node.append(keep)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
