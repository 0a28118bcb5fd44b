"""Measure the fast data path against a per-sample DataLoader-style loop.

    python -m benchmarks.data_path --batches 60

Both deliver the same thing per batch: 256 normalized MNIST images, randomly shifted,
rotated, scaled and sheared, with their labels. The per-sample loop is what a
torchvision-style pipeline does: Dataset.__getitem__ converts and transforms one image, the
DataLoader collates; the fast path fancy-indexes whole-dataset tensors and transforms the
batch with one affine_grid/grid_sample. Reported as images/s, data alone and with a training
step of the MLP, together with the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset

from training.augment import AffineConfig, random_affine
from training.data import MNIST_MEAN, MNIST_STD, default_data_dir, load_mnist
from training.models import MnistMlp
from training.prepare import mnist_tensors

Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


class PerSampleMnist(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """uint8 images, converted, normalized and augmented one at a time in __getitem__."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, seed: int) -> None:
        self.images, self.labels = images, labels
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = torch.from_numpy(self.images[index].astype(np.float32) / 255.0)  # [28, 28]
        image = ((image - MNIST_MEAN) / MNIST_STD).reshape(1, 784)  # [1, 784]
        image = random_affine(image, AffineConfig(), self.generator)  # a batch of one
        return image[0], torch.tensor(int(self.labels[index]))


def per_sample(data_dir: Path, batch_size: int) -> Batches:
    images, labels = load_mnist(data_dir, train=True)
    loader = DataLoader(PerSampleMnist(images, labels, 0), batch_size=batch_size, shuffle=True)
    yield from loader


def fast_path(data_dir: Path, batch_size: int) -> Batches:
    train, _ = mnist_tensors(data_dir)
    generator = torch.Generator().manual_seed(0)
    for indices in torch.randperm(len(train), generator=generator).split(batch_size):
        yield random_affine(train.x[indices], AffineConfig(), generator), train.y[indices]


def images_per_s(batches: Batches, count: int, step: Callable[..., None] | None) -> float:
    next(batches)  # warm-up (and the one-off loading, which is not what is measured)
    started, seen = time.perf_counter(), 0
    for _, (x, y) in zip(range(count), batches, strict=False):
        if step is not None:
            step(x, y)
        seen += len(x)
    return seen / (time.perf_counter() - started)


def training_step() -> Callable[[torch.Tensor, torch.Tensor], None]:
    model = MnistMlp()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        loss = F.cross_entropy(model(x)[0], y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--batches", type=int, default=60, help="batches timed per run")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for label, step in (("data only", None), ("data + MLP step", training_step())):
        slow = images_per_s(per_sample(args.data_dir, args.batch_size), args.batches, step)
        fast = images_per_s(fast_path(args.data_dir, args.batch_size), args.batches, step)
        load = Path("/proc/loadavg").read_text().split()[0]
        print(
            f"{label}: per-sample {slow:,.0f} images/s, fast path {fast:,.0f} images/s, "
            f"speed-up {fast / slow:.1f}x (load average {load})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
