"""Export a trained module to ONNX and prove the file computes what the module computes.

After export the graph's initializers are exactly the module's state_dict (the contract's
parameter names); every other constant the exporter lifted (standardization statistics,
exponents) becomes a Constant node. Then onnxruntime runs the whole test set and every
output must match PyTorch to `PARITY_TOLERANCE`, with no class changes for classifiers;
otherwise `ExportError` is raised and nothing is published.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper, numpy_helper
from torch import nn

OPSET = 18
PARITY_TOLERANCE = 1e-4
STACK_TRACE = "pkg.torch.onnx.stack_trace"


class ExportError(Exception):
    """The ONNX file's names or numbers differ from the PyTorch module's."""


def export_onnx(
    model: nn.Module, example: torch.Tensor, path: Path, input_name: str, output_names: list[str]
) -> None:
    """Write model.onnx with a dynamic batch axis and the contract's input/output names."""
    model.eval()
    # The exporter warns about optional torchvision ops and one of torch's own deprecations;
    # neither concerns these graphs, and tests turn warnings into errors.
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=[input_name],
            output_names=output_names,
            opset_version=OPSET,
            dynamo=True,
            external_data=False,  # one self-contained file per model
            verbose=False,
            dynamic_shapes=({0: torch.export.Dim("batch")},),
        )
    tidy_graph(path, set(model.state_dict()))
    check_parameter_names(path, model)


def tidy_graph(path: Path, parameters: set[str]) -> None:
    """Rewrite the file in place: every initializer that is not a parameter becomes a Constant
    node, and the exporter's per-node Python stack traces go (they hold this machine's paths
    and source line numbers, so the same weights would give different bytes elsewhere)."""
    graph_model = onnx.load(str(path))
    graph = graph_model.graph
    constants = [init for init in graph.initializer if init.name not in parameters]
    for init in constants:
        graph.initializer.remove(init)
        node = helper.make_node("Constant", [], [init.name], value=init)
        graph.node.insert(0, node)
    for node in graph.node:
        kept = [p for p in node.metadata_props if p.key != STACK_TRACE]
        del node.metadata_props[:]
        node.metadata_props.extend(kept)
    onnx.checker.check_model(graph_model, full_check=True)
    onnx.save(graph_model, str(path))


def check_parameter_names(path: Path, model: nn.Module) -> None:
    """The file's initializers must be the state_dict: same names, same shapes, same values."""
    graph = onnx.load(str(path)).graph
    initializers = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    state = {key: value.detach().cpu().numpy() for key, value in model.state_dict().items()}
    if set(initializers) != set(state):
        raise ExportError(
            f"{path}: initializers {sorted(initializers)} != state_dict {sorted(state)}"
        )
    for name, value in state.items():
        if initializers[name].shape != value.shape or not np.array_equal(initializers[name], value):
            raise ExportError(f"{path}: initializer {name} differs from the module's parameter")


def session(path: Path) -> ort.InferenceSession:
    """A CPU onnxruntime session (parity is checked where every user can run it)."""
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@torch.no_grad()
def check_parity(path: Path, model: nn.Module, x: torch.Tensor, classifier: bool) -> float:
    """Run all of x through onnxruntime and PyTorch; returns the largest |difference|."""
    model.eval().cpu()
    expected = [out.numpy() for out in model(x.cpu())]
    sess = session(path)
    names = [out.name for out in sess.get_outputs()]
    got = sess.run(names, {sess.get_inputs()[0].name: x.cpu().numpy()})
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(got, expected, strict=True))
    if not worst <= PARITY_TOLERANCE:
        raise ExportError(f"{path}: onnxruntime differs from PyTorch by {worst:.3g}")
    if classifier:
        changed = int(np.sum(_classes(got[0]) != _classes(expected[0])))
        if changed:
            raise ExportError(f"{path}: {changed} predicted classes change in onnxruntime")
    return worst


def _classes(scores: np.ndarray) -> np.ndarray:
    """Predicted class per row: argmax of logits, or the sign of a single logit."""
    return scores.argmax(axis=1) if scores.shape[1] > 1 else (scores[:, 0] > 0)
