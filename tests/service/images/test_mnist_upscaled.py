"""MNIST's own test digits through the whole /predict pipeline, not the 28x28 shortcut.

A 28x28 upload is taken as already in MNIST's form and goes straight to the model
(tests/service/images/test_mnist_through_predict.py measures that). Here each test digit is
enlarged tenfold to 280x280 (bilinear, as a canvas drawing of a digit would come), so /predict
must find it, cut it out, fit it to 20x20 and centre it by mass again: half go up white on
black, half dark on light paper. The answer must be one digit, the right one (a 422 or a digit
split in two counts against the figure).

Target: the pipeline keeps the model's accuracy, >= 99.0% (issue 15's figure for MNIST's own
images). The fast suite sends a seeded subset stratified by digit (100 of each): measured
99.0%, on the floor (2 split in two, 8 misread; mnist-mlp reads 99.2% of the same digits as
raw tensors; the reader trained with pen-width augmentation misreads 2 more of these 1,000
than the one before it, 6, while it reads more numbers whole).
Run with -s to see the figure and how the misses split.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from tests.service.images.test_mnist_through_predict import read_as_tensors, stratified
from training.data import load_mnist

MODEL = "mnist-mlp"
TARGET = 0.99
PER_DIGIT = 100
SIDE = 280
"""Ten times MNIST's side: a digit as drawn on the web page's canvas."""


def upscaled_png(image: np.ndarray, dark_on_light: bool) -> bytes:
    """The 28x28 digit enlarged to SIDE x SIDE, white on black or inverted, as a PNG."""
    large = np.asarray(Image.fromarray(image).resize((SIDE, SIDE), Image.Resampling.BILINEAR))
    buffer = io.BytesIO()
    Image.fromarray(255 - large if dark_on_light else large).save(buffer, format="PNG")
    return buffer.getvalue()


def answer(client: TestClient, data: bytes) -> str:
    """The digit /predict reads, or why it is not one digit: 'refused' (422) or 'split'."""
    headers = {"content-type": "image/png"}
    response = client.post(f"/predict?model={MODEL}", content=data, headers=headers)
    if response.status_code == 422:
        return "refused"
    assert response.status_code == 200, response.text
    body = response.json()
    return str(body["digit"]) if len(body["digits"]) == 1 else "split"


def test_upscaled_upload_is_not_taken_as_mnist_form(mnist_dir: Path) -> None:
    """The figure below measures the pipeline only if the upload is not 28x28."""
    images, _ = load_mnist(mnist_dir, train=False)
    assert Image.open(io.BytesIO(upscaled_png(images[0], False))).size == (SIDE, SIDE)


def test_upscaled_mnist_subset_through_predict(
    client: TestClient, models_dir: Path, mnist_dir: Path
) -> None:
    images, labels = load_mnist(mnist_dir, train=False)
    picked = stratified(labels, PER_DIGIT, seed=2026)
    answers = [
        answer(client, upscaled_png(images[i], dark_on_light=bool(k % 2)))
        for k, i in enumerate(picked)
    ]
    expected = [str(int(labels[i])) for i in picked]
    missed = [a for a, e in zip(answers, expected, strict=True) if a != e]
    accuracy = 1 - len(missed) / len(picked)
    raw = read_as_tensors(models_dir, images[picked])
    kinds = Counter(m if m in ("refused", "split") else "misread" for m in missed)
    print(
        f"\nPOST /predict, {MODEL}, {len(picked)} MNIST test digits upscaled to {SIDE}x{SIDE}: "
        f"{accuracy:.2%} right (as raw tensors: {np.mean(raw == labels[picked]):.2%}); "
        f"misses: {dict(kinds)}"
    )
    assert accuracy >= TARGET
