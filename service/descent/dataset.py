"""Where a gradient-step request's data comes from: its own x and y, else the card's data set.

A request that sends neither x nor y learns from the model card's data set (card.data), its
validation part included, so a one-line curl needs no data of its own. A request that sends
x and y may send validation_x and validation_y beside them. `probe` rows are checked like x;
the answer carries the model's prediction at each of them under the final parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from service.cards import ModelCard, StepSpec
from service.descent.inputs import Batch, Limits, decode_batch, field_array
from service.errors import Unprocessable


@dataclass(frozen=True)
class Data:
    """The batch each step learns from, the held-out batch it is measured on, the probe rows."""

    train: Batch
    validation: Batch | None = None
    probe: np.ndarray | None = None


@dataclass(frozen=True)
class DataFields:
    """The request's data fields, as sent (None where absent)."""

    x: Any = None
    y: Any = None
    validation_x: Any = None
    validation_y: Any = None
    probe: Any = None


def choose_data(fields: DataFields, spec: StepSpec, card: ModelCard, limits: Limits) -> Data:
    """The request's data, else the card's; every array checked (422 naming the field)."""
    probe = decode_probe(fields.probe, spec, card, limits)
    if fields.x is None and fields.y is None and card.data is not None and spec.x is not None:
        if fields.validation_x is not None or fields.validation_y is not None:
            raise Unprocessable("validation_x and validation_y need x and y beside them")
        data = card.data
        train = decode_batch(data.x, data.y, spec, card, limits)
        if not data.validation_x:
            return Data(train, None, probe)
        validation = decode_batch(data.validation_x, data.validation_y, spec, card, limits)
        return Data(train, validation, probe)
    train = decode_batch(fields.x, fields.y, spec, card, limits)
    if fields.validation_x is None and fields.validation_y is None:
        return Data(train, None, probe)
    if fields.validation_x is None or fields.validation_y is None:
        missing = "validation_x" if fields.validation_x is None else "validation_y"
        raise Unprocessable(f"{missing} is required beside the other validation field")
    try:
        validation = decode_batch(fields.validation_x, fields.validation_y, spec, card, limits)
    except Unprocessable as exc:
        raise Unprocessable(f"validation: {exc.message}") from None
    return Data(train, validation, probe)


def decode_probe(probe: Any, spec: StepSpec, card: ModelCard, limits: Limits) -> np.ndarray | None:
    """Rows of x at which to report the model's prediction; only where the graph makes one."""
    if probe is None:
        return None
    if spec.prediction_output is None or spec.x is None:
        raise Unprocessable(f"probe: model {card.name} reports no predictions, send no probe")
    rows = field_array("probe", probe)
    n = spec.x.shape[-1]
    if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] != n:
        raise Unprocessable(f"probe must be a non-empty list of rows of {n} numbers")
    if rows.shape[0] > limits.max_batch:
        raise Unprocessable(
            f"probe has {rows.shape[0]} rows, more than the limit of {limits.max_batch}"
        )
    return rows.astype(np.float32)


def probe_feeds(spec: StepSpec, rows: np.ndarray) -> dict[str, np.ndarray]:
    """x = the probe rows and y = zeros (a valid target for every task; its loss is unused)."""
    assert spec.x is not None and spec.y is not None
    dtype = np.int64 if spec.y.datatype == "INT64" else np.float32
    return {spec.x.name: rows, spec.y.name: np.zeros(rows.shape[0], dtype)}
