"""step.onnx export: onnxruntime against the torch step modules, the card's record of it, and
the descent oracles (quadratic bowl, least squares on the height/weight data, logistic ln 2).

Model versions are stand-ins built here (the contract's parameter names, random values, a
Gemm graph over them), so these tests need no trained model; the committed models get the
same checks where they exist.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from service.cards import (
    ModelCard,
    Preprocessing,
    TensorSpec,
    file_entry,
    read_card,
    verify_files,
    write_card,
)
from training import catalog
from training.backprop.steps import QuadraticBowlStep, StepGraph
from training.bowl import bowl_value
from training.publish import publish_function
from training.step_export import StepExportError, add_step_graph, trained_parameters
from training.step_parity import example_feeds, run_torch

WEIGHT_KG = np.array([48, 57, 50, 54, 64, 61, 43, 59], dtype=np.float32)
HEIGHT_CM = np.array([165, 165, 157, 170, 175, 165, 155, 170], dtype=np.float32)
SLOPE, INTERCEPT = 0.7514124562779751, 124.29802113285037
MNIST = Preprocessing(kind="mnist", mean=[0.1307], std=[0.3081])
DIGITS = [str(d) for d in range(10)]
MLP_LAYERS = [("fc1", 784, 512), ("fc2", 512, 256), ("fc3", 256, 10)]

# name -> (task, input features, layers (prefix, in, out), preprocessing, labels, outputs)
KINDS = {
    "linear-regression": (
        "regression", 1, [("linear", 1, 1)],
        Preprocessing(kind="standardize", mean=[54.5], std=[6.5], in_graph=True), [],
        ["prediction"],
    ),
    "polynomial-regression": (
        "regression", 1, [("linear", 3, 1)],
        Preprocessing(kind="standardize", mean=[0.1, 1.0, 0.3], std=[1.0, 1.4, 3.9], degree=3,
                      in_graph=True), [],
        ["prediction"],
    ),
    "logistic-regression": (
        "binary-classification", 2, [("linear", 2, 1)], Preprocessing(kind="none"), ["0", "1"],
        ["logit", "probability"],
    ),
    "mnist-softmax": (
        "classification", 784, [("linear", 784, 10)], MNIST, DIGITS, ["logits", "probabilities"]
    ),
    "mnist-mlp": ("classification", 784, MLP_LAYERS, MNIST, DIGITS, ["logits", "probabilities"]),
}  # fmt: skip


def stand_in_graph(layers: list[tuple[str, int, int]], params: dict[str, np.ndarray]) -> bytes:
    """input -> Gemm (-> Relu -> Gemm ...) -> the first output: a real graph over the params."""
    nodes, current = [], "input"
    for i, (prefix, _, _) in enumerate(layers):
        out = f"z{i}"
        nodes.append(
            helper.make_node(
                "Gemm", [current, f"{prefix}.weight", f"{prefix}.bias"], [out], transB=1
            )
        )
        current = out
        if i < len(layers) - 1:
            nodes.append(helper.make_node("Relu", [out], [f"a{i}"]))
            current = f"a{i}"
    nodes.append(helper.make_node("Identity", [current], ["output"]))
    inits = [numpy_helper.from_array(value, name) for name, value in params.items()]
    n_in, n_out = layers[0][1], layers[-1][2]
    graph = helper.make_graph(
        nodes, "stand-in",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", n_in])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", n_out])],
        initializer=inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.checker.check_model(model)
    return model.SerializeToString()


def stand_in_version(root: Path, name: str, seed: int = 0, zeros: bool = False) -> Path:
    """models/<name>/1 with a stand-in model.onnx and a card, random (or zero) parameters."""
    task, n_in, layers, preprocessing, labels, outputs = KINDS[name]
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    for prefix, fan_in, fan_out in layers:
        weight = rng.standard_normal((fan_out, fan_in)) / math.sqrt(fan_in)
        params[f"{prefix}.weight"] = (0 * weight if zeros else weight).astype(np.float32)
        params[f"{prefix}.bias"] = np.zeros(fan_out, np.float32)
    version_dir = root / name / "1"
    version_dir.mkdir(parents=True)
    (version_dir / "model.onnx").write_bytes(stand_in_graph(layers, params))
    n_out = layers[-1][2]
    card = ModelCard(
        name=name, version=1, task=task, description="stand-in for the step-export tests",
        inputs=[TensorSpec(name="input", shape=[-1, n_in])],
        outputs=[TensorSpec(name=out, shape=[-1, n_out]) for out in outputs],
        preprocessing=preprocessing, labels=labels,
        parameters=[TensorSpec(name=k, shape=list(v.shape)) for k, v in params.items()],
        files={"model": file_entry(version_dir, "model.onnx")},
    )  # fmt: skip
    write_card(version_dir, card)
    return version_dir


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def walk(step_graph: ort.InferenceSession, feeds: dict[str, np.ndarray], steps: int,
         lr: float) -> tuple[list[float], dict[str, np.ndarray]]:  # fmt: skip
    """Run `steps` steps in onnxruntime, feeding next.<p> back as <p>; losses and params."""
    feeds = {**feeds, "learning_rate": np.array(lr, np.float32), "l2": np.array(0, np.float32)}
    not_params = ("x", "y", "learning_rate", "l2")
    params = [i.name for i in step_graph.get_inputs() if i.name not in not_params]
    names = [o.name for o in step_graph.get_outputs()]
    losses = []
    for _ in range(steps):
        out = dict(zip(names, step_graph.run(None, feeds), strict=True))
        losses.append(float(out["loss"]))
        feeds.update({p: out[f"next.{p}"] for p in params})
    return losses, {p: feeds[p] for p in params}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_exported_step_graph_matches_torch_and_is_recorded(tmp_path: Path, name: str) -> None:
    version_dir = stand_in_version(tmp_path, name)
    path = add_step_graph(version_dir, catalog.step_graph)
    card = read_card(version_dir)
    assert verify_files(version_dir, card) == []
    assert card.files["step"].path == "step.onnx" and card.step is not None
    assert card.step.parameters == card.parameters
    step = catalog.step_graph(card)
    graph = session(path)
    assert [i.name for i in graph.get_inputs()] == step.input_names()
    assert [o.name for o in graph.get_outputs()] == step.output_names()
    for batch in (1, 3, 64):  # the export saw 8 rows; the batch axis must be dynamic
        feeds = example_feeds(card, trained_parameters(version_dir, card), m=batch, seed=batch)
        want = run_torch(step, feeds)
        got = dict(zip(step.output_names(), graph.run(None, feeds), strict=True))
        for output, value in want.items():
            scale = 1.0 + float(np.max(np.abs(value)))
            np.testing.assert_allclose(
                got[output], value, rtol=1e-4, atol=1e-5 * scale, err_msg=f"{name} {output}"
            )


def autograd_gradients(step: StepGraph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """torch.autograd's gradient of the step module's own loss output, per parameter."""
    inputs = {n: torch.from_numpy(np.asarray(feeds[n])) for n in step.input_names()}
    leaves = [inputs[p].clone().requires_grad_(True) for p in step.parameter_names]
    inputs.update(zip(step.parameter_names, leaves, strict=True))
    loss = step(*(inputs[n] for n in step.input_names()))[0]
    grads = torch.autograd.grad(loss, leaves)
    return {f"grad.{p}": g.numpy() for p, g in zip(step.parameter_names, grads, strict=True)}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_onnx_gradients_equal_autograd(tmp_path: Path, name: str) -> None:
    """The exported graph's gradients against autograd directly (float32, rtol 1e-4)."""
    version_dir = stand_in_version(tmp_path, name, seed=9)
    graph = session(add_step_graph(version_dir, catalog.step_graph))
    card = read_card(version_dir)
    feeds = example_feeds(card, trained_parameters(version_dir, card), m=6, seed=9)
    got = dict(zip([o.name for o in graph.get_outputs()], graph.run(None, feeds), strict=True))
    for output, want in autograd_gradients(catalog.step_graph(card), feeds).items():
        np.testing.assert_allclose(
            got[output], want, rtol=1e-4, atol=1e-6, err_msg=f"{name} {output} vs autograd"
        )


