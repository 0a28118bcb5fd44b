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
    assert check_parity(path, model, torch.randn(300, 784), classifier=True) <= 1e-4


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
