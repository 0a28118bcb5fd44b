"""A batch of MNIST digits in mnist-softmax's card, for the page's softmax lesson.

The page steps softmax regression on these digits (a request without x and y uses them) and
draws its ten weight rows as 28x28 pictures. 784 numbers a row keep MNIST out of cards by
default (training.card_data); this small batch, the first of each digit in the test set,
is the exception. Pixels are MNIST-normalized as the step graph takes them.

    python -m training.lessons.mnist_batch [--models-dir models] [--data-dir ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from service.cards import DataSet, read_card, write_card
from training.card_data import shortest
from training.data import MNIST_MEAN, MNIST_STD, default_data_dir, load_mnist

NAME = "mnist-softmax"
PER_DIGIT = 1


def digit_batch(data_dir: Path) -> DataSet:
    """The first PER_DIGIT test images of each digit 0..9, normalized, in digit order."""
    images, labels = load_mnist(data_dir, train=False)  # [N, 28, 28] uint8, [N]
    chosen = [i for d in range(10) for i in np.flatnonzero(labels == d)[:PER_DIGIT]]
    x = (images[chosen].reshape(len(chosen), -1) / np.float32(255.0) - MNIST_MEAN) / MNIST_STD
    return DataSet(
        description=f"the first {PER_DIGIT} test images of each digit, MNIST-normalized",
        x=[shortest(row) for row in x.astype(np.float32)],
        y=[float(labels[i]) for i in chosen],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.lessons.mnist_batch")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="(%(default)s)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="MNIST")
    args = parser.parse_args(argv)
    version_dir = args.models_dir / NAME / "1"
    card = read_card(version_dir)
    write_card(version_dir, card.model_copy(update={"data": digit_batch(args.data_dir)}))
    print(f"{NAME}: {PER_DIGIT * 10} digits written into {version_dir / 'card.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
