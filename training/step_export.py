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
import onnxruntime as ort
import torch
from onnx import numpy_helper

from service.cards import ModelCard, StepSpec, TensorSpec, file_entry, read_card, write_card
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
TOLERANCE = 1e-4  # |onnx - torch| <= TOLERANCE * (1 + max |torch|), per output


def _regression(card: ModelCard) -> StepGraph:
    return RegressionStep(card.preprocessing.mean, card.preprocessing.std)


STEP_KINDS: dict[str, Callable[[ModelCard], StepGraph]] = {
    "linear-regression": _regression,
    "polynomial-regression": _regression,
    "logistic-regression": lambda card: LogisticStep(),
    "mnist-softmax": lambda card: SoftmaxStep(),
    "mnist-mlp": lambda card: MLPStep(),
    "quadratic-bowl": lambda card: QuadraticBowlStep(),
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


def check_step(step: StepGraph, path: Path, feeds: dict[str, np.ndarray]) -> float:
    """Largest scaled |onnxruntime - torch| over the outputs; raises above TOLERANCE."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = dict(zip(step.output_names(), session.run(step.output_names(), feeds), strict=True))
    worst = 0.0
    for name, want in run_torch(step, feeds).items():
        error = float(np.max(np.abs(got[name] - want))) / (1.0 + float(np.max(np.abs(want))))
        if not error <= TOLERANCE:
            raise StepExportError(f"{path}: output {name} differs from torch by {error:.3g}")
        worst = max(worst, error)
    return worst


def step_spec(step: StepGraph, card: ModelCard) -> StepSpec:
    """card.step: the graph's names, so the service builds feeds from the card alone."""
    x, y = data_specs(card)
    return StepSpec(
        loss=step.loss,
        parameters=card.parameters,
        x=x,
        y=y,
        gradient_outputs={p: f"grad.{p}" for p in step.parameter_names},
        updated_outputs={p: f"next.{p}" for p in step.parameter_names},
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
    parser.add_argument("name", help="a model name, or all (default: %(default)s)")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="(%(default)s)")
    parser.add_argument("--version", type=int, default=1, help="(default: %(default)s)")
    args = parser.parse_args(argv)
    names = sorted(STEP_KINDS) if args.name == "all" else [args.name]
    for name in names:
        version_dir = args.models_dir / name / str(args.version)
        if not (version_dir / "card.json").is_file():
            print(f"{name}: no card in {version_dir}, skipped")
            continue
        path = add_step_graph(version_dir)
        print(f"{name}: wrote {path} ({path.stat().st_size} bytes), onnxruntime == torch")
    return 0
