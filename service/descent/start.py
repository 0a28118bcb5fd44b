"""Where a walk starts: the request's parameters, model.onnx's trained ones, zeros or random.

The served model is never touched: "trained" reads model.onnx's initializers (cached per
file version, read-only), the other starts make new arrays.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import onnx
from onnx import numpy_helper

from service.cards import ModelCard, StepSpec, TensorSpec
from service.descent.inputs import decode_parameters

Init = Literal["trained", "zeros", "random"]
INITS: tuple[str, ...] = get_args(Init)
FUNCTION_START_RANGE = 5.0  # a function's random point is uniform in [-5, 5] per coordinate


def starting_parameters(
    parameters: dict[str, Any] | None,
    init: Init,
    seed: int,
    spec: StepSpec,
    card: ModelCard,
    version_dir: Path,
) -> dict[str, np.ndarray]:
    """The request's parameters, else the `init` choice."""
    if parameters is not None:
        return decode_parameters(parameters, spec.parameters)
    if init == "trained":
        model = version_dir / card.files["model"].path
        stored = trained_initializers(model, card.files["model"].sha256)
        return {p.name: stored[p.name] for p in spec.parameters}
    if init == "zeros":
        return {p.name: np.zeros(p.shape, np.float32) for p in spec.parameters}
    return random_parameters(spec.parameters, seed, card.task == "function")


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
            value = rng.uniform(-FUNCTION_START_RANGE, FUNCTION_START_RANGE, size=p.shape)
        elif len(p.shape) >= 2:
            value = rng.standard_normal(p.shape) / math.sqrt(p.shape[-1])
        else:
            value = np.zeros(p.shape)
        params[p.name] = value.astype(np.float32)
    return params
