"""Activation functions beside their derivatives, and softmax with a temperature.

`activations`: input z [N, 1]; outputs, each [N, 1]:
    sigmoid  a = 1 / (1 + e^-z)     sigmoid_grad = a (1 - a)        (at most 0.25, at z = 0)
    tanh     t = tanh z             tanh_grad    = 1 - t^2          (at most 1)
    relu     r = max(z, 0)          relu_grad    = 1 where z > 0, else 0
`softmax-temperature`: inputs scores [N, K] and temperature [N, 1] (T > 0);
    softmax  p = exp(s / T) / sum exp(s / T), [N, K]; shifted by max(s) so e^x never overflows.
A separate model, not a second input of `activations`, so that a request for a sigmoid need
not carry scores and each model has one batch axis its inputs share.
"""

from __future__ import annotations

from torch import Tensor, nn

NAME = "activations"
FORMULA = "sigmoid(z) = 1/(1+e^-z), a(1-a); tanh(z), 1-tanh^2; relu(z) = max(z, 0), [z > 0]"
INPUT = "z"  # [N, 1]
OUTPUTS = ("sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad")

SOFTMAX = "softmax-temperature"
SOFTMAX_FORMULA = "softmax(s / T)_k = exp(s_k / T) / sum_j exp(s_j / T)"
SOFTMAX_INPUTS = ("scores", "temperature")  # [N, K], [N, 1]
SOFTMAX_OUTPUTS = ("softmax",)


class Activations(nn.Module):
    """Each activation at z and its derivative with respect to z, written out by hand."""

    def forward(self, z: Tensor) -> tuple[Tensor, ...]:
        a = z.sigmoid()  # [N, 1]
        da_dz = a * (1.0 - a)  # sigmoid' = a (1 - a)
        t = z.tanh()  # [N, 1]
        dt_dz = 1.0 - t * t  # tanh' = 1 - tanh^2
        r = z.clamp(min=0.0)  # [N, 1]
        dr_dz = (z > 0.0).to(z.dtype)  # relu' = 1 for z > 0, 0 otherwise (0 at the kink)
        return a, da_dz, t, dt_dz, r, dr_dz


class SoftmaxTemperature(nn.Module):
    """softmax(scores / T) per row; scores [N, K], temperature [N, 1] -> [N, K]."""

    def forward(self, scores: Tensor, temperature: Tensor) -> Tensor:
        scaled = scores / temperature  # [N, K]
        shifted = scaled - scaled.amax(dim=1, keepdim=True)  # [N, K], max 0: no overflow
        e = shifted.exp()  # [N, K]
        return e / e.sum(dim=1, keepdim=True)  # [N, K], rows sum to 1
