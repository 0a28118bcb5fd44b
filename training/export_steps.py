"""`python -m training export-steps <name>|all`: write step.onnx for models in the repository.

A trained entry's step graph is exported from its committed model.onnx (the card must be
there: `fit` writes it); an untrained entry (a function such as the quadratic bowl) has
nothing to train, so it is written whole, model.onnx and card included.

    python -m training export-steps <name>|all [--models-dir models] [--version 1]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from training.catalog import CATALOG, STEPPED, FunctionSpec
from training.publish import publish_function
from training.step_export import add_step_graph


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training export-steps", description=__doc__)
    parser.add_argument("name", choices=[*STEPPED, "all"], help="model, or all")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="(%(default)s)")
    parser.add_argument("--version", type=int, default=1, help="(default: %(default)s)")
    args = parser.parse_args(argv)
    if args.name != "all":  # a trained model asked for by name must be there
        card = args.models_dir / args.name / str(args.version) / "card.json"
        if not isinstance(CATALOG[args.name], FunctionSpec) and not card.is_file():
            parser.error(f"no card in {card.parent}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = STEPPED if args.name == "all" else [args.name]
    for name in names:
        spec, version_dir = CATALOG[name], args.models_dir / name / str(args.version)
        if isinstance(spec, FunctionSpec):
            publish_function(spec, args.models_dir)
        elif not (version_dir / "card.json").is_file():
            print(f"{name}: no card in {version_dir}, skipped")
            continue
        else:
            add_step_graph(version_dir, spec.step)
        path = version_dir / "step.onnx"
        print(f"{name}: wrote {path} ({path.stat().st_size} bytes), onnxruntime == torch")
    return 0
