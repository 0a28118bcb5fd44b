"""`python -m training plot-descent <name>|all`: the catalog's descent pictures, as PNGs.

Every step is run by onnxruntime from the model's step.onnx (see training.descent and
training.lessons.plots for what each picture shows); entries without a `plot` have none.

    python -m training plot-descent <name>|all [--models-dir models] [--out PNG]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.figure import Figure

from training.catalog import CATALOG

PLOTTED = [name for name, spec in CATALOG.items() if spec.plot is not None]


def plot_descent(name: str, models_dir: Path, out: Path) -> Path:
    """Run `name`'s step graph and save the picture to `out`."""
    plot = CATALOG[name].plot
    assert plot is not None  # argparse offers only PLOTTED names
    fig = Figure(figsize=(12, 5.2), layout="constrained")
    plot(models_dir / name / "1", fig)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training plot-descent",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", choices=[*PLOTTED, "all"])
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="(%(default)s)")
    parser.add_argument("--out", type=Path, help="PNG path (default docs/img/descent-<name>.png)")
    args = parser.parse_args(argv)
    names = PLOTTED if args.name == "all" else [args.name]
    if args.out is not None and len(names) > 1:
        parser.error("--out names one file: give one model, not all")
    for name in names:
        out = args.out or Path("docs/img") / f"descent-{name}.png"
        print(f"{name}: wrote {plot_descent(name, args.models_dir, out)}")
    return 0
