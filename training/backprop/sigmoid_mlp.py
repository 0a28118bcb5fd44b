"""Backpropagation through a small sigmoid network, written as the notes' delta rule.

    2 inputs -> H sigmoid units -> 1 sigmoid unit, binary cross-entropy, L2 on the weights.

Forward:   z1 = x W1^T + b1,  a1 = sigmoid(z1)                      [m, H]
           z2 = a1 W2^T + b2, a2 = sigmoid(z2)                      [m, 1]
           L  = mean(-y log a2 - (1 - y) log(1 - a2)) + l2/(2m) (|W1|^2 + |W2|^2)
Backward:  delta_out    = (a2 - y) / m                              [m, 1]
           delta_hidden = (delta_out W2) * a1 (1 - a1)              [m, H]
           dW2 = delta_out^T a1 + l2/m W2,  db2 = sum delta_out     (outer products with the
           dW1 = delta_hidden^T x + l2/m W1, db1 = sum delta_hidden  layer's input, summed)

Row-batched, so the textbook's (W^T delta) reads delta W here. From W1 = W2 = 0 every hidden
unit computes the same a1 and receives the same delta_hidden, so the rows of W1 stay equal
for ever: the zero-start symmetry the notes warn about.
"""

from __future__ import annotations

from torch import Tensor

from training.backprop.losses import binary_cross_entropy, l2_penalty
from training.backprop.steps import StepGraph, descend, linear_backward

TINY_MLP = ("hidden.weight", "hidden.bias", "output.weight", "output.bias")


class TinyMLPStep(StepGraph):
    """One gradient-descent step of the sigmoid MLP; also outputs a2, the network's P(y = 1 | x)
    at the parameters fed in, so a client can draw the decision boundary of any walk."""

    parameter_names = TINY_MLP
    loss = "binary-cross-entropy"
    prediction = "probability"

    def output_names(self) -> list[str]:
        return [*super().output_names(), self.prediction]

    def forward(
        self, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor,
        x: Tensor, y: Tensor, lr: Tensor, l2: Tensor,
    ) -> tuple[Tensor, ...]:  # fmt: skip
        m = x.shape[0]
        z1 = x @ w1.t() + b1  # [m, H]
        a1 = z1.sigmoid()  # [m, H]
        z2 = a1 @ w2.t() + b2  # [m, 1]
        bce, delta_out = binary_cross_entropy(z2, y)  # [], [m, 1]: (a2 - y) / m
        delta_hidden = (delta_out @ w2) * a1 * (1.0 - a1)  # [m, H]
        dw2, db2 = linear_backward(delta_out, a1)  # [1, H], [1]
        dw1, db1 = linear_backward(delta_hidden, x)  # [H, 2], [H]
        penalty, (p1, p2) = l2_penalty([w1, w2], l2, m)  # [], [H, 2] and [1, H]
        grads = [dw1 + p1, db1, dw2 + p2, db2]
        step = descend(bce + penalty, [w1, b1, w2, b2], grads, lr)
        return (*step, z2.sigmoid())  # a2 [m, 1] last
