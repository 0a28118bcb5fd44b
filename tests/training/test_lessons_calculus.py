"""Oracle tests for the calculus lessons' hand-written derivatives.

Every backward output of computation-graph, the exact slopes of derivative and the
activations' derivatives are checked in float64 against torch.autograd and against central
differences; the notes' own numbers are checked as well.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from training.lessons.activations import Activations, SoftmaxTemperature
from training.lessons.computation_graph import OUTPUTS, ComputationGraph
from training.lessons.derivative import Derivative, slopes, values

EPS = 1e-6
GEN = torch.Generator().manual_seed(12)


def central(f: Callable[[Tensor], Tensor], x: Tensor, eps: float = EPS) -> Tensor:
    """Elementwise (f(x + eps) - f(x - eps)) / 2eps for a function acting row by row."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def graph_outputs(abc: Tensor) -> dict[str, Tensor]:
    return dict(zip(OUTPUTS, ComputationGraph()(abc), strict=True))


def test_the_notes_numbers_at_5_3_2() -> None:
    out = graph_outputs(torch.tensor([[5.0, 3.0, 2.0]], dtype=torch.float64))
    got = {name: float(value) for name, value in out.items()}
    want = {"u": 6, "v": 11, "J": 33, "dJ_dv": 3, "dJ_du": 3, "dJ_da": 3, "dJ_db": 6, "dJ_dc": 9}
    assert got == want


def test_graph_backward_against_autograd() -> None:
    abc = torch.randn(32, 3, generator=GEN, dtype=torch.float64)
    a, b, c = (abc[:, i : i + 1].clone().requires_grad_() for i in range(3))
    u = b * c
    u.retain_grad()
    v = a + u
    v.retain_grad()
    (3.0 * v).sum().backward()
    out = graph_outputs(abc)
    want = {"dJ_dv": v.grad, "dJ_du": u.grad, "dJ_da": a.grad, "dJ_db": b.grad, "dJ_dc": c.grad}
    for name, grad in want.items():
        torch.testing.assert_close(out[name], grad, rtol=1e-12, atol=1e-12, msg=name)


def test_graph_backward_against_central_differences() -> None:
    abc = torch.randn(16, 3, generator=GEN, dtype=torch.float64)
    out = graph_outputs(abc)
    for column, name in enumerate(("dJ_da", "dJ_db", "dJ_dc")):
        nudge = torch.zeros_like(abc)
        nudge[:, column] = EPS
        j_up, j_down = graph_outputs(abc + nudge)["J"], graph_outputs(abc - nudge)["J"]
        torch.testing.assert_close(
            out[name], (j_up - j_down) / (2 * EPS), rtol=1e-7, atol=1e-7, msg=name
        )
    a = abc[:, 0:1]
    torch.testing.assert_close(out["dJ_dv"], central(lambda v: 3.0 * v, out["v"]), msg="dJ_dv")
    torch.testing.assert_close(
        out["dJ_du"], central(lambda u: 3.0 * (a + u), out["u"]), msg="dJ_du"
    )


def test_derivative_slopes_against_autograd_and_central_differences() -> None:
    a = torch.linspace(-2, 2, 41, dtype=torch.float64).unsqueeze(1).requires_grad_()
    exact = slopes(a.detach())
    for k in range(3):
        (grad,) = torch.autograd.grad(values(a)[:, k].sum(), a)
        torch.testing.assert_close(
            exact[:, k : k + 1], grad, rtol=1e-12, atol=1e-9, msg=f"f{k + 1}"
        )
    by_differences = central(values, a.detach())
    torch.testing.assert_close(exact, by_differences, rtol=1e-7, atol=1e-6)


@pytest.mark.parametrize(
    ("a", "h", "f", "f_plus_h", "estimate", "slope"),
    [
        (2.0, 1e-3, [8, 4], [8.004, 4.004001], [4.0, 4.001], [4, 4]),
        (5.0, 1e-3, [20, 25], [20.004, 25.010001], [4.0, 10.001], [4, 10]),
    ],
)
def test_derivative_the_notes_numbers(
    a: float,
    h: float,
    f: list[float],
    f_plus_h: list[float],
    estimate: list[float],
    slope: list[float],
) -> None:
    out = Derivative()(torch.tensor([[a, h]], dtype=torch.float64))
    for got, want in zip(out, (f, f_plus_h, estimate, slope), strict=True):
        torch.testing.assert_close(
            got[0, :2], torch.tensor(want, dtype=torch.float64), rtol=1e-9, atol=1e-9
        )


def test_the_chain_rule_slope_is_3000_at_1() -> None:
    f, _, estimate, slope = Derivative()(torch.tensor([[1.0, 1e-6]], dtype=torch.float64))
    assert float(f[0, 2]) == 625.0  # (3 + 2)^4
    assert float(slope[0, 2]) == 3000.0  # 4 * 5^3 * 6
    assert abs(float(estimate[0, 2]) - 3000.0) < 0.01  # h = 1e-6 stays honest in float64


def activation_outputs(z: Tensor) -> dict[str, Tensor]:
    names = ("sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad")
    return dict(zip(names, Activations()(z), strict=True))


def test_activation_grads_against_autograd_and_central_differences() -> None:
    z = torch.linspace(-6, 6, 60, dtype=torch.float64).unsqueeze(1)  # never exactly 0 (relu's kink)
    out = activation_outputs(z)
    for name in ("sigmoid", "tanh", "relu"):
        leaf = z.clone().requires_grad_()
        (grad,) = torch.autograd.grad(activation_outputs(leaf)[name].sum(), leaf)
        torch.testing.assert_close(out[f"{name}_grad"], grad, rtol=1e-12, atol=1e-12, msg=name)
        by_differences = central(lambda x, n=name: activation_outputs(x)[n], z)
        torch.testing.assert_close(
            out[f"{name}_grad"], by_differences, rtol=1e-7, atol=1e-8, msg=name
        )


def test_activations_match_torch_and_sigmoid_grad_peaks_at_a_quarter() -> None:
    z = torch.linspace(-8, 8, 161, dtype=torch.float64).unsqueeze(1)
    out = activation_outputs(z)
    torch.testing.assert_close(out["sigmoid"], torch.sigmoid(z))
    torch.testing.assert_close(out["tanh"], torch.tanh(z))
    torch.testing.assert_close(out["relu"], torch.relu(z))
    assert float(out["sigmoid_grad"].max()) <= 0.25
    at_zero = activation_outputs(torch.zeros(1, 1, dtype=torch.float64))
    assert float(at_zero["sigmoid_grad"]) == 0.25  # its largest value, at z = 0
    assert float(at_zero["relu_grad"]) == 0.0  # the kink counts as "not > 0"


def test_softmax_temperature() -> None:
    scores = torch.tensor([[2.0, 1.0, 0.1]] * 3, dtype=torch.float64)
    temperature = torch.tensor([[1.0], [0.05], [100.0]], dtype=torch.float64)
    p = SoftmaxTemperature()(scores, temperature)
    torch.testing.assert_close(p[0], torch.softmax(scores[0], dim=0))
    torch.testing.assert_close(p.sum(dim=1), torch.ones(3, dtype=torch.float64))
    assert float(p[1, 0]) > 0.999  # cold: nearly all on the top score
    assert float(p[2].max() - p[2].min()) < 0.01  # hot: nearly uniform
    huge = SoftmaxTemperature()(torch.tensor([[1000.0, 0.0]]), torch.tensor([[1.0]]))
    assert torch.isfinite(huge).all()  # shifted by the max, e^x never overflows
