"""ONNX export: contract names survive, constants are not parameters, parity is enforced."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch

from training import models
from training.export import ExportError, check_parameter_names, check_parity, export_onnx


def export(model: torch.nn.Module, features: int, path: Path, outputs: list[str]) -> None:
    export_onnx(model, torch.randn(2, features), path, "input", outputs)


def test_mlp_export_matches_torch(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = models.MnistMlp()
    path = tmp_path / "model.onnx"
    export(model, 784, path, ["logits", "probabilities"])
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["input"]
    assert [o.name for o in graph.output] == ["logits", "probabilities"]
    batch = graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param and not batch.dim_value  # dynamic batch axis
    assert {i.name for i in graph.initializer} == set(model.state_dict())
    assert b"/training/models.py" not in path.read_bytes()  # no stack traces with local paths
    assert b"MnistMlp" not in path.read_bytes()  # nor module names (class_hierarchy, namespace)
    assert metadata_entries(onnx.load(str(path))) == 0
    assert check_parity(path, model, torch.randn(300, 784), classifier=True) <= 1e-4


def metadata_entries(model: onnx.ModelProto) -> int:
    """metadata_props anywhere in the model: the exporter's notes, which export_graph drops."""
    graph = model.graph
    places = (model, graph, *graph.node, *graph.input, *graph.output, *graph.value_info)
    return sum(len(place.metadata_props) for place in places)


def test_committed_graphs_carry_no_exporter_metadata(models_dir: Path) -> None:
    """Re-exporting a committed graph gives the same bytes and sha256, whatever the paths
    and module names of the checkout that exported it."""
    paths = sorted(models_dir.glob("*/*/*.onnx"))
    assert len(paths) >= 20
    assert {str(p.relative_to(models_dir)): metadata_entries(onnx.load(str(p))) for p in paths} == {
        str(p.relative_to(models_dir)): 0 for p in paths
    }


def test_polynomial_constants_become_constant_nodes(tmp_path: Path) -> None:
    config = models.PolynomialConfig(degree=3, mean=(0.1, 3.0, 0.3), std=(1.7, 2.8, 10.7))
    model = models.PolynomialRegression(config)
    path = tmp_path / "poly.onnx"
    export(model, 1, path, ["prediction"])
    graph = onnx.load(str(path)).graph
    assert sorted(i.name for i in graph.initializer) == ["linear.bias", "linear.weight"]
    x = torch.linspace(-3, 3, 101).reshape(-1, 1)
    assert check_parity(path, model, x, classifier=False) <= 1e-4


def test_parity_failure_is_loud(tmp_path: Path) -> None:
    model = models.SoftmaxRegression()
    path = tmp_path / "softmax.onnx"
    export(model, 784, path, ["logits", "probabilities"])
    with torch.no_grad():
        model.linear.bias[3] += 1.0  # the module no longer computes what the file does
    with pytest.raises(ExportError, match="onnxruntime differs from PyTorch by 1"):
        check_parity(path, model, torch.randn(50, 784), classifier=True)
    with pytest.raises(ExportError, match=r"initializer linear\.bias differs"):
        check_parameter_names(path, model)


def test_foreign_parameter_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "logistic.onnx"
    export(models.LogisticRegression(), 2, path, ["logit", "probability"])
    with pytest.raises(ExportError, match=r"initializers \['linear.bias', 'linear.weight'\]"):
        check_parameter_names(path, models.MnistMlp())
