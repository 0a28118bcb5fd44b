"""Issue 17's accuracy floor: MNIST's own test images, sent to POST /predict as PNG uploads,
are read as well as the model reads them as tensors.

Each 28x28 test image goes up as the PNG it is (white ink on black), half as multipart forms,
half as raw bodies; the answer must be one digit, the right one (a 422 or a digit split in two
counts against the figure). The target is >= 99.0% of the 10,000; mnist-mlp alone, on the raw
tensors, reads 99.22% (99.21% through /predict: 78 misread, 1 refused). The fast suite sends a
seeded subset stratified by digit (150 of each); the whole test set is `slow`. Run with -s to
see both figures and how the misses split.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from training.data import MNIST_MEAN, MNIST_STD, load_mnist

MODEL = "mnist-mlp"
TARGET = 0.99
PER_DIGIT = 150
REFUSED, SPLIT = -1, -2
"""Answers that are not one digit: a 422, or more than one digit found."""


@pytest.fixture(scope="module")
def test_set(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    return load_mnist(mnist_dir, train=False)


def stratified(labels: np.ndarray, per_digit: int, seed: int) -> np.ndarray:
    """Indices of `per_digit` images of each digit, drawn without replacement, in order."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(labels == d), per_digit, replace=False) for d in range(10)]
    return np.sort(np.concatenate(picks))


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def read_through_predict(client: TestClient, images: np.ndarray) -> np.ndarray:
    """The digit /predict answers for each image, REFUSED or SPLIT when it is not one digit."""
    answers = []
    for i, image in enumerate(images):
        if i % 2:
            files = {"file": ("digit.png", png(image), "image/png")}
            response = client.post(f"/predict?model={MODEL}", files=files)
        else:
            headers = {"content-type": "image/png"}
            response = client.post(f"/predict?model={MODEL}", content=png(image), headers=headers)
        if response.status_code != 200:
            if response.status_code != 422:  # pytest.fail: not the AssertionError xfail expects
                pytest.fail(f"image {i}: {response.status_code} {response.text}")
            answers.append(REFUSED)
        else:
            body = response.json()
            answers.append(body["digit"] if len(body["digits"]) == 1 else SPLIT)
    return np.array(answers)


def read_as_tensors(models_dir: Path, images: np.ndarray) -> np.ndarray:
    """What the model alone reads: MNIST's pixels normalized as in training, no pipeline."""
    session = ort.InferenceSession(
        str(models_dir / MODEL / "1" / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    pixels = (images.astype(np.float32) / 255.0 - MNIST_MEAN) / MNIST_STD
    (probabilities,) = session.run(["probabilities"], {"input": pixels.reshape(-1, 784)})
    return probabilities.argmax(axis=1)


def measure(client: TestClient, models_dir: Path, images: np.ndarray, labels: np.ndarray) -> float:
    answers = read_through_predict(client, images)
    raw = read_as_tensors(models_dir, images)
    missed = answers != labels
    both = int(np.sum(missed & (raw != labels)))
    kinds = Counter(
        "refused" if a == REFUSED else "split" if a == SPLIT else "misread" for a in answers[missed]
    )
    print(
        f"\nPOST /predict, {MODEL}, {len(labels)} MNIST test images as PNG: "
        f"{1 - missed.mean():.2%} right (as raw tensors: {np.mean(raw == labels):.2%})"
        f"\n  misses: {dict(kinds)}; also missed as tensors: {both}"
        f"\n  missed by digit: {dict(sorted(Counter(labels[missed].tolist()).items()))}"
    )
    return float(1 - missed.mean())


def test_subset_is_seeded_and_stratified(test_set: tuple[np.ndarray, np.ndarray]) -> None:
    _, labels = test_set
    picked = stratified(labels, PER_DIGIT, seed=2026)
    assert np.array_equal(picked, stratified(labels, PER_DIGIT, seed=2026))
    assert len(set(picked.tolist())) == 10 * PER_DIGIT
    assert Counter(labels[picked].tolist()) == {d: PER_DIGIT for d in range(10)}


def test_mnist_subset_through_predict(
    client: TestClient, models_dir: Path, test_set: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = test_set
    picked = stratified(labels, PER_DIGIT, seed=2026)
    assert measure(client, models_dir, images[picked], labels[picked]) >= TARGET


@pytest.mark.slow
def test_mnist_test_set_through_predict(
    client: TestClient, models_dir: Path, test_set: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = test_set
    assert measure(client, models_dir, images, labels) >= TARGET
