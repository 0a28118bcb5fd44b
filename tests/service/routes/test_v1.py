"""The v1 JSON API on the committed models: listing, cards, predictions for every task."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient

from service.cards import read_card

CPU = "CPUExecutionProvider"
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def run(models_dir: Path, name: str, x: np.ndarray) -> list[np.ndarray]:
    """The oracle: onnxruntime in-process on the same graph."""
    session = ort.InferenceSession(str(models_dir / name / "1" / "model.onnx"), providers=[CPU])
    return list(session.run(None, {"input": x}))


def mnist_test(mnist_dir: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` MNIST test digits, normalized as the card says, and their labels."""
    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as fh:
        images = np.frombuffer(fh.read(), np.uint8, offset=16)[: count * 784]
    with gzip.open(mnist_dir / "t10k-labels-idx1-ubyte.gz") as fh:
        labels = np.frombuffer(fh.read(), np.uint8, offset=8)[:count]
    x = ((images.reshape(count, 784) / 255.0 - MNIST_MEAN) / MNIST_STD).astype(np.float32)
    return x, labels.astype(np.int64)


def test_list_models(client: TestClient, models_dir: Path) -> None:
    rows = client.get("/v1/models").json()["models"]
    assert [row["name"] for row in rows] == sorted(
        p.name for p in models_dir.iterdir() if p.is_dir()
    )
    for row in rows:
        card = read_card(models_dir / row["name"] / "1")
        assert row == {
            "name": card.name,
            "version": 1,
            "task": card.task,
            "ready": True,
            "provider": CPU,
            "metrics": card.metrics,
        }


def test_card(client: TestClient, models_dir: Path) -> None:
    card = read_card(models_dir / "mnist-mlp" / "1")
    assert client.get("/v1/models/mnist-mlp").json() == card.model_dump(mode="json")


@pytest.mark.parametrize("name", ["mnist-mlp", "mnist-softmax"])
def test_mnist_classifiers(
    client: TestClient, models_dir: Path, mnist_dir: Path, name: str
) -> None:
    x, labels = mnist_test(mnist_dir, 50)
    response = client.post(f"/v1/models/{name}/predict", json={"instances": x.tolist()})
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    _, probabilities = run(models_dir, name, x)
    classes = [p["class"] for p in predictions]
    assert classes == probabilities.argmax(axis=1).tolist()
    assert [p["label"] for p in predictions] == [str(c) for c in classes]
    np.testing.assert_allclose(
        [p["probabilities"] for p in predictions], probabilities, rtol=1e-5, atol=1e-12
    )
    assert np.mean(np.array(classes) == labels) >= 0.9


def test_logistic_regression(client: TestClient, models_dir: Path) -> None:
    x = np.array([[-2.0, -2.0], [0.0, 0.0], [3.0, 3.0]], dtype=np.float32)
    predictions = client.post(
        "/v1/models/logistic-regression/predict", json={"instances": x.tolist()}
    ).json()["predictions"]
    _, p = run(models_dir, "logistic-regression", x)  # [3, 1] P(class 1)
    for prediction, p1 in zip(predictions, p[:, 0].tolist(), strict=True):
        assert prediction["class"] == int(p1 >= 0.5)
        assert prediction["label"] == str(prediction["class"])
        assert prediction["probabilities"] == pytest.approx([1 - p1, p1], abs=1e-6)


def test_linear_regression_takes_rows_or_bare_numbers(client: TestClient) -> None:
    kg = [48.0, 57.0, 64.0]
    want = [0.7514124562779751 * w + 124.29802113285037 for w in kg]
    for instances in ([[w] for w in kg], kg):
        response = client.post(
            "/v1/models/linear-regression/predict", json={"instances": instances}
        )
        assert response.json()["predictions"] == pytest.approx(want, rel=1e-4)


def test_polynomial_regression_takes_raw_x(client: TestClient, models_dir: Path) -> None:
    x = np.array([[-1.5], [0.0], [0.5], [2.0]], dtype=np.float32)
    predictions = client.post(
        "/v1/models/polynomial-regression/predict", json={"instances": x.tolist()}
    ).json()["predictions"]
    (want,) = run(models_dir, "polynomial-regression", x)
    assert predictions == pytest.approx(want[:, 0].tolist(), rel=1e-5)


def test_quadratic_bowl(client: TestClient) -> None:
    response = client.post(
        "/v1/models/quadratic-bowl/predict", json={"instances": [[1, 2], [0, 0]]}
    )
    assert response.json()["predictions"] == pytest.approx([2.0, 36.0], rel=1e-5)
