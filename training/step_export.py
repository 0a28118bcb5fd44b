"""Export a model version's gradient-step graph, step.onnx, and record it in the card.

`add_step_graph(version_dir)` reads card.json and model.onnx's initializers (the parameter
names, shapes and trained values), builds the hand-written step module of training.steps,
exports it with a dynamic batch axis, checks onnxruntime against torch on a batch size the
export never saw, then writes step.onnx and card.step + files["step"] (sha256).

    python -m training export-steps <name>|all [--models-dir models]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from service.cards import ModelCard, StepSpec, file_entry, read_card, write_card
from training.backprop.polynomial import MAX_DEGREE, PolynomialFitStep
from training.backprop.sigmoid_mlp import TinyMLPStep
from training.backprop.two_minima import TwoMinimaStep
from training.step_parity import check_step, data_specs, example_feeds
from training.steps import (
    LogisticStep,
    MLPStep,
    QuadraticBowlStep,
    RegressionStep,
    SoftmaxStep,
    StepGraph,
)

STEP_FILE = "step.onnx"
OPSET = 18


def _regression(card: ModelCard) -> StepGraph:
    return RegressionStep(card.preprocessing.mean, card.preprocessing.std)


STEP_KINDS: dict[str, Callable[[ModelCard], StepGraph]] = {
    "linear-regression": _regression,
    "polynomial-regression": _regression,
    "logistic-regression": lambda card: LogisticStep(),
    "mnist-softmax": lambda card: SoftmaxStep(),
    "mnist-mlp": lambda card: MLPStep(),
    "quadratic-bowl": lambda card: QuadraticBowlStep(),
    "tiny-mlp": lambda card: TinyMLPStep(),
    "polynomial-fit": lambda card: PolynomialFitStep(
        card.preprocessing.mean[0], card.preprocessing.std[0]
    ),
    "two-minima": lambda card: TwoMinimaStep(),
}


class StepExportError(RuntimeError):
    """The step graph could not be built or does not reproduce the torch step."""


def build_step(card: ModelCard) -> StepGraph:
    """The step module for a card's model (by name: the names are the public API)."""
    if card.name not in STEP_KINDS:
        raise StepExportError(f"no step graph for model {card.name!r}")
    return STEP_KINDS[card.name](card).eval()


def read_initializers(model_path: Path) -> dict[str, np.ndarray]:
    """model.onnx's initializers by name, as numpy arrays."""
    graph = onnx.load(str(model_path)).graph
    return {init.name: numpy_helper.to_array(init) for init in graph.initializer}


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


@contextmanager
def quiet_exporter() -> Iterator[None]:
    """Silence torch.onnx's chatter (torchvision registry notes, its dependencies' deprecation
    warnings): not ours to fix; our failures surface as exceptions or in the parity check."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def export_step(step: StepGraph, feeds: dict[str, np.ndarray], path: Path) -> None:
    """torch.onnx.export (the torch.export-based exporter) with x and y batch-dynamic."""
    names = step.input_names()
    args = tuple(torch.from_numpy(np.asarray(feeds[n])) for n in names)
    batch = torch.export.Dim("batch")
    shapes = tuple({0: batch} if n in ("x", "y") else None for n in names)
    with quiet_exporter():
        program = torch.onnx.export(
            step,
            args,
            input_names=names,
            output_names=step.output_names(),
            dynamic_shapes=shapes,
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
    if program is None:
        raise StepExportError("torch.onnx.export returned no program")
    program.save(str(path))
    strip_stack_traces(path)


def strip_stack_traces(path: Path) -> None:
    """Drop the exporter's per-node Python stack traces: they hold this checkout's absolute
    paths and line numbers, so the same graph would get a new sha256 on every machine."""
    model = onnx.load(str(path))
    for node in model.graph.node:
        kept = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(kept)
    onnx.save(model, str(path))


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


def add_step_graph(version_dir: Path) -> Path:
    """Export, verify and record version_dir/step.onnx; returns its path."""
    card = read_card(version_dir)
    step = build_step(card)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training export-steps", description=__doc__)
    parser.add_argument("name", choices=[*sorted(STEP_KINDS), "all"], help="model, or all")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="(%(default)s)")
    parser.add_argument("--version", type=int, default=1, help="(default: %(default)s)")
    args = parser.parse_args(argv)
    names = sorted(STEP_KINDS) if args.name == "all" else [args.name]
    for name in names:
        version_dir = args.models_dir / name / str(args.version)
        if name == "quadratic-bowl" and not (version_dir / "card.json").is_file():
            from training.bowl import write_bowl  # here: training.bowl imports this module

            write_bowl(args.models_dir)  # nothing to train: the bowl is written, step and all
        if not (version_dir / "card.json").is_file():
            if args.name != "all":  # a model asked for by name must be there
                parser.error(f"no card in {version_dir}")
            print(f"{name}: no card in {version_dir}, skipped")
            continue
        path = add_step_graph(version_dir)
        print(f"{name}: wrote {path} ({path.stat().st_size} bytes), onnxruntime == torch")
    return 0
