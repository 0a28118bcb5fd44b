"""digit-gate: a sigmoid MLP 784-H-1 that tells a digit from a letter, a scribble or a shape.

POST /predict runs it on the 28x28 pieces it cut from an upload (service.images.gate decides
from its probabilities) and refuses text and drawings, which mnist-mlp would read as digits.
The network and its backpropagation are tiny-mlp's (training.lessons.tiny_mlp, the delta rule
of training.backprop.sigmoid_mlp), only wider: 784 pixels in, `hidden` sigmoid units.

Its data (training.gate_data): MNIST's training digits as they are, and the pieces the service
itself cuts from pictures of handwritten and typed numbers (marked digits), typed words and
scribbles (marked not digits), typed in a few faces made narrower, wider or oblique (so the
gate knows letters in faces it never saw). The held-out part: MNIST's test digits and the
pieces of pictures drawn with another seed, numbers written with MNIST's test digits, typed in
the faces as they are.
"""

from __future__ import annotations

import functools
from dataclasses import asdict
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from scipy import ndimage

from service.cards import Preprocessing
from training import data
from training.gate_data import GateSet, cut_set
from training.lessons.tiny_mlp import TinyMlp, TinyMlpConfig
from training.prepare import Prepared
from training.train import Tensors

HIDDEN = 256
PICTURES = 12_000
"""Pictures cut for training (a few minutes on one core); a quarter as many are held out."""
DRY_RUN_PICTURES = 24
TRAIN_SEED, TEST_SEED = 1, 2


def tensors(images: npt.NDArray[np.uint8], marks: npt.NDArray[np.float32]) -> Tensors:
    """Pieces [N, 28, 28] normalized as /predict sends them: float32 [N, 784], marks [N]."""
    x = images.reshape(len(images), -1).astype(np.float32) / 255.0
    x = (x - data.MNIST_MEAN) / data.MNIST_STD
    return Tensors(torch.from_numpy(x), torch.from_numpy(marks.astype(np.float32)))


def pens(mnist: npt.NDArray[np.uint8], seed: int) -> npt.NDArray[np.uint8]:
    """Half as many MNIST digits again, redrawn with other pens: two thirds thicker (a 2x2 or
    3x3 grey dilation), a third thinner (a 2x2 erosion); without them a bold 1 or 8 is refused."""
    rng = np.random.default_rng(seed)
    chosen = mnist[rng.choice(len(mnist), len(mnist) // 2, replace=False)]
    split = 2 * len(chosen) // 3
    thick = [ndimage.grey_dilation(d, size=(2 + k % 2,) * 2) for k, d in enumerate(chosen[:split])]
    thin = [ndimage.grey_erosion(d, size=(2, 2)) for d in chosen[split:]]
    return np.stack(thick + thin)


def with_mnist(cut: GateSet, mnist: npt.NDArray[np.uint8], seed: int) -> Tensors:
    """The cut pieces, MNIST's own digits (a 28x28 upload is read as it is) and the same with
    other pens, marked digits."""
    digits = np.concatenate([mnist, pens(mnist, seed)])
    marks = np.concatenate([cut.marks, np.ones(len(digits), np.float32)])
    return tensors(np.concatenate([cut.images, digits]), marks)


@functools.lru_cache(maxsize=2)
def gate_tensors(data_dir: Path, pictures: int) -> tuple[Tensors, Tensors]:
    """Training and held-out tensors; the held-out numbers use MNIST's test digits only."""
    train_images, _ = data.load_mnist(data_dir, train=True)
    test_images, _ = data.load_mnist(data_dir, train=False)
    train_cut = cut_set(train_images, pictures, TRAIN_SEED, other_faces=True)
    train = with_mnist(train_cut, train_images, TRAIN_SEED)
    test_cut = cut_set(test_images, max(1, pictures // 4), TEST_SEED)
    return train, with_mnist(test_cut, test_images, TEST_SEED)


def prepare_digit_gate(data_dir: Path, pictures: int = PICTURES) -> Prepared:
    config = TinyMlpConfig(inputs=784, hidden=HIDDEN)
    train, test = gate_tensors(data_dir, pictures)
    prep = Preprocessing(kind="mnist", mean=[data.MNIST_MEAN], std=[data.MNIST_STD])
    checksums = {**data.mnist_checksums(True), **data.mnist_checksums(False)}
    model_config = asdict(config) | {"pictures": pictures, "seeds": [TRAIN_SEED, TEST_SEED]}
    return Prepared(TinyMlp(config), model_config, train, test, prep, checksums)


prepare_dry_run = functools.partial(prepare_digit_gate, pictures=DRY_RUN_PICTURES)
