"""Gradient descent through a model's step graph (step.onnx), run by onnxruntime.

One request runs `steps` steps, feeding each step's `next.<p>` outputs back in as `<p>`.
Its data is its own x and y, else the card's data set (service.descent.dataset); its start
the request's parameters or an `init` (service.descent.start).

Divergence: a step whose loss, gradients or updated parameters are not all finite (inf/NaN)
ends the walk with `diverged`; the answer keeps only the steps that completed, so it carries
the last finite parameters and their gradients (none when the very first step failed).
Convergence is judged on the gradient alone, scaled by the loss so that it does not depend
on the loss's units: the last step's |grad L|_2 <= GRADIENT_TOL * (1 + |L|), the L2 norm
over every parameter. An unchanged float32 loss never counts: on the bowl's flat valley
floor f stays 2.0000000 in float32 while the point is still 7e-4 away from the minimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from service.cards import ModelCard, StepSpec
from service.descent.dataset import Data, DataFields, choose_data, probe_feeds
from service.descent.inputs import Limits, check_scalars, check_work
from service.descent.start import Init, starting_parameters
from service.errors import NotFound, Unprocessable
from service.runtime.session import Runtime

GRADIENT_TOL = 1e-5


class StepRequest(BaseModel):
    """POST /v1/models/{name}/gradient-step's body.

    x and y: the data; omit both to learn from the card's data set (validation part
    included). validation_x and validation_y: a held-out batch of your own beside x and y.
    probe: rows at which the answer reports the model's predictions (final parameters).
    degree: the polynomial degree, for a step graph that has one (polynomial-fit: 1..9).
    Strict: `"steps": true` or `"learning_rate": "0.1"` is a 422, not quietly coerced.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    parameters: dict[str, Any] | None = None
    init: Init = "trained"
    seed: int = Field(default=0, ge=0)
    x: list[list[float]] | None = None
    y: list[float] | None = None
    validation_x: list[list[float]] | None = None
    validation_y: list[float] | None = None
    probe: list[list[float]] | None = None
    learning_rate: float = 0.1
    steps: int = 1
    l2: float = 0.0
    degree: int | None = None


@dataclass
class Walk:
    """What a run of steps produced: only steps whose outputs were all finite count."""

    parameters: dict[str, np.ndarray]
    losses: list[float] = field(default_factory=list)
    validation_losses: list[float] | None = None
    gradients: dict[str, np.ndarray] = field(default_factory=dict)
    diverged: bool = False
    predictions: np.ndarray | None = None  # the model at the probe rows, final parameters

    def gradient_norm(self) -> float:
        squares = (float(np.sum(np.square(g, dtype=np.float64))) for g in self.gradients.values())
        return math.sqrt(sum(squares))

    def converged(self) -> bool:
        if self.diverged or not self.gradients:
            return False
        return self.gradient_norm() <= GRADIENT_TOL * (1.0 + abs(self.losses[-1]))

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "losses": self.losses,
            "gradients": self.gradients,
            "parameters": self.parameters,
            "steps": len(self.losses),
            "converged": self.converged(),
            "diverged": self.diverged,
        }
        if self.validation_losses is not None:
            answer["validation_losses"] = self.validation_losses
        if self.predictions is not None:
            answer["predictions"] = self.predictions
        return answer


def step_graph(card: ModelCard, runtime: Runtime | None) -> tuple[StepSpec, Runtime]:
    """The card's StepSpec and the step.onnx runtime, or 404 when there is no step graph."""
    if card.step is None or runtime is None:
        raise NotFound(f"model {card.name!r} has no gradient-step graph")
    return card.step, runtime


def scalars(request: StepRequest, spec: StepSpec, card: ModelCard) -> dict[str, np.ndarray]:
    """learning_rate, l2 and, where the graph has one, the degree (checked: 422)."""
    feeds = {
        spec.learning_rate: np.array(request.learning_rate, np.float32),
        spec.l2: np.array(request.l2, np.float32),
    }
    if spec.degree is None:
        if request.degree is not None:
            raise Unprocessable(f"degree: model {card.name} has no degree to choose")
        return feeds
    top = spec.max_degree or 1
    degree = top if request.degree is None else request.degree
    if not 1 <= degree <= top:
        raise Unprocessable(f"degree must be between 1 and {top}, got {degree}")
    return {**feeds, spec.degree: np.array(degree, np.int64)}


def prepare(
    request: StepRequest, card: ModelCard, spec: StepSpec, limits: Limits, version_dir: Path
) -> tuple[dict[str, np.ndarray], Data, dict[str, np.ndarray]]:
    """Validate everything (422 naming the field) before the first step runs."""
    check_scalars(request.learning_rate, request.steps, request.l2, limits)
    fields = DataFields(request.x, request.y, request.validation_x, request.validation_y,
                        request.probe)  # fmt: skip
    data = choose_data(fields, spec, card, limits)
    batches = [data.train] if data.validation is None else [data.train, data.validation]
    check_work(request.steps, batches, spec.parameters, limits)
    feeds = scalars(request, spec, card)
    start = starting_parameters(
        request.parameters, request.init, request.seed, spec, card, version_dir
    )
    return start, data, feeds


def walk(
    runtime: Runtime,
    spec: StepSpec,
    start: dict[str, np.ndarray],
    data: Data,
    scalar_feeds: dict[str, np.ndarray],
    steps: int,
) -> Walk:
    """Run the steps (blocking); stops at the first step with a non-finite output. The
    validation loss of each step is the plain loss (l2 = 0) at the parameters it started from."""
    held_out = {**scalar_feeds, spec.l2: np.array(0.0, np.float32)}
    result = Walk(parameters=start, validation_losses=None if data.validation is None else [])
    for _ in range(steps):
        out = runtime.run({**result.parameters, **data.train.feeds(spec), **scalar_feeds})
        loss = out[spec.loss_output]
        grads = {p: out[name] for p, name in spec.gradient_outputs.items()}
        updated = {p: out[name] for p, name in spec.updated_outputs.items()}
        checked = [loss, *grads.values(), *updated.values()]
        if data.validation is not None:
            feeds = {**result.parameters, **data.validation.feeds(spec), **held_out}
            checked.append(runtime.run(feeds, [spec.loss_output])[spec.loss_output])
        if not all(np.isfinite(a).all() for a in checked):
            result.diverged = True
            break
        result.losses.append(float(loss))
        if result.validation_losses is not None:
            result.validation_losses.append(float(checked[-1]))
        result.gradients, result.parameters = grads, updated
    if data.probe is not None and spec.prediction_output is not None:
        feeds = {**result.parameters, **probe_feeds(spec, data.probe), **scalar_feeds}
        result.predictions = runtime.run(feeds, [spec.prediction_output])[spec.prediction_output]
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
    start, data, feeds = prepare(request, card, spec, limits, version_dir)
    return walk(runtime, spec, start, data, feeds, request.steps)
