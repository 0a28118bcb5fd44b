"""The v1 JSON API's bodies: `instances` rows in, `predictions` out. Pure.

`{"instances": [[...], ...]}` -> `{"predictions": [...]}`: class, label and probabilities for
classifiers (what the card's task and labels say), one value per row for regressors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from service.cards import ModelCard
from service.errors import BadRequest
from service.protocol.tensors import cast, datatype_of, numeric_array


def instances_array(instances: Any, features: int, dtype: np.dtype[Any]) -> np.ndarray:
    """v1 `instances` (rows, or bare numbers for one-feature models) -> [N, features]."""
    if not isinstance(instances, list) or not instances:
        raise BadRequest("instances must be a non-empty list of rows of numbers")
    raw = numeric_array("instances", instances)
    if raw.ndim == 1 and features == 1:
        raw = raw.reshape(-1, 1)
    if raw.ndim != 2 or raw.shape[1] != features:
        raise BadRequest(
            f"instances must be rows of {features} numbers, got an array of shape {list(raw.shape)}"
        )
    return cast("instances", raw, datatype_of(dtype), dtype)


def predictions(card: ModelCard, outputs: dict[str, np.ndarray]) -> list[Any]:
    """The model's outputs as v1 predictions, shaped by the card's task."""
    if card.task == "classification":
        probabilities = outputs[_probability_output(card)]  # [N, classes]
        return _classes(card, probabilities.argmax(axis=1), probabilities)
    if card.task == "binary-classification":
        p = outputs[_probability_output(card)].reshape(-1)  # [N] P(class 1)
        return _classes(card, (p >= 0.5).astype(np.int64), np.stack([1 - p, p], axis=1))
    if card.task == "lesson":  # every output is the lesson, not one prediction: name them all
        rows = next(iter(outputs.values())).shape[0]
        return [{name: _value(outputs[name][i]) for name in outputs} for i in range(rows)]
    values = outputs[card.outputs[0].name]  # [N, 1] or [N, k]
    # Arrays, not .tolist(): orjson writes float32 at its own precision (169.38277, not
    # 169.3827667236328).
    return list(values.reshape(-1) if values.shape[1] == 1 else values)


def _value(row: np.ndarray) -> Any:
    """One row of one output: a number for a [N, 1] output, else the row's values."""
    return row[0] if row.shape == (1,) else row


def _probability_output(card: ModelCard) -> str:
    """The output holding probabilities: named so by the contract, else the card's last."""
    names = [spec.name for spec in card.outputs]
    return next((n for n in names if n.startswith("probabilit")), names[-1])


def _classes(card: ModelCard, classes: np.ndarray, probabilities: np.ndarray) -> list[Any]:
    labels = card.labels or [str(i) for i in range(probabilities.shape[1])]
    return [
        {"class": int(c), "label": labels[int(c)], "probabilities": row}
        for c, row in zip(classes.tolist(), probabilities, strict=True)
    ]
