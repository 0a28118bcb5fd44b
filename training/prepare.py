"""A trained catalog entry's `prepare(data_dir)`: a freshly built model and its train/test tensors.

Models whose graph standardizes its input take the statistics from the training data here.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from service.cards import Preprocessing
from training import data, models
from training.backprop.polynomial import MAX_DEGREE
from training.data import Split
from training.lessons import polynomial_fit, tiny_mlp
from training.train import Tensors


@dataclass(frozen=True)
class Prepared:
    """A freshly initialised model with its data, ready for `train.fit`."""

    model: nn.Module
    model_config: dict[str, Any]
    train: Tensors
    test: Tensors
    preprocessing: Preprocessing
    data_sha256: dict[str, str]


@functools.lru_cache(maxsize=2)
def mnist_tensors(data_dir: Path) -> tuple[Tensors, Tensors]:
    """Train and test splits, normalized and flattened: float32 [N, 784], int64 labels [N]."""
    return _mnist_split(data_dir, train=True), _mnist_split(data_dir, train=False)


def _mnist_split(data_dir: Path, train: bool) -> Tensors:
    images, labels = data.load_mnist(data_dir, train)  # [N, 28, 28] uint8, [N] uint8
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32))  # [N, 784]
    x = (x / 255.0 - data.MNIST_MEAN) / data.MNIST_STD
    return Tensors(x, torch.from_numpy(labels.astype(np.int64)))


def _mnist_prepared(model: nn.Module, config: dict[str, Any], data_dir: Path) -> Prepared:
    train, test = mnist_tensors(data_dir)
    prep = Preprocessing(kind="mnist", mean=[data.MNIST_MEAN], std=[data.MNIST_STD])
    checksums = {**data.mnist_checksums(True), **data.mnist_checksums(False)}
    return Prepared(model, config, train, test, prep, checksums)


def prepare_mlp(data_dir: Path) -> Prepared:
    config = models.MlpConfig()
    return _mnist_prepared(models.MnistMlp(config), asdict(config), data_dir)


def prepare_softmax(data_dir: Path) -> Prepared:
    config = models.SoftmaxConfig()
    return _mnist_prepared(models.SoftmaxRegression(config), asdict(config), data_dir)


def _split_tensors(split: Split) -> tuple[Tensors, Tensors]:
    """A small data set's training and held-out parts as tensors."""
    train = Tensors(torch.from_numpy(split.x_train), torch.from_numpy(split.y_train))
    return train, Tensors(torch.from_numpy(split.x_test), torch.from_numpy(split.y_test))


def prepare_logistic(_: Path) -> Prepared:
    split = data.gaussian_blobs()
    config = models.LogisticConfig()
    train, test = _split_tensors(split)
    prep = Preprocessing(kind="none")
    model = models.LogisticRegression(config)
    return Prepared(model, asdict(config), train, test, prep, {"blobs": split.sha256()})


def prepare_linear(_: Path) -> Prepared:
    split = data.height_weight()
    mean, std = float(split.x_train.mean()), float(split.x_train.std())
    config = models.LinearConfig(mean=mean, std=std)
    train, test = _split_tensors(split)
    prep = Preprocessing(kind="standardize", mean=[mean], std=[std], in_graph=True)
    model = models.LinearRegression(config)
    return Prepared(model, asdict(config), train, test, prep, {"height-weight": split.sha256()})


def prepare_polynomial(_: Path, degree: int = 3) -> Prepared:
    split = data.noisy_cubic()
    x = torch.from_numpy(split.x_train)  # [N, 1]
    features = models.polynomial_features(x.double(), degree)  # [N, degree]
    mean = tuple(float(m) for m in features.mean(dim=0))
    std = tuple(float(s) for s in features.std(dim=0, correction=0))
    config = models.PolynomialConfig(degree=degree, mean=mean, std=std)
    train, test = _split_tensors(split)
    prep = Preprocessing(
        kind="standardize", mean=list(mean), std=list(std), degree=degree, in_graph=True
    )
    model = models.PolynomialRegression(config)
    return Prepared(model, asdict(config), train, test, prep, {"noisy-cubic": split.sha256()})


def prepare_tiny_mlp(_: Path) -> Prepared:
    split = tiny_mlp.xor_clusters()
    config = tiny_mlp.TinyMlpConfig()
    train, test = _split_tensors(split)
    model = tiny_mlp.TinyMlp(config)
    prep = Preprocessing(kind="none")
    return Prepared(model, asdict(config), train, test, prep, {"xor": split.sha256()})


def prepare_polynomial_fit(_: Path) -> Prepared:
    split = polynomial_fit.noisy_curve()
    config = polynomial_fit.PolynomialFitConfig()
    train, test = _split_tensors(split)
    prep = Preprocessing(kind="legendre", mean=[config.centre], std=[config.half_width],
                         degree=MAX_DEGREE, in_graph=True)  # fmt: skip
    model = polynomial_fit.PolynomialFit(config)
    return Prepared(model, asdict(config), train, test, prep, {"noisy-curve": split.sha256()})