def test_export_refuses_a_card_that_disagrees_with_model_onnx(tmp_path: Path) -> None:
    version_dir = stand_in_version(tmp_path, "logistic-regression")
    card = read_card(version_dir)
    wrong = [TensorSpec(name="linear.weight", shape=[2, 2]), card.parameters[1]]
    write_card(version_dir, card.model_copy(update={"parameters": wrong}))
    with pytest.raises(StepExportError, match=r"linear.weight is \[1, 2\], card says \[2, 2\]"):
        add_step_graph(version_dir, catalog.step_graph)


def test_export_refuses_an_unknown_model(tmp_path: Path) -> None:
    version_dir = stand_in_version(tmp_path, "logistic-regression")
    card = read_card(version_dir)
    write_card(version_dir, card.model_copy(update={"name": "mystery"}))
    with pytest.raises(StepExportError, match="no step graph for model 'mystery'"):
        add_step_graph(version_dir, catalog.step_graph)


@pytest.fixture(scope="module")
def bowl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return publish_function(catalog.FUNCTIONS["quadratic-bowl"], tmp_path_factory.mktemp("models"))


def test_bowl_model_evaluates_f_and_carries_its_start(bowl_dir: Path) -> None:
    points = np.array([[1, 2], [-4, 4], [0, 0]], np.float32)
    (value,) = session(bowl_dir / "model.onnx").run(["value"], {"input": points})
    np.testing.assert_allclose(value[:, 0], bowl_value(points), rtol=1e-6)
    card = read_card(bowl_dir)
    assert trained_parameters(bowl_dir, card)["point"].tolist() == [-4.0, 4.0]
    assert verify_files(bowl_dir, card) == []


