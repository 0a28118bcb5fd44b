"""Parity of an exported step graph with its torch module: example batches, both runs, the check.

The torch module is the reference (its gradients are checked against autograd and central
differences in tests/training/test_steps.py); onnxruntime must reproduce it on a batch size
the export never saw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from service.cards import ModelCard, TensorSpec
from training.backprop.steps import StepGraph
from training.export import PARITY_TOLERANCE, cpu_session


class StepParityError(RuntimeError):
    """onnxruntime's step graph does not reproduce the torch step module."""


def data_specs(card: ModelCard) -> tuple[TensorSpec | None, TensorSpec | None]:
    """The step graph's x (the model's input) and y (by task) specs; none for a function."""
    if card.task == "function":
        return None, None
    x = TensorSpec(name="x", datatype="FP32", shape=card.inputs[0].shape)
    y_type = "INT64" if card.task == "classification" else "FP32"
    return x, TensorSpec(name="y", datatype=y_type, shape=[-1])


def example_feeds(
    card: ModelCard, params: dict[str, np.ndarray], m: int, seed: int
) -> dict[str, np.ndarray]:
    """Parameters plus a random batch of m rows in the ranges the model sees."""
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = dict(params)
    x_spec, y_spec = data_specs(card)
    if x_spec is not None and y_spec is not None:
        n = x_spec.shape[1]
        centre = np.float32(card.preprocessing.mean[0]) if card.task == "regression" else 0.0
        spread = np.float32(card.preprocessing.std[0]) if card.task == "regression" else 1.0
        feeds["x"] = (centre + spread * rng.standard_normal((m, n))).astype(np.float32)
        feeds["y"] = example_targets(card, rng, m)
    feeds["learning_rate"] = np.array(0.05, dtype=np.float32)
    feeds["l2"] = np.array(0.1, dtype=np.float32)
    if card.preprocessing.kind == "legendre":  # degree 3..9: model.onnx is degree 3
        feeds["degree"] = np.array(int(rng.integers(3, 10)), dtype=np.int64)
    return feeds


def example_targets(card: ModelCard, rng: np.random.Generator, m: int) -> np.ndarray:
    if card.task == "classification":
        return rng.integers(0, len(card.labels) or 10, size=m).astype(np.int64)
    if card.task == "binary-classification":
        return rng.integers(0, 2, size=m).astype(np.float32)
    return rng.standard_normal(m).astype(np.float32)


def run_torch(step: StepGraph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The torch step module on numpy feeds, outputs by their ONNX names."""
    with torch.no_grad():
        outputs = step(*(torch.from_numpy(np.asarray(feeds[n])) for n in step.input_names()))
    return {name: out.numpy() for name, out in zip(step.output_names(), outputs, strict=True)}


def check_step(step: StepGraph, path: Path, feeds: dict[str, np.ndarray]) -> float:
    """Largest |onnxruntime - torch| / (1 + max |torch|) over the outputs; raises above
    PARITY_TOLERANCE (scaled: a gradient of 1e3 may differ by 0.1 in float32)."""
    session = cpu_session(path)
    got = dict(zip(step.output_names(), session.run(step.output_names(), feeds), strict=True))
    worst = 0.0
    for name, want in run_torch(step, feeds).items():
        error = float(np.max(np.abs(got[name] - want))) / (1.0 + float(np.max(np.abs(want))))
        if not error <= PARITY_TOLERANCE:
            raise StepParityError(f"{path}: output {name} differs from torch by {error:.3g}")
        worst = max(worst, error)
    return worst
