"""digit-gate's data (training.gate_data, cut by the service's own read_number) and its card."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from service.cards import read_card
from training import gate, gate_data
from training.backprop.sigmoid_mlp import TinyMLPStep
from training.catalog import SPECS
from training.data import load_mnist


def test_words_leave_out_the_letters_that_are_digits_twins() -> None:
    assert not set("ilIoO") & set(gate_data.LOWER + gate_data.UPPER)
    rng = np.random.default_rng(0)
    assert all(not set("ilIoO") & set(gate_data.word(rng)) for _ in range(200))


def test_other_faces_are_the_typed_glyphs_narrower_wider_or_slanted() -> None:
    glyphs = Image.new("L", (100, 40), 0)
    ImageDraw.Draw(glyphs).rectangle((10, 5, 20, 35), fill=255)  # an upright stem
    rng = np.random.default_rng(3)
    made = [gate_data.faces(glyphs, rng) for _ in range(60)]
    widths = np.array([m.width for m in made])
    assert all(m.height == 40 for m in made)
    assert widths.min() < 80 and widths.max() > 125  # condensed and extended faces
    assert widths.max() <= 135 + 0.25 * 40 + 1
    slanted = [m for m in made if m.width - round(100 * 1.35) > 0 or _leans(m)]
    assert slanted, "some faces are oblique"


def _leans(image: Image.Image) -> bool:
    """Whether the stem's ink moves sideways from its top row to its bottom row."""
    ink = np.asarray(image) > 127
    rows = [np.flatnonzero(ink[r]).mean() for r in (6, 34) if ink[r].any()]
    return len(rows) == 2 and abs(rows[0] - rows[1]) > 2


def test_held_out_pictures_are_typed_in_the_faces_as_made() -> None:
    """Other faces are for training only: the held-out set measures the faces as they are."""
    font = next(f for f in gate_data.font_files() if f.name == "DejaVuSans.ttf")
    plain = gate_data.typed("zebra", font, np.random.default_rng(5))
    again = gate_data.typed("zebra", font, np.random.default_rng(5), other_faces=False)
    other = gate_data.typed("zebra", font, np.random.default_rng(5), other_faces=True)
    np.testing.assert_array_equal(plain, again)
    assert other.shape != plain.shape


def test_a_typed_word_is_cut_into_mnist_form_pieces() -> None:
    rng = np.random.default_rng(1)
    font = next(f for f in gate_data.font_files() if f.name == "DejaVuSans.ttf")
    pieces = gate_data.cut(gate_data.typed("zebra", font, rng), rng)
    assert len(pieces) >= 4  # z, e, b, r, a: touching letters may come as one piece
    assert all(p.shape == (28, 28) and p.dtype == np.uint8 and p.max() == 255 for p in pieces)


def test_handwritten_numbers_are_cut_digit_by_digit(mnist_dir: Path) -> None:
    images, _ = load_mnist(mnist_dir, train=False)
    rng = np.random.default_rng(2)
    counts = [len(gate_data.cut(gate_data.handwritten(images[k : k + 3], rng), rng))
              for k in range(0, 30, 3)]  # fmt: skip
    assert np.mean(np.array(counts) == 3) >= 0.7  # tight gaps may join two


def test_cut_set_is_seeded_and_marks_both_kinds(mnist_dir: Path) -> None:
    images, _ = load_mnist(mnist_dir, train=False)
    first, again = gate_data.cut_set(images, 30, seed=4), gate_data.cut_set(images, 30, seed=4)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.marks, again.marks)
    assert set(first.marks.tolist()) == {0.0, 1.0} and len(first.images) == len(first.marks)


def test_dry_run_prepares_both_kinds_and_all_of_mnist(mnist_dir: Path) -> None:
    prepared = gate.prepare_dry_run(mnist_dir)
    assert prepared.train.x.shape[1] == 784 and len(prepared.train) > 60_000
    assert 0 < float(prepared.train.y.mean()) < 1 and 0 < float(prepared.test.y.mean()) < 1
    assert prepared.preprocessing.kind == "mnist"


def test_committed_gate_card(models_dir: Path) -> None:
    card = read_card(models_dir / "digit-gate" / "1")
    assert card.role == "digit-gate" and card.labels == ["not a digit", "digit"]
    assert card.metrics["test_accuracy"] >= 0.98
    assert card.metrics["onnx_max_abs_diff"] <= 1e-4
    assert card.step is not None and "step" in card.files


def test_the_gate_is_tiny_mlps_network_and_step_only_wider() -> None:
    spec = SPECS["digit-gate"]
    assert spec.role == "digit-gate" and spec.dry_run_prepare is gate.prepare_dry_run
    assert isinstance(spec.step(None), TinyMLPStep)  # type: ignore[arg-type]
