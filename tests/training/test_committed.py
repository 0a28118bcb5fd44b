"""The committed model repository: cards match files and contract, models reach their targets.

Accuracy is measured by running the committed ONNX files in onnxruntime on the real test
data (seconds), never by retraining.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from sklearn.linear_model import LogisticRegression

from service.cards import ModelCard, read_card, verify_files
from tests.training.contract import IO, NAMES, PARAMETERS, TASKS
from training import data


def version_dir(models_dir: Path, name: str) -> Path:
    return models_dir / name / "1"


def run(models_dir: Path, name: str, x: np.ndarray) -> list[np.ndarray]:
    path = version_dir(models_dir, name) / "model.onnx"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outputs: list[np.ndarray] = session.run(None, {"input": x.astype(np.float32)})
    return outputs


@pytest.mark.parametrize("name", NAMES)
def test_card_matches_files_and_contract(models_dir: Path, name: str) -> None:
    folder = version_dir(models_dir, name)
    card = read_card(folder)
    assert verify_files(folder, card) == []
    assert {"model", "curve"} <= set(card.files)
    assert (card.name, card.version, card.task) == (name, 1, TASKS[name])
    assert ({t.name: t.shape for t in card.inputs}, {t.name: t.shape for t in card.outputs}) == IO[
        name
    ]
    assert {t.name: t.shape for t in card.parameters} == PARAMETERS[name]
    graph = onnx.load(str(folder / "model.onnx")).graph
    assert {i.name: list(i.dims) for i in graph.initializer} == PARAMETERS[name]
    assert min(op.version for op in onnx.load(str(folder / "model.onnx")).opset_import) >= 17
    assert card.training is not None and card.training.time_s > 0


@pytest.mark.parametrize("name", NAMES)
def test_card_round_trip(models_dir: Path, name: str) -> None:
    card = read_card(version_dir(models_dir, name))
    assert ModelCard.model_validate_json(card.to_json()) == card


@pytest.fixture(scope="module")
def mnist_test(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = data.load_mnist(mnist_dir, train=False)
    x = (images.reshape(len(images), 784) / 255.0 - data.MNIST_MEAN) / data.MNIST_STD
    return x.astype(np.float32), labels


@pytest.mark.parametrize(("name", "target"), [("mnist-mlp", 0.99), ("mnist-softmax", 0.92)])
def test_mnist_accuracy(
    models_dir: Path, mnist_test: tuple[np.ndarray, np.ndarray], name: str, target: float
) -> None:
    x, labels = mnist_test
    logits, probabilities = run(models_dir, name, x)
    accuracy = float(np.mean(logits.argmax(axis=1) == labels))
    assert accuracy >= target
    assert accuracy == pytest.approx(
        read_card(version_dir(models_dir, name)).metrics["test_accuracy"]
    )
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_logistic_regression_matches_sklearn(models_dir: Path) -> None:
    """Same generated split; within 0.5 points of scikit-learn's LogisticRegression."""
    split = data.gaussian_blobs()
    reference = LogisticRegression().fit(split.x_train, split.y_train)
    sklearn_accuracy = reference.score(split.x_test, split.y_test)
    logit, probability = run(models_dir, "logistic-regression", split.x_test)
    accuracy = float(np.mean((logit[:, 0] > 0) == (split.y_test > 0.5)))
    assert abs(accuracy - sklearn_accuracy) <= 0.005
    np.testing.assert_allclose(probability, 1 / (1 + np.exp(-logit)), atol=1e-6)


def test_linear_regression_is_least_squares(models_dir: Path) -> None:
    """Raw kg in, cm out: prediction(0) is the intercept; the rise per kg is the slope."""
    (prediction,) = run(models_dir, "linear-regression", np.array([[0.0], [100.0]]))
    intercept = float(prediction[0, 0])
    slope = float(prediction[1, 0] - prediction[0, 0]) / 100.0
    assert slope == pytest.approx(0.7514124562779751, rel=1e-4)
    assert intercept == pytest.approx(124.29802113285037, rel=1e-4)


def test_polynomial_regression_finds_the_cubic(models_dir: Path) -> None:
    """Held-out error near the noise variance (0.5^2) and the curve close to the true one."""
    split = data.noisy_cubic()
    (prediction,) = run(models_dir, "polynomial-regression", split.x_test)
    assert float(np.mean((prediction[:, 0] - split.y_test) ** 2)) < 0.35
    x = np.linspace(-3, 3, 61).reshape(-1, 1)
    (curve,) = run(models_dir, "polynomial-regression", x)
    c0, c1, c2, c3 = data.cubic_coefficients()
    truth = c0 + c1 * x + c2 * x**2 + c3 * x**3
    assert float(np.max(np.abs(curve - truth))) < 0.5