def test_bowl_descends_to_the_minimum_at_lr_0_1(bowl_dir: Path) -> None:
    """1000 steps from a random start in [-5, 5]^2 reach f = 2 within 1e-6.

    The point lands within 5e-6 of (1, 2), not 1e-6: in float32 a step stops moving a
    coordinate near 2 once lr * grad < half an ulp (1.2e-7), and along the valley
    grad ~ 0.29 |p - p*|, so float32 descent halts ~4e-6 short. The float64 torch step
    (test_steps.py's oracles use the same module) is checked to 1e-6 below.
    """
    graph = session(bowl_dir / "step.onnx")
    rng = np.random.default_rng(6)
    for start in rng.uniform(-5, 5, size=(5, 2)).astype(np.float32):
        losses, params = walk(graph, {"point": start}, steps=1000, lr=0.1)
        assert abs(losses[-1] - 2.0) <= 1e-6, f"from {start}: f = {losses[-1]}"
        np.testing.assert_allclose(params["point"], [1.0, 2.0], atol=5e-6, err_msg=f"{start}")


def test_bowl_descends_to_the_minimum_in_float64() -> None:
    point = torch.tensor([-4.7, 3.9], dtype=torch.float64)
    lr, l2 = torch.tensor(0.1, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)
    for _ in range(1000):
        loss, _, point = QuadraticBowlStep()(point, lr, l2)
    assert abs(float(loss) - 2.0) <= 1e-6
    assert torch.allclose(point, torch.tensor([1.0, 2.0], dtype=torch.float64), atol=1e-6)


def test_bowl_diverges_at_lr_0_2(bowl_dir: Path) -> None:
    """2 / 13.708 ~ 0.146 is the stability limit; 0.2 overshoots further every step."""
    losses, params = walk(session(bowl_dir / "step.onnx"), {"point": np.array([2, 1], np.float32)},
                          steps=100, lr=0.2)  # fmt: skip
    assert losses[10] > losses[5] > losses[0]
    assert not np.all(np.isfinite(params["point"])) or np.max(np.abs(params["point"])) > 1e6


def test_linear_regression_steps_reach_the_least_squares_line(tmp_path: Path) -> None:
    """From zeros, in standardized x (graph-side), mapped back: slope and intercept to 1e-4."""
    version_dir = stand_in_version(tmp_path, "linear-regression", zeros=True)
    card = read_card(version_dir)
    mu, sigma = float(WEIGHT_KG.mean()), float(WEIGHT_KG.std())
    preprocessing = card.preprocessing.model_copy(update={"mean": [mu], "std": [sigma]})
    write_card(version_dir, card.model_copy(update={"preprocessing": preprocessing}))
    graph = session(add_step_graph(version_dir, catalog.step_graph))
    start = trained_parameters(version_dir, read_card(version_dir))
    feeds = {**start, "x": WEIGHT_KG[:, None], "y": HEIGHT_CM}
    losses, params = walk(graph, feeds, steps=200, lr=0.1)
    assert losses[-1] < losses[0]
    w, b = float(params["linear.weight"][0, 0]), float(params["linear.bias"][0])
    assert w / sigma == pytest.approx(SLOPE, rel=1e-4)
    assert b - w * mu / sigma == pytest.approx(INTERCEPT, rel=1e-4)


def test_logistic_regression_from_zeros_starts_at_ln_2(tmp_path: Path) -> None:
    """With w = 0, b = 0 every a = 1/2, so the cross-entropy is ln 2 whatever the data."""
    version_dir = stand_in_version(tmp_path, "logistic-regression", zeros=True)
    graph = session(add_step_graph(version_dir, catalog.step_graph))
    card = read_card(version_dir)
    feeds = example_feeds(card, trained_parameters(version_dir, card), m=50, seed=0)
    losses, _ = walk(graph, {k: v for k, v in feeds.items() if k not in ("learning_rate", "l2")},
                     steps=2, lr=0.5)  # fmt: skip
    assert losses[0] == pytest.approx(math.log(2), rel=1e-6)
    assert losses[1] < losses[0]


def test_bowl_onnx_gradient_equals_autograd(bowl_dir: Path) -> None:
    graph = session(bowl_dir / "step.onnx")
    feeds = {"point": np.array([-3.2, 4.7], np.float32)}
    feeds |= {"learning_rate": np.array(0.1, np.float32), "l2": np.array(0.5, np.float32)}
    (grad,) = graph.run(["grad.point"], feeds)
    want = autograd_gradients(QuadraticBowlStep(), feeds)["grad.point"]
    np.testing.assert_allclose(grad, want, rtol=1e-4, atol=1e-6, err_msg="quadratic-bowl point")
