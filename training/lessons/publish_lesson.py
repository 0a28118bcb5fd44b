"""Export a calculus lesson to models/<name>/1/ and prove onnxruntime computes what torch does.

model.onnx holds the whole lesson, the hand-written backward half included, so onnxruntime
computes every output. Parity: on the lesson's example and on a seeded random batch, every
output of onnxruntime must match the torch module to PARITY_TOLERANCE (relative to the
output's size), else ExportError and nothing is written beyond the checked file.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import Tensor

from service.cards import write_card
from training.export import PARITY_TOLERANCE, ExportError, cpu_session, export_graph
from training.lessons.calculus import LESSONS, Lesson, lesson_card

BY_NAME = {lesson.name: lesson for lesson in LESSONS}
PARITY_ROWS = 64


def random_like(args: tuple[Tensor, ...], seed: int = 0) -> tuple[Tensor, ...]:
    """A seeded batch shaped like args (PARITY_ROWS rows); positive where the lesson divides
    by an input (h, temperature: the last column of the last input)."""
    gen = torch.Generator().manual_seed(seed)
    batch = [torch.randn(PARITY_ROWS, a.shape[1], generator=gen, dtype=a.dtype) * 3 for a in args]
    batch[-1][:, -1] = batch[-1][:, -1].abs() + 1e-3
    return tuple(batch)


def check_parity(path: Path, lesson: Lesson, args: tuple[Tensor, ...]) -> float:
    """Largest |onnxruntime - torch| / (1 + max|torch|) over the outputs; raises past tolerance."""
    module = lesson.build().eval()
    with torch.no_grad():
        want = module(*args)
    want = (want,) if isinstance(want, Tensor) else want
    feeds = {name: a.numpy() for name, a in zip(lesson.input_names, args, strict=True)}
    got = cpu_session(path).run(lesson.output_names, feeds)
    worst = 0.0
    for name, g, w in zip(lesson.output_names, got, want, strict=True):
        w_np = w.numpy()
        error = float(np.max(np.abs(g - w_np)) / (1.0 + np.max(np.abs(w_np))))
        if g.dtype != w_np.dtype or g.shape != w_np.shape or not error <= PARITY_TOLERANCE:
            raise ExportError(f"{lesson.name}: output {name} differs from torch ({error:.3g})")
        worst = max(worst, error)
    return worst


def write_lesson(lesson: Lesson, version_dir: Path) -> float:
    """model.onnx (checked) and card.json into version_dir; returns the parity error."""
    version_dir.mkdir(parents=True, exist_ok=True)
    example = lesson.example()
    # Every input's axis 0 is the batch; softmax's scores also take any number K of columns.
    more = {s.name: [i for i, d in enumerate(s.shape) if d < 0 and i > 0] for s in lesson.inputs}
    names = lesson.input_names
    model = export_graph(lesson.build(), example, names, lesson.output_names, names, more_axes=more)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(version_dir / "model.onnx"))
    worst = max(
        check_parity(version_dir / "model.onnx", lesson, example),
        check_parity(version_dir / "model.onnx", lesson, random_like(example)),
    )
    write_card(version_dir, lesson_card(lesson, version_dir))
    return worst


def main(argv: list[str] | None = None) -> int:
    """`python -m training lessons [names...] [--models-dir models]`."""
    parser = argparse.ArgumentParser(
        prog="python -m training lessons", description="Export the calculus lesson models."
    )
    parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(BY_NAME)}")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="(%(default)s)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BY_NAME))
    if unknown:
        parser.error(f"unknown lesson {unknown[0]!r}; choose from {', '.join(BY_NAME)}")
    for name in args.names or list(BY_NAME):
        worst = write_lesson(BY_NAME[name], args.models_dir / name / "1")
        print(f"{name}: wrote {args.models_dir / name / '1'} (parity {worst:.2g})")
    return 0


def writer(lesson: Lesson) -> Callable[[Path], None]:
    """The catalog's `write(version_dir)` for a lesson."""

    def write(version_dir: Path) -> None:
        write_lesson(lesson, version_dir)

    return write
