"""Export a model version's gradient-step graph, step.onnx, and record it in the card.

`add_step_graph(version_dir, build)` reads card.json and model.onnx's initializers (the
parameter names, shapes and trained values), builds the hand-written step module with
`build(card)` (a catalog entry's `step`), exports it with a dynamic batch axis, checks
onnxruntime against torch on a batch size the export never saw, then writes step.onnx and
card.step + files["step"] (sha256). The command is training.export_steps.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import torch

from service.cards import ModelCard, StepSpec, file_entry, read_card, write_card
from training.backprop.polynomial import MAX_DEGREE
from training.backprop.steps import StepGraph
from training.export import export_graph, read_initializers
from training.step_parity import check_step, data_specs, example_feeds

STEP_FILE = "step.onnx"
StepBuilder = Callable[[ModelCard], StepGraph]


class StepExportError(RuntimeError):
    """The step graph could not be built or does not reproduce the torch step."""


def trained_parameters(version_dir: Path, card: ModelCard) -> dict[str, np.ndarray]:
    """The card's parameters read from model.onnx, checked against the card's shapes."""
    found = read_initializers(version_dir / card.files["model"].path)
    params: dict[str, np.ndarray] = {}
    for spec in card.parameters:
        if spec.name not in found:
            raise StepExportError(f"{card.name}: parameter {spec.name} not in model.onnx")
        if list(found[spec.name].shape) != spec.shape:
            shape = list(found[spec.name].shape)
            raise StepExportError(f"{card.name}: {spec.name} is {shape}, card says {spec.shape}")
        params[spec.name] = found[spec.name].astype(np.float32)
    return params


def export_step(step: StepGraph, feeds: dict[str, np.ndarray], path: Path) -> None:
    """step.onnx with x and y batch-dynamic; parameters and scalars keep their shapes."""
    names = step.input_names()
    args = tuple(torch.from_numpy(np.asarray(feeds[n])) for n in names)
    onnx.save(export_graph(step, args, names, step.output_names(), ("x", "y")), str(path))


def step_spec(step: StepGraph, card: ModelCard) -> StepSpec:
    """card.step: the graph's names, so the service builds feeds from the card alone."""
    x, y = data_specs(card)
    degree = getattr(step, "option", None)  # an extra input: the polynomial degree
    return StepSpec(
        loss=step.loss,
        parameters=card.parameters,
        x=x,
        y=y,
        gradient_outputs={p: f"grad.{p}" for p in step.parameter_names},
        updated_outputs={p: f"next.{p}" for p in step.parameter_names},
        prediction_output=getattr(step, "prediction", None),
        degree=degree,
        max_degree=MAX_DEGREE if degree is not None else None,
    )


def add_step_graph(version_dir: Path, build: StepBuilder) -> Path:
    """Export, verify and record version_dir/step.onnx; returns its path."""
    card = read_card(version_dir)
    step = build(card).eval()
    if [p.name for p in card.parameters] != list(step.parameter_names):
        raise StepExportError(f"{card.name}: card parameters do not match the step graph")
    params = trained_parameters(version_dir, card)
    path = version_dir / STEP_FILE
    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / STEP_FILE
        export_step(step, example_feeds(card, params, m=8, seed=0), candidate)
        check_step(step, candidate, example_feeds(card, params, m=5, seed=1))
        path.write_bytes(candidate.read_bytes())
    files = {**card.files, "step": file_entry(version_dir, STEP_FILE)}
    write_card(version_dir, card.model_copy(update={"files": files, "step": step_spec(step, card)}))
    return path
