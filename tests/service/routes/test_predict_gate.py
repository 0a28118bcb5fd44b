"""POST /predict with the digit gate (models/digit-gate): typed words are refused with a 422,
digits and numbers are not, and without a gate in the repository nothing changes.

The words are typed in Pillow's own face (ImageFont.load_default: Aileron, which the gate
never saw: it learned on DejaVu, STIX, Computer Modern and WenQuanYi). Run with -s for the
figures.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont
from pydantic import ValidationError

from service.app import create_app
from service.cards import ModelCard, read_card
from service.config import Settings
from service.images.gate import refuses
from tests.service.images.numbers import number_uploads
from training.data import MNIST_MEAN, MNIST_STD, load_mnist

PNG = {"content-type": "image/png"}
GATE = "digit-gate"
REFUSED = "do not look like digits"
SHORT_WORDS = (
    "at be by do go he if in is it me my no of on or so to up us we am an as hi ox "
    "cat dog sun hat bag pen cup car bus red sea sky key map egg tea box fox jam zip "
    "hello house apple water bread chair table green horse mouse sheep zebra tiger "
    "milk book tree fish bird rain snow wind fire king door hand foot moon star ship "
    "boat lamp desk song game ball kite gift card note farm road city cake salt rice "
    "yes big small warm cold frog bear wolf lion duck goat cow pig hen baby girl"
)
WORDS = SHORT_WORDS.split()
"""Short lower-case words, 2 to 5 letters."""
TARGET = 0.90
"""Issue 15's target for WORDS (94.4% measured: 100% of those of 3 to 5 letters)."""


def typed(word: str, size: int, rng: np.random.Generator) -> bytes:
    """`word` typed at `size` px in Pillow's default face, dark on light paper, as PNG."""
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(word)
    image = Image.new("L", (right - left + 2 * size, bottom - top + 2 * size), 255)
    ink = int(rng.integers(0, 80))
    ImageDraw.Draw(image).text((size - left, size - top), word, fill=ink, font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def gate_free(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The committed repository without the gate: today's /predict."""
    repo = tmp_path_factory.mktemp("no-gate") / "models"
    shutil.copytree(
        models_dir, repo, ignore=lambda folder, _: [GATE] if folder == str(models_dir) else []
    )
    assert not (repo / GATE).exists()
    with TestClient(create_app(Settings(models_dir=repo))) as client:
        yield client


def test_typed_short_words_are_refused(client: TestClient) -> None:
    rng = np.random.default_rng(15)
    refused = []
    for word in WORDS:
        response = client.post("/predict", content=typed(word, int(rng.integers(24, 121)), rng),
                               headers=PNG)  # fmt: skip
        assert response.status_code in (200, 422), response.text
        refused.append(response.status_code == 422 and REFUSED in response.json()["error"])
    passed = [w for w, r in zip(WORDS, refused, strict=True) if not r]
    longer = [r for w, r in zip(WORDS, refused, strict=True) if len(w) >= 3]
    print(f"\ntyped words refused: {np.mean(refused):.1%} of {len(WORDS)} ({np.mean(longer):.1%}"
          f" of the {len(longer)} of 3-5 letters); read as numbers: {passed}")  # fmt: skip
    # Measured 94.4% (84.1% with the first gate, 88.8% with its typed-line rule) at the rule's
    # thresholds, chosen on held-out words and numbers, never on these; what passes is two-letter
    # words of a digit's twin and a letter this face draws like a digit ("go", "to", "so").
    assert np.mean(refused) >= TARGET


def test_without_a_gate_a_word_is_read_as_a_number(gate_free: TestClient) -> None:
    """What the gate is for, and that it is optional: no gate, no refusal."""
    response = gate_free.post("/predict", content=typed("cat", 80, np.random.default_rng(0)),
                              headers=PNG)  # fmt: skip
    assert response.status_code == 200
    assert len(response.json()["number"]) == 3


def test_mnist_test_digits_pass_the_gate(models_dir: Path, mnist_dir: Path) -> None:
    """A 28x28 upload is read as it is, so the gate judges MNIST's own test digits."""
    images, _ = load_mnist(mnist_dir, train=False)
    x = ((images.reshape(len(images), 784) / 255.0 - MNIST_MEAN) / MNIST_STD).astype(np.float32)
    path = str(models_dir / GATE / "1" / "model.onnx")
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (p_digit,) = session.run(["probability"], {"input": x})
    whole = np.array([[0, 0, 28, 28]], np.int64)  # each a one-piece upload, its whole image
    refused = float(np.mean([refuses(p, whole) for p in p_digit]))
    print(f"\nMNIST test digits refused by the gate: {refused:.2%} of {len(x)}")
    assert refused <= 0.002


def test_whole_numbers_are_not_refused_nor_read_worse(
    client: TestClient, gate_free: TestClient, mnist_dir: Path
) -> None:
    """The whole-number set of test_numbers.py (300, seed 2026), with and without the gate."""
    images, labels = load_mnist(mnist_dir, train=False)
    refused, right, right_without = 0, 0, 0
    for upload in number_uploads(images, labels, 300, seed=2026):
        headers = {"content-type": upload.content_type}
        with_gate = client.post("/predict", content=upload.data, headers=headers)
        without = gate_free.post("/predict", content=upload.data, headers=headers)
        refused += with_gate.status_code == 422 and REFUSED in with_gate.json()["error"]
        right += with_gate.status_code == 200 and with_gate.json()["number"] == upload.label
        right_without += without.status_code == 200 and without.json()["number"] == upload.label
    print(f"\nnumbers refused by the gate: {refused} of 300; read right {right} ({right_without}"
          " without the gate)")  # fmt: skip
    assert refused / 300 <= 0.002
    assert right >= right_without


def test_the_gate_is_no_reader_of_images(client: TestClient) -> None:
    seven = typed("7", 120, np.random.default_rng(1))
    response = client.post(f"/predict?model={GATE}", content=seven, headers=PNG)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error.startswith(f"model {GATE} does not read images") and "mnist-mlp" in error
    assert GATE not in error.split("serves")[1].split(")")[0]


def test_the_card_says_what_the_gate_is(models_dir: Path) -> None:
    card = read_card(models_dir / GATE / "1")
    assert (card.role, card.task, card.preprocessing.kind) == (
        GATE,
        "binary-classification",
        "mnist",
    )
    # Backward compatible: a card written before roles existed reads as role None...
    older = json.loads((models_dir / "mnist-mlp" / "1" / "card.json").read_text())
    older.pop("role", None)
    assert ModelCard.model_validate(older).role is None
    # ...and a role the service does not know is refused, not ignored.
    with pytest.raises(ValidationError, match="role"):
        ModelCard.model_validate(older | {"role": "spell-checker"})
