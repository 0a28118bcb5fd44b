"""Oracles for the lessons' hand-written backward passes: the sigmoid MLP's delta rule, the
Legendre polynomial fit with its degree mask, and the two-minima function.

Each gradient against torch.autograd on an independent torch.nn.functional loss (float64)
and against central differences of the step's own loss (float64), each parameter named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.polynomial import legendre
from torch import Tensor

from tests.training.oracles import (
    assert_gradients_equal_autograd,
    assert_gradients_equal_central_differences,
    assert_one_sgd_step,
)
from training.backprop.polynomial import PolynomialFitStep, legendre_features
from training.backprop.sigmoid_mlp import TinyMLPStep
from training.backprop.steps import StepGraph
from training.backprop.two_minima import TwoMinimaStep, two_minima_value

M = 9
LR = 0.05
L2 = 0.4
HIDDEN = 4


@dataclass
class Case:
    step: StepGraph
    params: dict[str, Tensor]
    data: tuple[Tensor, ...]  # x, y (none for a function)
    options: tuple[Tensor, ...]  # inputs after learning_rate and l2 (the degree)
    reference: Callable[..., Tensor]  # (params..., *data, l2) -> loss, autograd-able


def _l2(l2: float, m: int, *weights: Tensor) -> Tensor:
    return l2 / (2 * m) * sum((w**2).sum() for w in weights)


def tiny_mlp_case(gen: torch.Generator) -> Case:
    def reference(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, y: Tensor,
                  l2: float) -> Tensor:  # fmt: skip
        hidden = torch.sigmoid(F.linear(x, w1, b1))
        logit = F.linear(hidden, w2, b2)[:, 0]
        return F.binary_cross_entropy_with_logits(logit, y) + _l2(l2, len(x), w1, w2)

    f64 = torch.float64
    params = {
        "hidden.weight": torch.randn(HIDDEN, 2, generator=gen, dtype=f64),
        "hidden.bias": torch.randn(HIDDEN, generator=gen, dtype=f64),
        "output.weight": torch.randn(1, HIDDEN, generator=gen, dtype=f64),
        "output.bias": torch.randn(1, generator=gen, dtype=f64),
    }
    x = 2 * torch.randn(M, 2, generator=gen, dtype=f64)
    y = torch.randint(0, 2, (M,), generator=gen).to(f64)
    return Case(TinyMLPStep(), params, (x, y), (), reference)


def polynomial_case(gen: torch.Generator, degree: int = 5) -> Case:
    centre, half_width = 0.5, 3.0

    def reference(w: Tensor, b: Tensor, x: Tensor, y: Tensor, l2: float) -> Tensor:
        t = ((x[:, 0] - centre) / half_width).numpy()
        basis = legendre.legvander(t, 9)[:, 1:] * np.sqrt(2 * np.arange(1, 10) + 1)
        h = torch.from_numpy(basis[:, :degree])  # numpy's Legendre, not the graph's recursion
        v = w[:, :degree]
        return F.mse_loss(F.linear(h, v, b)[:, 0], y) + _l2(l2, len(x), v)

    f64 = torch.float64
    params = {
        "linear.weight": torch.randn(1, 9, generator=gen, dtype=f64),
        "linear.bias": torch.randn(1, generator=gen, dtype=f64),
    }
    x = centre + half_width * (2 * torch.rand(M, 1, generator=gen, dtype=f64) - 1)
    y = torch.randn(M, generator=gen, dtype=f64)
    degree_input = torch.tensor(degree, dtype=torch.int64)
    return Case(PolynomialFitStep(centre, half_width), params, (x, y), (degree_input,), reference)


def two_minima_case(gen: torch.Generator) -> Case:
    def reference(p: Tensor, l2: float) -> Tensor:
        return ((p**2 - 1) ** 2 + 0.5 * p).sum() + l2 / 2 * (p**2).sum()

    point = 4 * torch.rand(1, generator=gen, dtype=torch.float64) - 2
    return Case(TwoMinimaStep(), {"point": point}, (), (), reference)


CASES: dict[str, Callable[[torch.Generator], Case]] = {
    "tiny-mlp": tiny_mlp_case,
    "polynomial-fit": polynomial_case,
    "two-minima": two_minima_case,
}


def run_step(
    case: Case, params: dict[str, Tensor] | None = None, l2: float = L2
) -> dict[str, Tensor]:
    """The step module's outputs by their ONNX names."""
    values = case.params if params is None else params
    scalars = (torch.tensor(LR, dtype=torch.float64), torch.tensor(l2, dtype=torch.float64))
    outputs = case.step(*values.values(), *case.data, *scalars, *case.options)
    return dict(zip(case.step.output_names(), outputs, strict=True))


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_equal_autograd(name: str) -> None:
    case = CASES[name](torch.Generator().manual_seed(1))
    got = run_step(case)
    assert_gradients_equal_autograd(name, case, got, L2, (1e-10, 1e-12), (1e-9, 1e-12))


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_equal_central_differences(name: str) -> None:
    """dL/dp_i ~ (L(p + eps e_i) - L(p - eps e_i)) / 2 eps, every entry of every parameter."""
    case = CASES[name](torch.Generator().manual_seed(2))
    assert_gradients_equal_central_differences(
        name, case.params, run_step(case), lambda params: float(run_step(case, params)["loss"]),
        range, (1e-6, 1e-8),
    )  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_updated_parameters_are_one_sgd_step(name: str) -> None:
    case = CASES[name](torch.Generator().manual_seed(3))
    assert_one_sgd_step(name, case.params, run_step(case), LR)


