"""Gradient descent through a model's step graph (step.onnx), run by onnxruntime.

One request runs `steps` steps, feeding each step's `next.<p>` outputs back in as `<p>`.
The served model is never touched: the start comes from the request, from model.onnx's
initializers ("trained"), from zeros, or from a seeded random draw, and every step makes
new arrays.

Divergence: a step whose loss, gradients or updated parameters are not all finite (inf/NaN)
ends the walk with `diverged`; the answer keeps only the steps that completed, so it carries
the last finite parameters and their gradients (none when the very first step failed).
Convergence: the last completed step's gradient has an L2 norm below 1e-6, or its loss
equals the previous step's to a relative 1e-9 (in float32: the descent no longer moves).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
from onnx import numpy_helper
from pydantic import BaseModel, ConfigDict, Field

from service.cards import ModelCard, StepSpec, TensorSpec
from service.descent.inputs import (
    Batch,
    Limits,
    check_scalars,
    check_work,
    decode_batch,
    decode_parameters,
)
from service.errors import NotFound
from service.runtime.session import Runtime

GRAD_NORM_TOL = 1e-6
LOSS_CHANGE_TOL = 1e-9
Init = Literal["trained", "zeros", "random"]


class StepRequest(BaseModel):
    """POST /v1/models/{name}/gradient-step's body.

    Strict: `"steps": true` or `"learning_rate": "0.1"` is a 422, not quietly coerced.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    parameters: dict[str, Any] | None = None
    init: Init = "trained"
    seed: int = Field(default=0, ge=0)
    x: list[list[float]] | None = None
    y: list[float] | None = None
    learning_rate: float = 0.1
    steps: int = 1
    l2: float = 0.0


@dataclass
class Walk:
    """What a run of steps produced: only steps whose outputs were all finite count."""

    parameters: dict[str, np.ndarray]
    losses: list[float] = field(default_factory=list)
    gradients: dict[str, np.ndarray] = field(default_factory=dict)
    diverged: bool = False

    def converged(self) -> bool:
        if self.diverged or not self.gradients:
            return False
        squares = sum(
            float(np.sum(np.square(g, dtype=np.float64))) for g in self.gradients.values()
        )
        if math.sqrt(squares) < GRAD_NORM_TOL:
            return True
        if len(self.losses) < 2:
            return False
        previous, last = self.losses[-2], self.losses[-1]
        return abs(last - previous) <= LOSS_CHANGE_TOL * max(abs(last), 1e-30)

    def to_json(self) -> dict[str, Any]:
        return {
            "losses": self.losses,
            "gradients": self.gradients,
            "parameters": self.parameters,
            "steps": len(self.losses),
            "converged": self.converged(),
            "diverged": self.diverged,
        }


def step_graph(card: ModelCard, runtime: Runtime | None) -> tuple[StepSpec, Runtime]:
    """The card's StepSpec and the step.onnx runtime, or 404 when there is no step graph."""
    if card.step is None or runtime is None:
        raise NotFound(f"model {card.name!r} has no gradient-step graph")
    return card.step, runtime


def starting_parameters(
    request: StepRequest, spec: StepSpec, card: ModelCard, version_dir: Path
) -> dict[str, np.ndarray]:
    """The request's parameters, else the `init` choice."""
    if request.parameters is not None:
        return decode_parameters(request.parameters, spec.parameters)
    if request.init == "trained":
        model = version_dir / card.files["model"].path
        stored = trained_initializers(model, card.files["model"].sha256)
        return {p.name: stored[p.name] for p in spec.parameters}
    if request.init == "zeros":
        return {p.name: np.zeros(p.shape, np.float32) for p in spec.parameters}
    return random_parameters(spec.parameters, request.seed, card.task == "function")


@lru_cache(maxsize=32)
def trained_initializers(model_path: Path, sha256: str) -> dict[str, np.ndarray]:
    """model.onnx's initializers, read once per file version (sha256 keys the cache)."""
    arrays = {}
    for init in onnx.load(str(model_path)).graph.initializer:
        array = numpy_helper.to_array(init).astype(np.float32)
        array.flags.writeable = False  # shared by every request: nobody may write it
        arrays[init.name] = array
    return arrays


def random_parameters(specs: list[TensorSpec], seed: int, function: bool) -> dict[str, np.ndarray]:
    """Seeded: weights N(0, 1/fan_in), biases zero; a function's point uniform in [-5, 5]."""
    rng = np.random.default_rng(seed)
    params = {}
    for p in specs:
        if function:
            value = rng.uniform(-5.0, 5.0, size=p.shape)
        elif len(p.shape) >= 2:
            value = rng.standard_normal(p.shape) / math.sqrt(p.shape[-1])
        else:
            value = np.zeros(p.shape)
        params[p.name] = value.astype(np.float32)
    return params


def prepare(
    request: StepRequest, card: ModelCard, spec: StepSpec, limits: Limits, version_dir: Path
) -> tuple[dict[str, np.ndarray], Batch]:
    """Validate everything (422 naming the field) before the first step runs."""
    check_scalars(request.learning_rate, request.steps, request.l2, limits)
    batch = decode_batch(request.x, request.y, spec, card, limits)
    check_work(request.steps, batch, spec.parameters, limits)
    return starting_parameters(request, spec, card, version_dir), batch


def walk(
    runtime: Runtime,
    spec: StepSpec,
    start: dict[str, np.ndarray],
    batch: Batch,
    request: StepRequest,
) -> Walk:
    """Run the steps (blocking); stops at the first step with a non-finite output."""
    scalars = {
        spec.learning_rate: np.array(request.learning_rate, np.float32),
        spec.l2: np.array(request.l2, np.float32),
    }
    result = Walk(parameters=start)
    for _ in range(request.steps):
        out = runtime.run({**result.parameters, **batch.feeds(spec), **scalars})
        loss = out[spec.loss_output]
        grads = {p: out[name] for p, name in spec.gradient_outputs.items()}
        updated = {p: out[name] for p, name in spec.updated_outputs.items()}
        if not all(np.isfinite(a).all() for a in (loss, *grads.values(), *updated.values())):
            result.diverged = True
            break
        result.losses.append(float(loss))
        result.gradients, result.parameters = grads, updated
    return result


def run(
    request: StepRequest,
    card: ModelCard,
    spec: StepSpec,
    runtime: Runtime,
    limits: Limits,
    version_dir: Path,
) -> Walk:
    """Validate, pick the start, walk (blocking: call it off the event loop)."""
    start, batch = prepare(request, card, spec, limits, version_dir)
    return walk(runtime, spec, start, batch, request)
