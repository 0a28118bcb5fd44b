"""The data set a model card carries: what gradient-step requests without x and y learn from.

Small generated data sets go into the card whole, training rows as `x`/`y` and the held-out
rows as `validation_x`/`validation_y` (none when the test part is the training part, as for
the eight height/weight people). MNIST stays out: 784 numbers a row do not belong in a card.
Numbers are written as the shortest decimals that read back as the same float32, so the
service's arrays equal the ones training used, bit for bit.

    python -m training card-data <name>|all [--models-dir models]   (re-write existing cards)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from service.cards import DataSet, read_card, write_card
from training.catalog import SPECS
from training.train import Tensors

MAX_FEATURES = 16  # wider inputs (MNIST's 784 pixels) are not put in a card


def shortest(values: np.ndarray) -> list[float]:
    """float32 values as the shortest decimals that round-trip through float32."""
    return [float(np.format_float_positional(v, unique=True)) for v in values.astype(np.float32)]


def rows(x: Tensors) -> tuple[list[list[float]], list[float]]:
    features = x.x.detach().cpu().numpy().reshape(len(x), -1)  # [N, F]
    return [shortest(row) for row in features], shortest(x.y.detach().cpu().numpy())


def card_data(train: Tensors, test: Tensors) -> DataSet | None:
    """The card's data set from the training and test tensors; None for wide inputs."""
    if train.x.reshape(len(train), -1).shape[1] > MAX_FEATURES:
        return None
    x, y = rows(train)
    same = train.x.shape == test.x.shape and bool((train.x == test.x).all())
    if same:
        return DataSet(description=f"the {len(train)} rows the model was trained on", x=x, y=y)
    validation_x, validation_y = rows(test)
    return DataSet(
        description=f"the {len(train)} training rows and {len(test)} held-out rows of the model",
        x=x,
        y=y,
        validation_x=validation_x,
        validation_y=validation_y,
    )


def add_card_data(version_dir: Path, train: Tensors, test: Tensors) -> None:
    """Re-write version_dir's card with its data set (its files and their sha256 unchanged)."""
    card = read_card(version_dir)
    write_card(version_dir, card.model_copy(update={"data": card_data(train, test)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training card-data", description=__doc__)
    parser.add_argument("name", choices=[*SPECS, "all"], help="model, or all")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="(%(default)s)")
    args = parser.parse_args(argv)
    for name in list(SPECS) if args.name == "all" else [args.name]:
        version_dir = args.models_dir / name / "1"
        if SPECS[name].inputs[0].shape[-1] > MAX_FEATURES or not version_dir.is_dir():
            print(f"{name}: skipped (no small data set, or no {version_dir})")
            continue
        prepared = SPECS[name].prepare(Path("."))
        add_card_data(version_dir, prepared.train, prepared.test)
        print(f"{name}: data set written into {version_dir / 'card.json'}")
    return 0
