"""The training loop: train_epoch, evaluate, fit.

Fast data path: the whole dataset sits in memory as two tensors; an epoch is a random
permutation split into index batches, and a batch is one fancy-index (plus one batched
augmentation), so no Python code runs per sample.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from tqdm import tqdm

from training.augment import AffineConfig, random_affine

Batch = Callable[[Tensor, Tensor], Tensor]
EPOCH_LINES_UP_TO = 30  # above this, no line per epoch (the bar shows them) unless verbose


@dataclass(frozen=True)
class Tensors:
    """A dataset as two tensors: inputs [N, F] and targets [N]."""

    x: Tensor
    y: Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def to(self, device: torch.device) -> Tensors:
        return Tensors(self.x.to(device), self.y.to(device))


@dataclass(frozen=True)
class Objective:
    """A task's loss on the model's first output, and its count of correct predictions."""

    loss: Batch
    correct: Batch | None


def _binary_loss(logit: Tensor, y: Tensor) -> Tensor:
    return F.binary_cross_entropy_with_logits(logit.squeeze(1), y)


def _binary_correct(logit: Tensor, y: Tensor) -> Tensor:
    return ((logit.squeeze(1) > 0) == (y > 0.5)).sum()


def _mse(prediction: Tensor, y: Tensor) -> Tensor:
    return F.mse_loss(prediction.squeeze(1), y)


OBJECTIVES = {
    "classification": Objective(F.cross_entropy, lambda z, y: (z.argmax(dim=1) == y).sum()),
    "binary-classification": Objective(_binary_loss, _binary_correct),
    "regression": Objective(_mse, None),
}


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one run; recorded verbatim in the card."""

    epochs: int
    batch_size: int
    lr: float
    optimizer: Literal["sgd", "adamw"] = "adamw"
    weight_decay: float = 0.0
    one_cycle: bool = False
    augment: AffineConfig | None = None
    max_batches: int | None = None  # --dry-run: stop each epoch after this many batches


@dataclass
class History:
    """Per-epoch figures, for the curve and the card."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    epoch_time_s: list[float] = field(default_factory=list)
    samples: int = 0

    def record(self, train: tuple[float, float], test: tuple[float, float]) -> None:
        """One epoch's (loss, accuracy) on the training and the test set."""
        self.train_loss.append(train[0])
        self.train_accuracy.append(train[1])
        self.test_loss.append(test[0])
        self.test_accuracy.append(test[1])

    def postfix(self) -> dict[str, str]:
        """The progress bar's figures: the latest loss, and accuracies for a classifier."""
        figures = {"loss": f"{self.train_loss[-1]:.4f}"}
        if not math.isnan(self.test_accuracy[-1]):
            figures |= {"acc": f"{self.train_accuracy[-1]:.4f}",
                        "test acc": f"{self.test_accuracy[-1]:.4f}"}  # fmt: skip
        else:
            figures["test loss"] = f"{self.test_loss[-1]:.4f}"
        return figures


def index_batches(n: int, batch_size: int, generator: torch.Generator) -> tuple[Tensor, ...]:
    """A fresh random permutation of range(n), split into batches of indices."""
    return torch.randperm(n, generator=generator).split(batch_size)


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    if not config.one_cycle:
        return None
    total = config.epochs * steps_per_epoch
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total)


def train_epoch(
    model: nn.Module,
    data: Tensors,
    objective: Objective,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    config: TrainConfig,
    generator: torch.Generator,
    batches: Sequence[Tensor],
) -> tuple[float, float]:
    """One pass over shuffled index batches; returns (mean loss, accuracy or nan)."""
    model.train()
    loss_sum, correct, seen = torch.zeros(()), torch.zeros(()), 0
    for indices in batches:
        x, y = data.x[indices.to(data.x.device)], data.y[indices.to(data.y.device)]
        if config.augment is not None:
            x = random_affine(x, config.augment, generator)
        output = model(x)[0]
        loss = objective.loss(output, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        loss_sum += loss.detach().cpu() * len(indices)
        if objective.correct is not None:
            correct += objective.correct(output.detach(), y).cpu()
        seen += len(indices)
    accuracy = correct.item() / seen if objective.correct is not None else float("nan")
    return loss_sum.item() / seen, accuracy


@torch.no_grad()
def evaluate(
    model: nn.Module, data: Tensors, objective: Objective, batch_size: int = 10_000
) -> tuple[float, float]:
    """Mean loss and accuracy (nan for regression) over the whole dataset, in eval mode."""
    model.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(data), batch_size):
        x, y = data.x[start : start + batch_size], data.y[start : start + batch_size]
        output = model(x)[0]
        loss_sum += objective.loss(output, y).item() * len(x)
        if objective.correct is not None:
            correct += int(objective.correct(output, y).item())
    accuracy = correct / len(data) if objective.correct is not None else float("nan")
    return loss_sum / len(data), accuracy


def fit(
    model: nn.Module,
    train: Tensors,
    test: Tensors,
    objective: Objective,
    config: TrainConfig,
    seed: int,
    label: str = "",
    verbose: bool = False,
) -> History:
    """Train for config.epochs, evaluating on `test` after each: one progress bar over the
    epochs (the latest figures in its postfix) and, when epochs are few or verbose, a line each."""
    generator = torch.Generator().manual_seed(seed)
    per_epoch = math.ceil(len(train) / config.batch_size)
    steps = min(per_epoch, config.max_batches or per_epoch)
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config, steps)
    history = History()
    lines = verbose or config.epochs <= EPOCH_LINES_UP_TO
    bar = tqdm(range(1, config.epochs + 1), desc=label, unit="epoch", mininterval=1)
    for epoch in bar:
        started = time.perf_counter()
        batches = index_batches(len(train), config.batch_size, generator)[:steps]
        figures = train_epoch(model, train, objective, optimizer, scheduler, config, generator,
                              batches)  # fmt: skip
        history.epoch_time_s.append(time.perf_counter() - started)
        history.samples += sum(len(b) for b in batches)
        history.record(figures, evaluate(model, test, objective))
        bar.set_postfix(history.postfix(), refresh=False)
        if lines:
            bar.write(_epoch_line(label, epoch, config.epochs, history))
    bar.close()
    return history


def _epoch_line(label: str, epoch: int, epochs: int, history: History) -> str:
    line = f"{label} epoch {epoch}/{epochs} loss {history.train_loss[-1]:.4f}"
    if history.test_accuracy[-1] == history.test_accuracy[-1]:  # not nan
        line += f" acc {history.train_accuracy[-1]:.4f} test acc {history.test_accuracy[-1]:.4f}"
    else:
        line += f" test loss {history.test_loss[-1]:.4f}"
    return line + f" ({history.epoch_time_s[-1]:.1f}s)"
