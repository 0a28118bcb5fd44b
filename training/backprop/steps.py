"""One step of gradient descent per model kind, backward pass written by hand (no autograd).

Each module's forward takes the parameters (named as in model.onnx), the batch and the
scalars `learning_rate` and `l2`, and returns
    (loss before the step, grad.<p> for each p, next.<p> = p - learning_rate * grad.<p>).
Exported to step.onnx by training.step_export; the service runs it in onnxruntime.
Loss conventions live in training.backprop.losses. Row-batched notation: x is [m, n] and a
Linear layer is z = x W^T + b with W [out, in] (torch's layout), so the textbook's
column-vector W^T delta reads delta W here.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from training.backprop.losses import (
    binary_cross_entropy,
    l2_penalty,
    mean_squared_error,
    softmax_cross_entropy,
)
from training.models import polynomial_features

LINEAR = ("linear.weight", "linear.bias")
MLP = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias")


class StepGraph(nn.Module):
    """What every step module shares: its parameter names and its ONNX input/output names."""

    parameter_names: tuple[str, ...] = LINEAR
    loss: str = ""
    takes_data = True

    def input_names(self) -> list[str]:
        data = ["x", "y"] if self.takes_data else []
        return [*self.parameter_names, *data, "learning_rate", "l2"]

    def output_names(self) -> list[str]:
        grads = [f"grad.{name}" for name in self.parameter_names]
        updated = [f"next.{name}" for name in self.parameter_names]
        return ["loss", *grads, *updated]


def descend(
    loss: Tensor, params: list[Tensor], grads: list[Tensor], learning_rate: Tensor
) -> tuple[Tensor, ...]:
    """(loss, gradients..., p - learning_rate * grad for each p): the step's outputs."""
    updated = [p - learning_rate * g for p, g in zip(params, grads, strict=True)]
    return (loss, *grads, *updated)


def linear_backward(dz: Tensor, a_in: Tensor) -> tuple[Tensor, Tensor]:
    """For z = a_in W^T + b: dW = dz^T a_in [out, in], db = sum over the batch of dz [out]."""
    return dz.t() @ a_in, dz.sum(dim=0)


