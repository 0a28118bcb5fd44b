"""The checks every hand-written backward pass gets (backprop/test_steps.py, test_lesson_steps.py).

A case is a step graph's parameters, its data and a textbook loss (params..., *data, l2) -> loss
that autograd can differentiate; `got` is the step's outputs by their ONNX names (`loss`,
`grad.<param>`, `next.<param>`). Each failure names the model and the parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

import pytest
import torch
from torch import Tensor


class OracleCase(Protocol):
    params: dict[str, Tensor]
    data: tuple[Tensor, ...]
    reference: Callable[..., Tensor]


def assert_gradients_equal_autograd(
    name: str,
    case: OracleCase,
    got: dict[str, Tensor],
    l2: float,
    loss_tol: tuple[float, float],
    grad_tol: tuple[float, float],
) -> None:
    """The step's loss and gradients against autograd on the reference loss; tolerances are
    (rtol, atol)."""
    leaves = [p.clone().requires_grad_(True) for p in case.params.values()]
    expected_loss = case.reference(*leaves, *case.data, l2)
    expected = torch.autograd.grad(expected_loss, leaves)
    rtol, atol = loss_tol
    torch.testing.assert_close(got["loss"], expected_loss.detach(), rtol=rtol, atol=atol)
    rtol, atol = grad_tol
    for param, want in zip(case.params, expected, strict=True):
        torch.testing.assert_close(
            got[f"grad.{param}"], want, rtol=rtol, atol=atol,
            msg=lambda m, p=param: f"{name} grad.{p} differs from autograd: {m}",
        )  # fmt: skip


def assert_gradients_equal_central_differences(
    name: str,
    params: dict[str, Tensor],
    got: dict[str, Tensor],
    loss_at: Callable[[dict[str, Tensor]], float],
    entries: Callable[[int], Iterable[int]],
    tol: tuple[float, float],
    eps: float = 1e-6,
) -> None:
    """dL/dp_i ~ (L(p + eps e_i) - L(p - eps e_i)) / 2 eps for the `entries(numel)` of each
    parameter; loss_at(params) is the step's own loss; tol is (rel, abs)."""
    for param, value in params.items():
        flat = value.reshape(-1)
        for i in entries(flat.numel()):
            shifted = []
            for sign in (1.0, -1.0):
                moved = flat.clone()
                moved[i] += sign * eps
                shifted.append(loss_at({**params, param: moved.view_as(value)}))
            numeric = (shifted[0] - shifted[1]) / (2 * eps)
            analytic = float(got[f"grad.{param}"].reshape(-1)[i])
            assert analytic == pytest.approx(numeric, rel=tol[0], abs=tol[1]), (
                f"{name}: grad.{param}[{i}] = {analytic}, central difference {numeric}"
            )


def assert_one_sgd_step(
    name: str, params: dict[str, Tensor], got: dict[str, Tensor], lr: float
) -> None:
    """Each updated parameter is exactly p - lr * grad."""
    for param, value in params.items():
        torch.testing.assert_close(
            got[f"next.{param}"], value - lr * got[f"grad.{param}"], rtol=0, atol=0,
            msg=lambda m, p=param: f"{name} next.{p} is not p - lr * grad: {m}",
        )  # fmt: skip
