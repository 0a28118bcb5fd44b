"""Service fixtures: a TestClient on the committed models, and tiny ONNX repositories.

The tiny repositories are real ONNX graphs built with onnx.helper (one Gemm, then Softmax or
Sigmoid) with real cards, so registry and runtime tests can damage copies freely.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from fastapi.testclient import TestClient
from onnx import TensorProto, helper, numpy_helper

from service.app import create_app
from service.cards import ModelCard, Preprocessing, TensorSpec, file_entry, write_card
from service.config import Settings


def build_linear_model(
    version_dir: Path, name: str, features: int, outputs: list[str], classes: int
) -> None:
    """models/<name>/<version>/ with a Gemm(+Softmax|Sigmoid) model.onnx and its card."""
    version_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(int(version_dir.name))  # each version its own weights
    weight = rng.normal(size=(classes, features)).astype(np.float32)  # [out, in]
    nodes = [helper.make_node("Gemm", ["input", "linear.weight", "linear.bias"], [outputs[0]])]
    nodes[0].attribute.append(helper.make_attribute("transB", 1))
    if len(outputs) > 1:
        activation = ("Softmax", {"axis": 1}) if classes > 1 else ("Sigmoid", {})
        nodes.append(helper.make_node(activation[0], [outputs[0]], [outputs[1]], **activation[1]))
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", features])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, ["batch", classes]) for o in outputs],
        [
            numpy_helper.from_array(weight, "linear.weight"),
            numpy_helper.from_array(np.zeros(classes, np.float32), "linear.bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, version_dir / "model.onnx")
    task = "classification" if classes > 1 else "binary-classification"
    card = ModelCard(
        name=name,
        version=int(version_dir.name),
        task=task if len(outputs) > 1 else "regression",
        description=f"tiny test model {name}",
        inputs=[TensorSpec(name="input", shape=[-1, features])],
        outputs=[TensorSpec(name=o, shape=[-1, classes]) for o in outputs],
        preprocessing=Preprocessing(kind="none"),
        labels=[str(i) for i in range(max(classes, 2))] if len(outputs) > 1 else [],
        files={"model": file_entry(version_dir, "model.onnx")},
    )
    write_card(version_dir, card)


@pytest.fixture
def tiny_repo(tmp_path: Path) -> Path:
    """A repository of three tiny models: a [-1,4] classifier (versions 1 and 2), a [-1,2]
    binary classifier, and a [-1,1] regressor."""
    root = tmp_path / "models"
    for version in ("1", "2"):
        build_linear_model(
            root / "tiny-softmax" / version, "tiny-softmax", 4, ["logits", "probabilities"], 3
        )
    build_linear_model(
        root / "tiny-logistic" / "1", "tiny-logistic", 2, ["logit", "probability"], 1
    )
    build_linear_model(root / "tiny-linear" / "1", "tiny-linear", 1, ["prediction"], 1)
    return root


@pytest.fixture
def repo_copy(tmp_path: Path, models_dir: Path) -> Path:
    """A copy of the committed repository that a test may damage."""
    copy = tmp_path / "models-copy"
    shutil.copytree(models_dir, copy)
    return copy


@pytest.fixture(scope="module")
def client(models_dir: Path) -> Iterator[TestClient]:
    """The real app on the committed models, lifespan run (module-scoped: loading is slow)."""
    with TestClient(create_app(Settings(models_dir=models_dir))) as test_client:
        yield test_client


@pytest.fixture
def assert_live() -> Callable[[TestClient], None]:
    """Check that the service still answers after whatever a test just did to it."""

    def check(test_client: TestClient) -> None:
        response = test_client.get("/v2/health/live")
        assert (response.status_code, response.json()) == (200, {"live": True})

    return check
