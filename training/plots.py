"""Training-curve pictures (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt

from training.train import History


def plot_curve(history: History, title: str, path: Path) -> Path:
    """Loss per epoch (train and test) and, for classifiers, accuracy per epoch, as a PNG."""
    epochs = range(1, len(history.train_loss) + 1)
    has_accuracy = not all(math.isnan(a) for a in history.test_accuracy)
    fig, axes = plt.subplots(1, 2 if has_accuracy else 1, figsize=(8 if has_accuracy else 4.5, 3))
    loss_axis = axes[0] if has_accuracy else axes
    loss_axis.plot(epochs, history.train_loss, label="train")
    loss_axis.plot(epochs, history.test_loss, label="test")
    loss_axis.set(xlabel="epoch", ylabel="loss", yscale="log")
    loss_axis.legend()
    if has_accuracy:
        axes[1].plot(epochs, history.train_accuracy, label="train")
        axes[1].plot(epochs, history.test_accuracy, label="test")
        axes[1].set(xlabel="epoch", ylabel="accuracy")
        axes[1].legend()
    fig.suptitle(title)
    fig.tight_layout()
    # Fixed metadata keeps the PNG's bytes (and so its sha256) a function of the curve alone.
    fig.savefig(path, dpi=72, metadata={"Software": None})
    plt.close(fig)
    return path
