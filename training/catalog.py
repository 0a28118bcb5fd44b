"""The five models nnserve trains: their contract I/O, data, and default hyper-parameters.

`prepare(spec, data_dir)` builds a model and its train/test tensors; models whose graph
standardizes its input take the statistics from the training data here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from service.cards import Preprocessing, Task, TensorSpec
from training import data, models
from training.augment import AffineConfig
from training.backprop.polynomial import MAX_DEGREE
from training.data import Split
from training.lessons import polynomial_fit, tiny_mlp
from training.train import Tensors, TrainConfig

DIGITS = [str(d) for d in range(10)]


@dataclass(frozen=True)
class Prepared:
    """A freshly initialised model with its data, ready for `train.fit`."""

    model: nn.Module
    model_config: dict[str, Any]
    train: Tensors
    test: Tensors
    preprocessing: Preprocessing
    data_sha256: dict[str, str]


@dataclass(frozen=True)
class ModelSpec:
    """One public model: name, contract tensors and how to train it."""

    name: str
    task: Task
    description: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    labels: list[str]
    defaults: TrainConfig
    prepare: Callable[[Path], Prepared]


def _spec(name: str, shape: int) -> TensorSpec:
    return TensorSpec(name=name, shape=[-1, shape])


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


def _tensors(x: np.ndarray, y: np.ndarray) -> Tensors:
    return Tensors(torch.from_numpy(x), torch.from_numpy(y))


def prepare_logistic(_: Path) -> Prepared:
    split = data.gaussian_blobs()
    config = models.LogisticConfig()
    train, test = _tensors(split.x_train, split.y_train), _tensors(split.x_test, split.y_test)
    prep = Preprocessing(kind="none")
    model = models.LogisticRegression(config)
    return Prepared(model, asdict(config), train, test, prep, {"blobs": split.sha256()})


def prepare_linear(_: Path) -> Prepared:
    split = data.height_weight()
    mean, std = float(split.x_train.mean()), float(split.x_train.std())
    config = models.LinearConfig(mean=mean, std=std)
    train, test = _tensors(split.x_train, split.y_train), _tensors(split.x_test, split.y_test)
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
    train, test = _tensors(split.x_train, split.y_train), _tensors(split.x_test, split.y_test)
    prep = Preprocessing(
        kind="standardize", mean=list(mean), std=list(std), degree=degree, in_graph=True
    )
    model = models.PolynomialRegression(config)
    return Prepared(model, asdict(config), train, test, prep, {"noisy-cubic": split.sha256()})


def prepare_tiny_mlp(_: Path) -> Prepared:
    data = tiny_mlp.xor_clusters()
    config = tiny_mlp.TinyMlpConfig()
    train, test = (
        _tensors(data.x_train, data.y_train),
        _tensors(data.x_validation, data.y_validation),
    )
    model = tiny_mlp.TinyMlp(config)
    digest = Split(data.x_train, data.y_train, data.x_validation, data.y_validation).sha256()
    return Prepared(model, asdict(config), train, test, Preprocessing(kind="none"), {"xor": digest})


def prepare_polynomial_fit(_: Path) -> Prepared:
    data = polynomial_fit.noisy_curve()
    config = polynomial_fit.PolynomialFitConfig()
    train, test = (
        _tensors(data.x_train, data.y_train),
        _tensors(data.x_validation, data.y_validation),
    )
    prep = Preprocessing(kind="legendre", mean=[config.centre], std=[config.half_width],
                         degree=MAX_DEGREE, in_graph=True)  # fmt: skip
    digest = Split(data.x_train, data.y_train, data.x_validation, data.y_validation).sha256()
    model = polynomial_fit.PolynomialFit(config)
    return Prepared(model, asdict(config), train, test, prep, {"noisy-curve": digest})


MNIST_IN = [_spec("input", 784)]
CLASS_OUT = [_spec("logits", 10), _spec("probabilities", 10)]
REGRESSION_OUT = [_spec("prediction", 1)]

SPECS = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "mnist-mlp",
            "classification",
            "MNIST digit classifier: MLP 784-512-256-10 with ReLU, trained with random affine "
            "augmentation, AdamW and a one-cycle schedule.",
            MNIST_IN,
            CLASS_OUT,
            DIGITS,
            TrainConfig(
                epochs=20,
                batch_size=256,
                lr=3e-3,
                weight_decay=1e-4,
                one_cycle=True,
                augment=AffineConfig(),
            ),
            prepare_mlp,
        ),
        ModelSpec(
            "mnist-softmax",
            "classification",
            "MNIST softmax regression: one linear layer 784-10 and a softmax.",
            MNIST_IN,
            CLASS_OUT,
            DIGITS,
            TrainConfig(epochs=5, batch_size=128, lr=2e-3, one_cycle=True),
            prepare_softmax,
        ),
        ModelSpec(
            "logistic-regression",
            "binary-classification",
            "Binary logistic regression on two features (x1, x2): two overlapping Gaussian "
            "blobs generated with a fixed seed.",
            [_spec("input", 2)],
            [_spec("logit", 1), _spec("probability", 1)],
            ["0", "1"],
            TrainConfig(epochs=500, batch_size=1000, lr=1.0, optimizer="sgd"),
            prepare_logistic,
        ),
        ModelSpec(
            "linear-regression",
            "regression",
            "Height (cm) from weight (kg), least squares on eight people; the graph "
            "standardizes the weight.",
            [_spec("input", 1)],
            REGRESSION_OUT,
            [],
            TrainConfig(epochs=200, batch_size=8, lr=0.25, optimizer="sgd"),
            prepare_linear,
        ),
        ModelSpec(
            "polynomial-regression",
            "regression",
            "Cubic polynomial regression on a noisy cubic: the graph computes x, x^2, x^3, "
            "standardizes them and applies a linear layer.",
            [_spec("input", 1)],
            REGRESSION_OUT,
            [],
            TrainConfig(epochs=1000, batch_size=1000, lr=0.25, optimizer="sgd"),
            prepare_polynomial,
        ),
        ModelSpec(
            "tiny-mlp",
            "binary-classification",
            "Sigmoid MLP 2-4-1 on XOR-like clusters a straight line cannot separate: the notes' "
            "backpropagation (delta rule) and the zero-start symmetry.",
            [_spec("input", 2)],
            [_spec("logit", 1), _spec("probability", 1)],
            ["0", "1"],
            TrainConfig(epochs=1500, batch_size=120, lr=0.05, optimizer="adamw"),
            prepare_tiny_mlp,
        ),
        ModelSpec(
            "polynomial-fit",
            "regression",
            "Polynomial regression on 11 noisy points with 10 held out: orthonormal Legendre "
            "features of x / 3, degree 1-9 chosen per gradient step (trained at degree 3).",
            [_spec("input", 1)],
            REGRESSION_OUT,
            [],
            TrainConfig(epochs=3000, batch_size=11, lr=0.05, optimizer="sgd"),
            prepare_polynomial_fit,
        ),
    )
}