def test_tiny_mlp_reports_its_probability_at_the_fed_parameters() -> None:
    case = tiny_mlp_case(torch.Generator().manual_seed(4))
    p = case.params
    hidden = torch.sigmoid(F.linear(case.data[0], p["hidden.weight"], p["hidden.bias"]))
    want = torch.sigmoid(F.linear(hidden, p["output.weight"], p["output.bias"]))
    torch.testing.assert_close(run_step(case)["probability"], want)


def test_tiny_mlp_from_zeros_keeps_every_hidden_unit_identical() -> None:
    """The symmetry: equal rows of W1 and equal entries of W2 after any number of steps."""
    case = tiny_mlp_case(torch.Generator().manual_seed(5))
    params = {name: torch.zeros_like(value) for name, value in case.params.items()}
    for _ in range(200):
        out = run_step(case, params, l2=0.0)
        params = {name: out[f"next.{name}"] for name in params}
    w1, w2 = params["hidden.weight"], params["output.weight"]
    assert float(w1.abs().max()) > 1e-3, "the walk from zeros never moved"
    assert torch.equal(w1, w1[:1].expand_as(w1)), f"hidden units differ: {w1}"
    assert torch.equal(w2, w2[:, :1].expand_as(w2)), f"output weights differ: {w2}"


def test_legendre_features_are_numpys_normalized_legendre_polynomials() -> None:
    x = torch.linspace(-4.0, 6.0, 23, dtype=torch.float64).unsqueeze(1)
    t = ((x[:, 0] - 1.0) / 5.0).numpy()
    want = legendre.legvander(t, 9)[:, 1:] * np.sqrt(2 * np.arange(1, 10) + 1)
    np.testing.assert_allclose(legendre_features(x, 1.0, 5.0).numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("degree", [1, 3, 9])
def test_polynomial_weights_above_the_degree_get_no_gradient(degree: int) -> None:
    case = polynomial_case(torch.Generator().manual_seed(6), degree)
    grad = run_step(case)["grad.linear.weight"][0]
    assert torch.all(grad[degree:] == 0), f"degree {degree}: grad above it {grad[degree:]}"
    assert torch.all(grad[:degree] != 0), f"degree {degree}: a zero gradient below it {grad}"


def test_two_minima_from_minus_two_and_plus_two_end_in_different_minima() -> None:
    ends = []
    for start in (-2.0, 2.0):
        case = Case(TwoMinimaStep(), {"point": torch.tensor([start])}, (), (), two_minima_case)
        for _ in range(300):
            case.params = {"point": run_step(case, l2=0.0)["next.point"]}
        ends.append(float(case.params["point"][0]))
    assert ends == [pytest.approx(-1.0574538, abs=1e-5), pytest.approx(0.9304029, abs=1e-5)]
    assert float(two_minima_value(torch.tensor(ends[0]))) < float(
        two_minima_value(torch.tensor(ends[1]))
    )
