"""The product claim: photo-like uploads of handwritten digits are read correctly.

1,000 uploads generated from the MNIST test set (tests/service/photolike.py) go through
POST /predict with mnist-mlp: at least 99.5% must be right. The same bytes resized naively to
28x28 and fed to the same model score far lower: that gap is what the preprocessing is for.
Run with -s to see both figures.
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

from tests.service.images.photolike import STYLES, Upload, photo_like_uploads
from training.data import MNIST_MEAN, MNIST_STD, load_mnist

N = 1000
MODEL = "mnist-mlp"


@pytest.fixture(scope="module")
def uploads(mnist_dir: Path) -> list[Upload]:
    images, labels = load_mnist(mnist_dir, train=False)
    return list(photo_like_uploads(images, labels, N, seed=2026))


def test_generator_is_seeded_and_covers_every_style(mnist_dir: Path) -> None:
    images, labels = load_mnist(mnist_dir, train=False)
    first = list(photo_like_uploads(images, labels, 40, seed=7))
    again = list(photo_like_uploads(images, labels, 40, seed=7))
    assert first == again
    assert {u.style for u in first} == set(STYLES)
    assert {u.content_type for u in first} == {"image/png", "image/jpeg"}
    for upload in first:
        image = Image.open(io.BytesIO(upload.data))
        assert min(image.size) >= 100 and max(image.size) <= 1500  # 100-600 px digits, margins
        assert (image.mode == "RGBA") == (upload.style == "canvas")


def accuracy_by_style(uploads: list[Upload], right: list[bool]) -> str:
    total, correct = Counter(u.style for u in uploads), Counter()
    for upload, ok in zip(uploads, right, strict=True):
        correct[upload.style] += ok
    return ", ".join(f"{s} {correct[s] / total[s]:.1%} of {total[s]}" for s in sorted(total))


def test_photo_like_uploads_are_read_correctly(client: TestClient, uploads: list[Upload]) -> None:
    right = []
    for i, upload in enumerate(uploads):
        if i % 2:  # half as multipart forms, half as raw bodies
            files = {"file": ("digit", upload.data, upload.content_type)}
            response = client.post(f"/predict?model={MODEL}", files=files)
        else:
            headers = {"content-type": upload.content_type}
            response = client.post(f"/predict?model={MODEL}", content=upload.data, headers=headers)
        # A digit refused (422: not found) is a digit not read: it counts against the figure.
        right.append(response.status_code == 200 and response.json()["digit"] == upload.label)
    accuracy = float(np.mean(right))
    print(f"\nPOST /predict, {MODEL}, {N} photo-like uploads: {accuracy:.1%} correct")
    print(f"  by style: {accuracy_by_style(uploads, right)}")
    assert accuracy >= 0.995


def naive_input(data: bytes) -> np.ndarray:
    """What a service without the preprocessing would do: grayscale, resize to 28x28."""
    image = Image.open(io.BytesIO(data)).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    return ((pixels - MNIST_MEAN) / MNIST_STD).reshape(784)


def test_naive_resize_scores_far_lower(models_dir: Path, uploads: list[Upload]) -> None:
    session = ort.InferenceSession(
        str(models_dir / MODEL / "1" / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    batch = np.stack([naive_input(u.data) for u in uploads]).astype(np.float32)  # [N, 784]
    (probabilities,) = session.run(["probabilities"], {"input": batch})
    right = list(probabilities.argmax(axis=1) == np.array([u.label for u in uploads]))
    accuracy = float(np.mean(right))
    print(f"\nnaive resize to 28x28, {MODEL}, same {N} uploads: {accuracy:.1%} correct")
    print(f"  by style: {accuracy_by_style(uploads, right)}")
    assert accuracy < 0.5
