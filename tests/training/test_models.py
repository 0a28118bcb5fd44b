"""Each model's forward: the contract's outputs, their shapes, and its parameter names."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.training.contract import IO, PARAMETERS
from training import models

MODELS: dict[str, nn.Module] = {
    "mnist-mlp": models.MnistMlp(),
    "mnist-softmax": models.SoftmaxRegression(),
    "logistic-regression": models.LogisticRegression(),
    "linear-regression": models.LinearRegression(models.LinearConfig(mean=55.0, std=6.5)),
    "polynomial-regression": models.PolynomialRegression(),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_forward_shapes(name: str) -> None:
    inputs, outputs = IO[name]
    features = inputs["input"][1]
    model = MODELS[name].eval()
    with torch.no_grad():
        result = model(torch.randn(5, features))
    assert [list(out.shape) for out in result] == [[5, s[1]] for s in outputs.values()]


@pytest.mark.parametrize("name", list(MODELS))
def test_parameter_names_are_the_contract(name: str) -> None:
    state = {key: list(value.shape) for key, value in MODELS[name].state_dict().items()}
    assert state == PARAMETERS[name]


def test_probabilities_are_softmax_and_sigmoid_of_the_logits() -> None:
    x = torch.randn(4, 784)
    logits, probabilities = models.MnistMlp().eval()(x)
    torch.testing.assert_close(probabilities, torch.softmax(logits, dim=1))
    logit, probability = models.LogisticRegression()(torch.randn(4, 2))
    torch.testing.assert_close(probability, torch.sigmoid(logit))


def test_linear_regression_standardizes_inside() -> None:
    model = models.LinearRegression(models.LinearConfig(mean=50.0, std=5.0))
    with torch.no_grad():
        model.linear.weight.fill_(2.0)
        model.linear.bias.fill_(1.0)
    (prediction,) = model(torch.tensor([[60.0]]))
    assert prediction.item() == pytest.approx(2.0 * (60.0 - 50.0) / 5.0 + 1.0)


def test_polynomial_features_and_config_check() -> None:
    x = torch.tensor([[2.0], [-1.0]])
    expected = torch.tensor([[2.0, 4.0, 8.0], [-1.0, 1.0, -1.0]])
    torch.testing.assert_close(models.polynomial_features(x, 3), expected)
    with pytest.raises(ValueError, match="need 2 means and stds"):
        models.PolynomialRegression(models.PolynomialConfig(degree=2))
