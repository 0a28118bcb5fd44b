"""The training augmentation: the pen-width change on a still image (no affine move), so each
case has an exact oracle: a 3x3 max filter, the edge moved in, or the image as it was."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from training.augment import BACKGROUND, SIDE, AffineConfig, random_affine
from training.data import MNIST_MEAN, MNIST_STD, load_mnist

STILL = {"degrees": 0.0, "scale": (1.0, 1.0), "shift_px": 0.0, "shear": 0.0}


@pytest.fixture(scope="module")
def digits(mnist_dir: Path) -> np.ndarray:
    images, _ = load_mnist(mnist_dir, train=False)
    return images[:32]


def augmented(digits: np.ndarray, pen: tuple[float, float], share: float) -> np.ndarray:
    """uint8-scale ink [B, 28, 28] after random_affine with a still transform and this pen."""
    x = torch.tensor(digits, dtype=torch.float32).reshape(-1, SIDE * SIDE) / 255 - MNIST_MEAN
    x = x / MNIST_STD
    config = AffineConfig(**STILL, pen=pen, pen_share=share)  # type: ignore[arg-type]
    out = random_affine(x, config, torch.Generator().manual_seed(0))
    ink = (out - BACKGROUND) * MNIST_STD * 255
    return ink.reshape(-1, SIDE, SIDE).numpy()


def test_no_pen_change_leaves_each_digit_as_it_was(digits: np.ndarray) -> None:
    for pen, share in (((0.0, 0.0), 1.0), ((-1.0, 1.0), 0.0)):
        np.testing.assert_allclose(augmented(digits, pen, share), digits, atol=1e-3)


def test_the_widest_pen_is_a_3x3_max_filter(digits: np.ndarray) -> None:
    oracle = [np.asarray(Image.fromarray(d).filter(ImageFilter.MaxFilter(3))) for d in digits]
    np.testing.assert_allclose(augmented(digits, (1.0, 1.0), 1.0), np.stack(oracle), atol=1e-3)


def test_the_thinnest_pen_drops_the_strokes_half_inked_edges(digits: np.ndarray) -> None:
    thin = augmented(digits, (-1.0, -1.0), 1.0)
    peak = digits.max(axis=(1, 2), keepdims=True).astype(np.float32)
    oracle = np.clip(2 * digits.astype(np.float32) - peak, 0, None)
    np.testing.assert_allclose(thin, oracle, atol=1e-3)
    assert (thin <= digits + 1e-3).all() and (thin.sum() < 0.8 * digits.sum())


def test_a_share_of_the_batch_changes_and_the_rest_stays(digits: np.ndarray) -> None:
    changed = np.abs(augmented(digits, (0.5, 1.0), 0.5) - digits).max(axis=(1, 2)) > 1
    assert 4 <= changed.sum() <= 28  # about half of 32 per draw
