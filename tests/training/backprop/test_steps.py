"""Oracles for the hand-written backward passes of training.backprop.steps.

Every gradient is compared with torch.autograd on an independent torch.nn.functional loss
(float32, rtol 1e-4) and with central differences of the step's own loss (float64), and
every updated parameter with a manual SGD step. No ONNX here: see test_step_export.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from tests.training.oracles import (
    assert_gradients_equal_autograd,
    assert_gradients_equal_central_differences,
    assert_one_sgd_step,
)
from training.backprop.steps import (
    LogisticStep,
    MLPStep,
    QuadraticBowlStep,
    RegressionStep,
    SoftmaxStep,
    StepGraph,
)

M = 7
LR = 0.05
L2 = 0.3


@dataclass
class Case:
    """A step module, random inputs for it, and the textbook loss to differentiate."""

    step: StepGraph
    params: dict[str, Tensor]
    data: tuple[Tensor, ...]
    reference: Callable[..., Tensor]  # (params..., *data, l2) -> loss, autograd-able


def _poly(x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    return (torch.cat([x**k for k in range(1, len(mean) + 1)], dim=1) - mean) / std


def _l2(l2: float, m: int, *weights: Tensor) -> Tensor:
    return l2 / (2 * m) * sum((w**2).sum() for w in weights)


def regression_case(gen: torch.Generator, dtype: torch.dtype, degree: int) -> Case:
    mean = [0.5 * k for k in range(1, degree + 1)]
    std = [1.0 + 0.5 * k for k in range(1, degree + 1)]
    step = RegressionStep(mean, std).to(dtype)
    mu, sigma = torch.tensor(mean, dtype=dtype), torch.tensor(std, dtype=dtype)

    def reference(w: Tensor, b: Tensor, x: Tensor, y: Tensor, l2: float) -> Tensor:
        y_hat = F.linear(_poly(x, mu, sigma), w, b)
        return F.mse_loss(y_hat[:, 0], y) + _l2(l2, len(x), w)

    params = {"linear.weight": torch.randn(1, degree, generator=gen, dtype=dtype)}
    params["linear.bias"] = torch.randn(1, generator=gen, dtype=dtype)
    x = torch.randn(M, 1, generator=gen, dtype=dtype)
    return Case(step, params, (x, torch.randn(M, generator=gen, dtype=dtype)), reference)


def logistic_case(gen: torch.Generator, dtype: torch.dtype) -> Case:
    def reference(w: Tensor, b: Tensor, x: Tensor, y: Tensor, l2: float) -> Tensor:
        bce = F.binary_cross_entropy_with_logits(F.linear(x, w, b)[:, 0], y)
        return bce + _l2(l2, len(x), w)

    params = {"linear.weight": torch.randn(1, 2, generator=gen, dtype=dtype)}
    params["linear.bias"] = torch.randn(1, generator=gen, dtype=dtype)
    x = 2 * torch.randn(M, 2, generator=gen, dtype=dtype)
    y = torch.randint(0, 2, (M,), generator=gen).to(dtype)
    return Case(LogisticStep().to(dtype), params, (x, y), reference)


def softmax_case(gen: torch.Generator, dtype: torch.dtype) -> Case:
    def reference(w: Tensor, b: Tensor, x: Tensor, y: Tensor, l2: float) -> Tensor:
        return F.cross_entropy(F.linear(x, w, b), y) + _l2(l2, len(x), w)

    params = {"linear.weight": 0.1 * torch.randn(10, 784, generator=gen, dtype=dtype)}
    params["linear.bias"] = torch.randn(10, generator=gen, dtype=dtype)
    x = torch.randn(M, 784, generator=gen, dtype=dtype)
    y = torch.randint(0, 10, (M,), generator=gen)
    return Case(SoftmaxStep().to(dtype), params, (x, y), reference)


def mlp_case(gen: torch.Generator, dtype: torch.dtype) -> Case:
    def reference(*args: Tensor | float) -> Tensor:
        w1, b1, w2, b2, w3, b3, x, y, l2 = args
        a1 = F.relu(F.linear(x, w1, b1))
        a2 = F.relu(F.linear(a1, w2, b2))
        return F.cross_entropy(F.linear(a2, w3, b3), y) + _l2(l2, len(x), w1, w2, w3)

    sizes = {"fc1": (512, 784), "fc2": (256, 512), "fc3": (10, 256)}
    params: dict[str, Tensor] = {}
    for layer, (out, inp) in sizes.items():
        params[f"{layer}.weight"] = torch.randn(out, inp, generator=gen, dtype=dtype) / inp**0.5
        params[f"{layer}.bias"] = 0.1 * torch.randn(out, generator=gen, dtype=dtype)
    x = torch.randn(M, 784, generator=gen, dtype=dtype)
    y = torch.randint(0, 10, (M,), generator=gen)
    return Case(MLPStep().to(dtype), params, (x, y), reference)


def bowl_case(gen: torch.Generator, dtype: torch.dtype) -> Case:
    def reference(p: Tensor, l2: float) -> Tensor:
        return (p[0] + p[1] - 3) ** 2 + (p[0] + 2 * p[1] - 5) ** 2 + 2 + l2 / 2 * (p**2).sum()

    point = 10 * torch.rand(2, generator=gen, dtype=dtype) - 5
    return Case(QuadraticBowlStep(), {"point": point}, (), reference)


CASES: dict[str, Callable[[torch.Generator, torch.dtype], Case]] = {
    "linear-regression": lambda gen, dtype: regression_case(gen, dtype, 1),
    "polynomial-regression": lambda gen, dtype: regression_case(gen, dtype, 3),
    "logistic-regression": logistic_case,
    "mnist-softmax": softmax_case,
    "mnist-mlp": mlp_case,
    "quadratic-bowl": bowl_case,
}


def run_step(case: Case, l2: float = L2) -> dict[str, Tensor]:
    """The step module's outputs by their ONNX names."""
    dtype = next(iter(case.params.values())).dtype
    scalars = (torch.tensor(LR, dtype=dtype), torch.tensor(l2, dtype=dtype))
    outputs = case.step(*case.params.values(), *case.data, *scalars)
    return dict(zip(case.step.output_names(), outputs, strict=True))


