"""The data set a card carries: the training rows bit for bit, held-out rows apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from service.cards import read_card
from training.card_data import card_data
from training.catalog import SPECS
from training.train import Tensors


def test_card_numbers_read_back_as_the_same_float32() -> None:
    x = torch.tensor([[0.1, -2.3456789], [1e-7, 3.4028e38]], dtype=torch.float32)
    data = card_data(Tensors(x, torch.tensor([0.3, 1.0])), Tensors(x[:1], torch.tensor([2.0])))
    assert data is not None
    np.testing.assert_array_equal(np.array(data.x, np.float32), x.numpy())
    assert data.validation_y == [2.0]


def test_same_train_and_test_rows_have_no_validation_part() -> None:
    rows = Tensors(torch.ones(3, 1), torch.zeros(3))
    data = card_data(rows, rows)
    assert data is not None and data.validation_x == [] and len(data.x) == 3


def test_mnist_rows_stay_out_of_cards() -> None:
    rows = Tensors(torch.zeros(2, 784), torch.zeros(2, dtype=torch.int64))
    assert card_data(rows, rows) is None


def test_committed_small_cards_carry_their_training_data(models_dir: Path) -> None:
    for name in ("linear-regression", "logistic-regression", "tiny-mlp", "polynomial-fit"):
        prepared = SPECS[name].prepare(Path("."))
        data = read_card(models_dir / name / "1").data
        assert data is not None, name
        np.testing.assert_array_equal(np.array(data.x, np.float32), prepared.train.x.numpy())
        np.testing.assert_array_equal(np.array(data.y, np.float32), prepared.train.y.numpy())
