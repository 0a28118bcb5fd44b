"""What GET /v1/models/{name}/gradient-step tells a client: parameters, loss, data, caps."""

from __future__ import annotations

from typing import Any

from service.cards import ModelCard, StepSpec, TensorSpec
from service.descent.inputs import Limits
from service.descent.start import INITS
from service.descent.walk import GRADIENT_TOL, StepRequest

CONVENTIONS = {
    "mean-squared-error": "L = mean((y_hat - y)^2) + l2/(2m) * sum of squared weights; "
    "dL/dy_hat = 2 (y_hat - y) / m",
    "binary-cross-entropy": "L = mean(-y log a - (1 - y) log(1 - a)), a = sigmoid(z), "
    "+ l2/(2m) * sum of squared weights; dL/dz = (a - y) / m",
    "cross-entropy": "L = mean(-log softmax(z)[y]) + l2/(2m) * sum of squared weights; "
    "dL/dz = (softmax(z) - onehot(y)) / m",
    "quadratic-bowl": "L = f(point) = (x + y - 3)^2 + (x + 2y - 5)^2 + 2 + l2/2 * |point|^2 "
    "(m = 1: no batch); minimum 2 at (1, 2)",
    "two-minima": "L = f(point) = (p^2 - 1)^2 + p/2 + l2/2 * p^2 (m = 1: no batch); minima "
    "near p = -1.057 (f = -0.515) and p = 0.930 (f = 0.483)",
}
"""Each step graph's loss, as training.backprop.losses defines it (biases never decay)."""
DEFAULTS = {"init", "seed", "learning_rate", "steps", "l2"}


def describe(card: ModelCard, spec: StepSpec, limits: Limits) -> dict[str, Any]:
    """GET /v1/models/{name}/gradient-step: what a client needs to build a request."""
    data = {
        "x": _tensor(spec.x, x_meaning(card)),
        "y": _tensor(spec.y, y_meaning(card)),
    }
    return {
        "name": card.name,
        "version": card.version,
        "parameters": [p.model_dump() for p in spec.parameters],
        "loss": spec.loss,
        "convention": CONVENTIONS.get(spec.loss, spec.loss),
        **data,
        "init": list(INITS),
        "data": None if card.data is None else card.data.model_dump(),
        "degree": None if spec.degree is None else {"min": 1, "max": spec.max_degree},
        "predictions": spec.prediction_output is not None,
        "limits": {
            "max_steps": limits.max_steps,
            "max_learning_rate": limits.max_learning_rate,
            "max_batch": limits.max_batch,
            "max_work": limits.max_work,
        },
        "defaults": StepRequest().model_dump(include=DEFAULTS),
        "convergence": f"the last step's gradient L2 norm (over every parameter) <= "
        f"{GRADIENT_TOL:g} * (1 + |loss|), the loss scaling it to the loss's units; a float32 "
        "loss that stops changing is never taken for convergence",
        "divergence": "loss, gradient or parameters not finite: stops, returns the last "
        "finite parameters",
    }


def _tensor(spec: TensorSpec | None, meaning: str) -> dict[str, Any] | None:
    return None if spec is None else {**spec.model_dump(), "meaning": meaning}


def x_meaning(card: ModelCard) -> str:
    pre = card.preprocessing
    if pre.kind == "mnist":
        return (
            f"rows of {card.inputs[0].shape[-1]} MNIST-normalized pixels, (p/255 - {pre.mean[0]})"
            f" / {pre.std[0]}, white ink on black: what /predict feeds the model"
        )
    if pre.in_graph:
        return "rows of raw x: the graph standardizes (and expands features) itself"
    return "rows of the model's input features"


def y_meaning(card: ModelCard) -> str:
    if card.task == "classification":
        return f"class ids 0..{len(card.labels) - 1}"
    if card.task == "binary-classification":
        return "0 or 1 per row"
    return "target value per row"