def step_loss(case: Case, params: dict[str, Tensor]) -> float:
    return float(run_step(Case(case.step, params, case.data, case.reference))["loss"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_equal_autograd(name: str) -> None:
    case = CASES[name](torch.Generator().manual_seed(1), torch.float32)
    assert_gradients_equal_autograd(name, case, run_step(case), L2, (1e-4, 1e-6), (1e-4, 1e-6))


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_equal_central_differences(name: str) -> None:
    """dL/dp_i ~ (L(p + eps e_i) - L(p - eps e_i)) / 2 eps in float64, on up to 12 entries."""
    gen = torch.Generator().manual_seed(2)
    case = CASES[name](gen, torch.float64)
    assert_gradients_equal_central_differences(
        name, case.params, run_step(case), lambda params: step_loss(case, params),
        lambda n: torch.randperm(n, generator=gen)[:12].tolist(), (1e-5, 1e-7),
    )  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_updated_parameters_are_one_sgd_step(name: str) -> None:
    case = CASES[name](torch.Generator().manual_seed(3), torch.float32)
    assert_one_sgd_step(name, case.params, run_step(case), LR)


@pytest.mark.parametrize("name", ["linear-regression", "logistic-regression", "mnist-softmax"])
def test_l2_touches_weights_only(name: str) -> None:
    """L2 adds l2/m * W to the weight gradient and nothing to the bias gradient."""
    case = CASES[name](torch.Generator().manual_seed(4), torch.float64)
    plain, regular = run_step(case, l2=0.0), run_step(case, l2=L2)
    weight = case.params["linear.weight"]
    m = len(case.data[0])
    torch.testing.assert_close(regular["grad.linear.weight"] - plain["grad.linear.weight"],
                               L2 / m * weight)  # fmt: skip
    torch.testing.assert_close(regular["grad.linear.bias"], plain["grad.linear.bias"])


def test_bowl_gradient_at_the_minimum_is_zero() -> None:
    case = Case(QuadraticBowlStep(), {"point": torch.tensor([1.0, 2.0])}, (), bowl_case)
    got = run_step(case, l2=0.0)
    assert float(got["loss"]) == 2.0
    assert got["grad.point"].tolist() == [0.0, 0.0]
