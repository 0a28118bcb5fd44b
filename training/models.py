"""The five trained models, each an nn.Module with a dataclass config.

Parameter names are public API (the contract): they are the state_dict keys, the ONNX
initializer names and the inputs of step.onnx. Every forward returns the contract's outputs
as a tuple, in the contract's order, so the exported graph is the module itself; training
uses the first output (logits, logit or prediction).

Constants such as standardization statistics are plain Python numbers or non-persistent
buffers, never parameters: the state_dict holds only what training changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F


@dataclass(frozen=True)
class MlpConfig:
    """784 -> hidden[0] -> hidden[1] -> 10, ReLU between, optional dropout after each (off: the
    augmentation regularizes enough; measured 99.17% without vs 99.09% with 0.1 at 20 epochs)."""

    inputs: int = 784
    hidden: tuple[int, int] = (512, 256)
    classes: int = 10
    dropout: float = 0.0


class MnistMlp(nn.Module):
    """Two hidden ReLU layers; outputs (logits, probabilities)."""

    def __init__(self, config: MlpConfig = MlpConfig()) -> None:
        super().__init__()
        self.fc1 = nn.Linear(config.inputs, config.hidden[0])
        self.fc2 = nn.Linear(config.hidden[0], config.hidden[1])
        self.fc3 = nn.Linear(config.hidden[1], config.classes)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h1 = self.dropout(F.relu(self.fc1(x)))  # [B, 512]
        h2 = self.dropout(F.relu(self.fc2(h1)))  # [B, 256]
        logits = self.fc3(h2)  # [B, 10]
        return logits, torch.softmax(logits, dim=1)


@dataclass(frozen=True)
class SoftmaxConfig:
    """Multinomial logistic regression: one affine map from pixels to class scores."""

    inputs: int = 784
    classes: int = 10


class SoftmaxRegression(nn.Module):
    """softmax(W x + b); outputs (logits, probabilities)."""

    def __init__(self, config: SoftmaxConfig = SoftmaxConfig()) -> None:
        super().__init__()
        self.linear = nn.Linear(config.inputs, config.classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        logits = self.linear(x)  # [B, 10]
        return logits, torch.softmax(logits, dim=1)


@dataclass(frozen=True)
class LogisticConfig:
    """Binary logistic regression on two features."""

    inputs: int = 2


class LogisticRegression(nn.Module):
    """P(class 1 | x) = sigmoid(w . x + b); outputs (logit, probability)."""

    def __init__(self, config: LogisticConfig = LogisticConfig()) -> None:
        super().__init__()
        self.linear = nn.Linear(config.inputs, 1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        logit = self.linear(x)  # [B, 1]
        return logit, torch.sigmoid(logit)


@dataclass(frozen=True)
class LinearConfig:
    """y = w (x - mean) / std + b; mean and std come from the training data."""

    mean: float = 0.0
    std: float = 1.0


class LinearRegression(nn.Module):
    """One feature, standardized inside the graph so callers send raw x; outputs (prediction,).

    The parameters live in standardized space: raw slope = w / std,
    raw intercept = b - w * mean / std.
    """

    def __init__(self, config: LinearConfig = LinearConfig()) -> None:
        super().__init__()
        self.config = config
        self.linear = nn.Linear(1, 1)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        z = (x - self.config.mean) / self.config.std  # [B, 1]
        return (self.linear(z),)  # [B, 1]


def polynomial_features(x: Tensor, degree: int) -> Tensor:
    """[B, 1] -> [B, degree]: x, x^2, ..., x^degree (no constant column: the bias is one)."""
    return torch.cat([x**power for power in range(1, degree + 1)], dim=1)


@dataclass(frozen=True)
class PolynomialConfig:
    """Linear model on standardized powers of x; mean/std per power from the training data."""

    degree: int = 3
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)
    std: tuple[float, ...] = (1.0, 1.0, 1.0)


class PolynomialRegression(nn.Module):
    """prediction = linear((features(x) - mean) / std); outputs (prediction,)."""

    feature_mean: Tensor  # [degree]
    feature_std: Tensor  # [degree]

    def __init__(self, config: PolynomialConfig = PolynomialConfig()) -> None:
        super().__init__()
        if not len(config.mean) == len(config.std) == config.degree:
            raise ValueError(f"need {config.degree} means and stds, one per power of x")
        self.degree = config.degree
        self.linear = nn.Linear(config.degree, 1)
        # Non-persistent: constants of the graph, not state (the state_dict holds parameters).
        self.register_buffer("feature_mean", torch.tensor(config.mean), persistent=False)
        self.register_buffer("feature_std", torch.tensor(config.std), persistent=False)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        features = polynomial_features(x, self.degree)  # [B, degree]
        z = (features - self.feature_mean) / self.feature_std  # [B, degree]
        return (self.linear(z),)  # [B, 1]
