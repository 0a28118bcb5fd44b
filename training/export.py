"""The one ONNX exporter: every graph nnserve ships (model.onnx, step.onnx) is written here.

`export_graph` runs torch.onnx.export (the torch.export-based exporter, opset `OPSET`) with
a dynamic batch axis on the inputs named in `batch_inputs` and returns the graph with the
exporter's metadata removed; callers edit it and `onnx.save` it. `cpu_session`
is the one onnxruntime session every check opens (parity is checked where anyone can run
it). `PARITY_TOLERANCE` is the one tolerance onnxruntime must meet against torch.

For a trained model, `export_onnx` also turns lifted constants into Constant nodes so that
the initializers are exactly the state_dict, and `check_parity` runs the whole test set;
otherwise `ExportError` is raised and nothing is published.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper, numpy_helper
from torch import nn

OPSET = 18
PARITY_TOLERANCE = 1e-4  # |onnxruntime - torch| per output (step graphs: over 1 + max|torch|)
REGISTRY_LOGGER = "torch.onnx._internal.exporter._registration"


class ExportError(Exception):
    """The ONNX file's names or numbers differ from the PyTorch module's."""


@contextmanager
def quiet_exporter() -> Iterator[None]:
    """The exporter logs notes about optional torchvision ops, triggers one of torch's own
    deprecation warnings and says that x's and y's batch axes share one name (they do: one
    batch). None concerns these graphs, and tests turn warnings into errors; only those are
    silenced, and only while exporting."""
    logger = logging.getLogger(REGISTRY_LOGGER)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
            warnings.filterwarnings("ignore", message=r"# The axis name: batch will not be used")
            yield
    finally:
        logger.setLevel(level)


def export_graph(
    module: nn.Module,
    args: tuple[torch.Tensor, ...],
    input_names: Sequence[str],
    output_names: Sequence[str],
    batch_inputs: Sequence[str],
    more_axes: Mapping[str, Sequence[int]] | None = None,
) -> onnx.ModelProto:
    """module traced on args; the inputs named in batch_inputs get a dynamic axis 0, and
    more_axes[name] lists an input's further dynamic axes (a softmax's K classes)."""
    batch, more = torch.export.Dim("batch"), more_axes or {}
    shapes = tuple(
        {
            **({0: batch} if name in batch_inputs else {}),
            **{axis: torch.export.Dim(f"{name}_{axis}") for axis in more.get(name, ())},
        }
        or None
        for name in input_names
    )
    with quiet_exporter():
        program = torch.onnx.export(
            module.eval(),
            args,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_shapes=shapes,
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
    if program is None:
        raise ExportError("torch.onnx.export returned no program")
    with tempfile.TemporaryDirectory() as tmp:
        program.save(str(Path(tmp) / "graph.onnx"))  # one self-contained file, no external data
        model = onnx.load(str(Path(tmp) / "graph.onnx"))
    strip_exporter_metadata(model)
    return model


def strip_exporter_metadata(model: onnx.ModelProto) -> None:
    """Drop every metadata entry the exporter writes (per node: stack traces, `namespace`,
    pkg.torch.onnx.class_hierarchy, name scopes, the FX node; per input, output and value:
    graph-signature notes; per graph: the ExportedProgram's signature). They name this
    checkout's paths and Python module names, so the same graph would get a new sha256 on
    every machine and after every rename; nothing reads them. nnserve writes none of its own."""
    graph = model.graph
    for entry in (model, graph, *graph.node, *graph.input, *graph.output, *graph.value_info):
        del entry.metadata_props[:]


def cpu_session(path: Path) -> ort.InferenceSession:
    """A CPU onnxruntime session (checks run where every user can run them)."""
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def read_initializers(model_path: Path) -> dict[str, np.ndarray]:
    """A graph's initializers by name, as numpy arrays."""
    graph = onnx.load(str(model_path)).graph
    return {init.name: numpy_helper.to_array(init) for init in graph.initializer}


def export_onnx(
    model: nn.Module, example: torch.Tensor, path: Path, input_name: str, output_names: list[str]
) -> None:
    """Write model.onnx with a dynamic batch axis and the contract's input/output names."""
    graph_model = export_graph(model, (example,), [input_name], output_names, [input_name])
    lift_constants(graph_model, set(model.state_dict()))
    onnx.checker.check_model(graph_model, full_check=True)
    onnx.save(graph_model, str(path))
    check_parameter_names(path, model)


def lift_constants(graph_model: onnx.ModelProto, parameters: set[str]) -> None:
    """Every initializer that is not a parameter becomes a Constant node."""
    graph = graph_model.graph
    constants = [init for init in graph.initializer if init.name not in parameters]
    for init in constants:
        graph.initializer.remove(init)
        graph.node.insert(0, helper.make_node("Constant", [], [init.name], value=init))


def check_parameter_names(path: Path, model: nn.Module) -> None:
    """The file's initializers must be the state_dict: same names, same shapes, same values."""
    initializers = read_initializers(path)
    state = {key: value.detach().cpu().numpy() for key, value in model.state_dict().items()}
    if set(initializers) != set(state):
        raise ExportError(
            f"{path}: initializers {sorted(initializers)} != state_dict {sorted(state)}"
        )
    for name, value in state.items():
        if initializers[name].shape != value.shape or not np.array_equal(initializers[name], value):
            raise ExportError(f"{path}: initializer {name} differs from the module's parameter")


@torch.no_grad()
def check_parity(path: Path, model: nn.Module, x: torch.Tensor, classifier: bool) -> float:
    """Run all of x through onnxruntime and PyTorch; returns the largest |difference|."""
    model.eval().cpu()
    expected = [out.numpy() for out in model(x.cpu())]
    sess = cpu_session(path)
    names = [out.name for out in sess.get_outputs()]
    got = sess.run(names, {sess.get_inputs()[0].name: x.cpu().numpy()})
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(got, expected, strict=True))
    if not worst <= PARITY_TOLERANCE:
        raise ExportError(f"{path}: onnxruntime differs from PyTorch by {worst:.3g}")
    if classifier:
        changed = int(np.sum(predicted_classes(got[0]) != predicted_classes(expected[0])))
        if changed:
            raise ExportError(f"{path}: {changed} predicted classes change in onnxruntime")
    return worst


def predicted_classes(scores: np.ndarray) -> np.ndarray:
    """Predicted class per row: argmax of logits, or the sign of a single logit."""
    return scores.argmax(axis=1) if scores.shape[1] > 1 else (scores[:, 0] > 0)
