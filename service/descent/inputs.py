"""A gradient-step request's numbers as arrays, checked; each problem is a 422 naming its field.

Pure: JSON values in, float32 / int64 arrays out. `field_array` is the one place request
numbers become numpy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.cards import ModelCard, StepSpec, TensorSpec
from service.config import Settings
from service.errors import Unprocessable

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Limits:
    """The caps a request must respect (from Settings)."""

    max_steps: int
    max_learning_rate: float
    max_batch: int
    max_work: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        # The step runtime also enforces max_batch_size, so the tighter cap is the real one.
        batch = min(settings.max_gradient_batch, settings.max_batch_size)
        return cls(
            settings.max_gradient_steps,
            settings.max_learning_rate,
            batch,
            settings.max_gradient_work,
        )


@dataclass(frozen=True)
class Batch:
    """The data of one request: x [m, n] float32 and y [m] (none for a pure function)."""

    x: np.ndarray | None = None
    y: np.ndarray | None = None

    def feeds(self, spec: StepSpec) -> dict[str, np.ndarray]:
        if spec.x is None or spec.y is None or self.x is None or self.y is None:
            return {}
        return {spec.x.name: self.x, spec.y.name: self.y}


def field_array(field: str, value: Any) -> np.ndarray:
    """JSON numbers (nested lists) -> float64 array; refuses ragged, non-numeric, non-finite."""
    try:
        raw = np.asarray(value)
    except (ValueError, TypeError):
        raise Unprocessable(f"{field} must be rows of equal length") from None
    if raw.dtype.kind not in "iuf":
        raise Unprocessable(f"{field} must hold only numbers in rows of equal length")
    array = raw.astype(np.float64)
    if not np.isfinite(array).all():
        raise Unprocessable(f"{field} contains NaN or Inf")
    if array.size and float(np.abs(array).max()) > FLOAT32_MAX:
        raise Unprocessable(f"{field} has a value beyond float32's range")
    return array


def check_scalars(learning_rate: float, steps: int, l2: float, limits: Limits) -> None:
    if not math.isfinite(learning_rate) or learning_rate <= 0:
        raise Unprocessable(f"learning_rate must be a number > 0, got {learning_rate}")
    if learning_rate > limits.max_learning_rate:
        raise Unprocessable(
            f"learning_rate {learning_rate} is above the limit of {limits.max_learning_rate}"
        )
    if not 1 <= steps <= limits.max_steps:
        raise Unprocessable(f"steps must be between 1 and {limits.max_steps}, got {steps}")
    if not math.isfinite(l2) or l2 < 0:
        raise Unprocessable(f"l2 must be a number >= 0, got {l2}")


def check_work(steps: int, batches: list[Batch], specs: list[TensorSpec], limits: Limits) -> None:
    """steps x rows x parameters, the request's cost, must stay under the limit; rows count
    every batch each step runs on (the training batch and a validation batch)."""
    rows = max(1, sum(0 if batch.x is None else batch.x.shape[0] for batch in batches))
    work = steps * rows * sum(math.prod(p.shape) for p in specs)
    if work > limits.max_work:
        raise Unprocessable(
            f"steps x rows of x x parameters = {steps} x {rows} x {work // (steps * rows)} "
            f"= {work} is over the limit of {limits.max_work}; send fewer steps or rows"
        )


def decode_parameters(values: dict[str, Any], specs: list[TensorSpec]) -> dict[str, np.ndarray]:
    """The request's parameters: exactly the step graph's names, each with its shape."""
    names = [p.name for p in specs]
    if sorted(values) != sorted(names):
        missing = sorted(set(names) - set(values))
        unknown = sorted(set(values) - set(names))
        raise Unprocessable(
            f"parameters must be exactly {names}; missing {missing}, unknown {unknown}"
        )
    params = {}
    for spec in specs:
        array = field_array(f"parameters.{spec.name}", values[spec.name])
        if list(array.shape) != spec.shape:
            raise Unprocessable(
                f"parameters.{spec.name} has shape {list(array.shape)}, expected {spec.shape}"
            )
        params[spec.name] = array.astype(np.float32)
    return params


def decode_batch(x: Any, y: Any, spec: StepSpec, card: ModelCard, limits: Limits) -> Batch:
    """x [m, n] and y [m] checked against the step graph's specs, the task and the caps."""
    if spec.x is None or spec.y is None:
        if x is not None or y is not None:
            raise Unprocessable(f"x and y: model {card.name} takes no data, send neither")
        return Batch()
    if x is None or y is None:
        raise Unprocessable(f"{'x' if x is None else 'y'} is required for model {card.name}")
    features = field_array("x", x)
    n = spec.x.shape[-1]
    if features.ndim != 2 or features.shape[0] == 0:
        raise Unprocessable(f"x must be a non-empty list of rows of {n} numbers")
    m = features.shape[0]
    if m > limits.max_batch:
        raise Unprocessable(f"x has {m} rows, more than the limit of {limits.max_batch}")
    if features.shape[1] != n:
        raise Unprocessable(f"x rows must have {n} values, got {features.shape[1]}")
    targets = field_array("y", y)
    if targets.shape != (m,):
        raise Unprocessable(f"y must have one value per row of x ({m}), got {targets.size}")
    return Batch(features.astype(np.float32), check_targets(targets, spec.y, card))


def check_targets(y: np.ndarray, spec: TensorSpec, card: ModelCard) -> np.ndarray:
    """Class ids for classifiers, 0/1 for binary ones, any number for regressors."""
    if card.task == "classification":
        k = len(card.labels)
        bad = np.flatnonzero((y != np.round(y)) | (y < 0) | (y >= k))
        if bad.size:
            i = int(bad[0])
            raise Unprocessable(f"y[{i}] = {y[i]:g} is not a class id 0..{k - 1}")
    elif card.task == "binary-classification":
        bad = np.flatnonzero((y != 0) & (y != 1))
        if bad.size:
            i = int(bad[0])
            raise Unprocessable(f"y[{i}] = {y[i]:g} is not 0 or 1")
    return y.astype(np.int64 if spec.datatype == "INT64" else np.float32)
