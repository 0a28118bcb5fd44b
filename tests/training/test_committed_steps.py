"""The committed step graphs: recorded in their cards, equal to the torch step modules, and
computing the loss of exactly the model that model.onnx serves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from service.cards import read_card, verify_files
from training.catalog import STEPPED, step_graph
from training.step_export import step_spec, trained_parameters
from training.step_parity import check_step, example_feeds

NAMES = STEPPED


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", NAMES)
def test_committed_step_graph_is_recorded_and_matches_torch(models_dir: Path, name: str) -> None:
    version_dir = models_dir / name / "1"
    card = read_card(version_dir)
    assert verify_files(version_dir, card) == []
    assert "step" in card.files, f"{name}: no step.onnx; run python -m training export-steps"
    step = step_graph(card)
    assert card.step == step_spec(step, card)
    feeds = example_feeds(card, trained_parameters(version_dir, card), m=16, seed=5)
    assert check_step(step, version_dir / card.files["step"].path, feeds) <= 1e-4


def expected_loss(task: str, outputs: list[np.ndarray], y: np.ndarray) -> float:
    """The loss convention computed in numpy from what model.onnx answers."""
    if task == "regression":
        return float(np.mean((outputs[0][:, 0].astype(np.float64) - y) ** 2))
    if task == "binary-classification":  # from the logit: a float32 p of 1 - 1e-8 reads as 1
        z = outputs[0][:, 0].astype(np.float64)
        return float(np.mean(np.logaddexp(0.0, z) - y * z))
    p = outputs[1].astype(np.float64)
    return float(np.mean(-np.log(p[np.arange(len(y)), y])))


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("quadratic-bowl", "two-minima")])
def test_step_loss_is_the_served_models_loss(models_dir: Path, name: str) -> None:
    """Same parameters, same x: the step graph's forward pass is model.onnx's."""
    version_dir = models_dir / name / "1"
    card = read_card(version_dir)
    feeds = example_feeds(card, trained_parameters(version_dir, card), m=32, seed=6)
    feeds["l2"] = np.array(0.0, np.float32)
    outputs = session(version_dir / "model.onnx").run(None, {card.inputs[0].name: feeds["x"]})
    (loss,) = session(version_dir / "step.onnx").run(["loss"], feeds)
    want = expected_loss(card.task, outputs, feeds["y"])
    assert float(loss) == pytest.approx(want, rel=1e-4, abs=1e-5), name


def test_committed_bowl_value_and_step_agree(models_dir: Path) -> None:
    version_dir = models_dir / "quadratic-bowl" / "1"
    start = trained_parameters(version_dir, read_card(version_dir))["point"]
    (value,) = session(version_dir / "model.onnx").run(["value"], {"input": start[None, :]})
    scalars = {"learning_rate": np.array(0.1, np.float32), "l2": np.array(0.0, np.float32)}
    (loss,) = session(version_dir / "step.onnx").run(["loss"], {"point": start, **scalars})
    assert float(loss) == float(value[0, 0]) == 12.0


def test_committed_two_minima_value_and_step_agree(models_dir: Path) -> None:
    version_dir = models_dir / "two-minima" / "1"
    start = trained_parameters(version_dir, read_card(version_dir))["point"]
    (value,) = session(version_dir / "model.onnx").run(["value"], {"input": start[None, :]})
    scalars = {"learning_rate": np.array(0.05, np.float32), "l2": np.array(0.0, np.float32)}
    (loss,) = session(version_dir / "step.onnx").run(["loss"], {"point": start, **scalars})
    assert float(loss) == float(value[0, 0]) == 10.0  # f(2) = (4 - 1)^2 + 1