class RegressionStep(StepGraph):
    """Least squares on standardized polynomial features (degree 1 = linear regression).

    h = (phi(x) - mean) / std, phi(x) = [x, x^2, ..., x^degree]   (raw x in, as model.onnx)
    y_hat = h W^T + b;  L = mean((y_hat - y)^2) + l2/(2m) |W|^2
    dL/dy_hat = 2 (y_hat - y) / m;  dW = dL/dy_hat^T h + l2/m W;  db = sum dL/dy_hat
    """

    loss = "mean-squared-error"

    def __init__(self, mean: list[float], std: list[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        self.degree = len(mean)

    def forward(
        self, w: Tensor, b: Tensor, x: Tensor, y: Tensor, lr: Tensor, l2: Tensor
    ) -> tuple[Tensor, ...]:
        m = x.shape[0]
        powers = polynomial_features(x, self.degree)  # [m, degree]
        h = (powers - self.mean) / self.std  # [m, degree]
        y_hat = h @ w.t() + b  # [m, 1]
        mse, d_y_hat = mean_squared_error(y_hat, y)  # [], [m, 1]
        penalty, (d_penalty,) = l2_penalty([w], l2, m)  # [], [1, degree]
        dw, db = linear_backward(d_y_hat, h)  # [1, degree], [1]
        return descend(mse + penalty, [w, b], [dw + d_penalty, db], lr)


class LogisticStep(StepGraph):
    """Binary logistic regression: sigmoid + cross-entropy.

    z = x W^T + b;  a = sigmoid(z);  L = mean(-y log a - (1-y) log(1-a)) + l2/(2m) |W|^2
    dz = (a - y) / m;  dW = dz^T x + l2/m W;  db = sum dz  (= mean(a - y))
    """

    loss = "binary-cross-entropy"

    def forward(
        self, w: Tensor, b: Tensor, x: Tensor, y: Tensor, lr: Tensor, l2: Tensor
    ) -> tuple[Tensor, ...]:
        m = x.shape[0]
        z = x @ w.t() + b  # [m, 1]
        bce, dz = binary_cross_entropy(z, y)  # [], [m, 1]
        penalty, (d_penalty,) = l2_penalty([w], l2, m)  # [], [1, n]
        dw, db = linear_backward(dz, x)  # [1, n], [1]
        return descend(bce + penalty, [w, b], [dw + d_penalty, db], lr)


class SoftmaxStep(StepGraph):
    """Softmax (multinomial logistic) regression.

    Z = x W^T + b;  L = mean(-log softmax(Z)[y]) + l2/(2m) |W|^2
    dZ = (softmax(Z) - onehot(y)) / m;  dW = dZ^T x + l2/m W;  db = sum dZ
    """

    loss = "cross-entropy"

    def forward(
        self, w: Tensor, b: Tensor, x: Tensor, y: Tensor, lr: Tensor, l2: Tensor
    ) -> tuple[Tensor, ...]:
        m = x.shape[0]
        z = x @ w.t() + b  # [m, k]
        ce, dz = softmax_cross_entropy(z, y)  # [], [m, k]
        penalty, (d_penalty,) = l2_penalty([w], l2, m)  # [], [k, n]
        dw, db = linear_backward(dz, x)  # [k, n], [k]
        return descend(ce + penalty, [w, b], [dw + d_penalty, db], lr)


class MLPStep(StepGraph):
    """Backpropagation through fc1 -> ReLU -> fc2 -> ReLU -> fc3 -> softmax cross-entropy.

    Forward:  z1 = x W1^T + b1, a1 = relu(z1); z2 = a1 W2^T + b2, a2 = relu(z2);
              z3 = a2 W3^T + b3;  L = mean(-log softmax(z3)[y]) + l2/(2m) (|W1|^2+|W2|^2+|W3|^2)
    Backward: delta3 = (softmax(z3) - onehot(y)) / m
              delta_l = (delta_{l+1} W_{l+1}) * 1[z_l > 0]   (the textbook's W^T delta, row-batched)
              dW_l = delta_l^T a_{l-1} + l2/m W_l;  db_l = sum over the batch of delta_l
    """

    parameter_names = MLP
    loss = "cross-entropy"

    def forward(
        self,
        w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, w3: Tensor, b3: Tensor,
        x: Tensor, y: Tensor, lr: Tensor, l2: Tensor,
    ) -> tuple[Tensor, ...]:  # fmt: skip
        m = x.shape[0]
        z1 = x @ w1.t() + b1  # [m, 512]
        a1 = z1.clamp(min=0.0)  # [m, 512]
        z2 = a1 @ w2.t() + b2  # [m, 256]
        a2 = z2.clamp(min=0.0)  # [m, 256]
        z3 = a2 @ w3.t() + b3  # [m, 10]
        ce, delta3 = softmax_cross_entropy(z3, y)  # [], [m, 10]
        delta2 = (delta3 @ w3) * (z2 > 0).to(z2.dtype)  # [m, 256]
        delta1 = (delta2 @ w2) * (z1 > 0).to(z1.dtype)  # [m, 512]
        dw3, db3 = linear_backward(delta3, a2)  # [10, 256], [10]
        dw2, db2 = linear_backward(delta2, a1)  # [256, 512], [256]
        dw1, db1 = linear_backward(delta1, x)  # [512, 784], [512]
        penalty, (p1, p2, p3) = l2_penalty([w1, w2, w3], l2, m)  # [], the dW shapes
        grads = [dw1 + p1, db1, dw2 + p2, db2, dw3 + p3, db3]
        return descend(ce + penalty, [w1, b1, w2, b2, w3, b3], grads, lr)


class QuadraticBowlStep(StepGraph):
    """The bowl f(p) = (p1 + p2 - 3)^2 + (p1 + 2 p2 - 5)^2 + 2, minimum 2 at (1, 2).

    r1 = p1 + p2 - 3, r2 = p1 + 2 p2 - 5;  df/dp1 = 2 r1 + 2 r2;  df/dp2 = 2 r1 + 4 r2.
    L2 is l2/2 |p|^2 (the data-model convention with m = 1: there is no batch), gradient l2 p.
    Hessian [[4, 6], [6, 10]], eigenvalues 7 +- sqrt(45) ~ 13.708 and 0.292: plain gradient
    descent converges for learning_rate < 2 / 13.708 ~ 0.1459 and diverges above.
    """

    parameter_names = ("point",)
    loss = "quadratic-bowl"
    takes_data = False

    def forward(self, point: Tensor, lr: Tensor, l2: Tensor) -> tuple[Tensor, ...]:
        r1 = point[0] + point[1] - 3.0  # []
        r2 = point[0] + 2.0 * point[1] - 5.0  # []
        penalty, (d_penalty,) = l2_penalty([point], l2, 1)  # [], [2]
        f = r1 * r1 + r2 * r2 + 2.0 + penalty  # []
        d_point = torch.stack([2.0 * r1 + 2.0 * r2, 2.0 * r1 + 4.0 * r2]) + d_penalty  # [2]
        return descend(f, [point], [d_point], lr)
