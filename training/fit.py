"""`python -m training fit <name>|all`: train, export to ONNX, verify and publish into models/.

Examples::

    python -m training fit all                      # retrain every model into models/
    python -m training fit mnist-mlp --epochs 3 --out /tmp/models
    python -m training fit all --dry-run --out /tmp/smoke   # one tiny batch each (CI)
    python -m training fit logistic-regression --verbose  # a line per epoch, not only the bar
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import torch

from service.cards import ModelCard
from training.catalog import SPECS, ModelSpec
from training.data import MnistError, default_data_dir
from training.download import ensure_mnist
from training.export import ExportError
from training.publish import publish
from training.train import EPOCH_LINES_UP_TO, OBJECTIVES, TrainConfig, fit

DRY_RUN_BATCH = 32


class DeviceError(Exception):
    """The requested device does not exist on this machine."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training fit",
        description="Train models, export them to ONNX, verify parity and write their cards.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("name", choices=[*SPECS, "all"], help="model to train, or all")
    parser.add_argument("--epochs", type=int, help="epochs (default %(default)s: the model's own)")
    parser.add_argument(
        "--batch-size", type=int, help="batch size (default %(default)s: the model's own)"
    )
    parser.add_argument(
        "--lr", type=float, help="(peak) learning rate (default %(default)s: the model's)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="MNIST directory")
    parser.add_argument("--out", type=Path, default=Path("models"), help="model repository")
    parser.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default="auto",
        help="auto: CUDA when available, else CPU; cuda: fail when CUDA is unavailable",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--dry-run", action="store_true", help="one tiny batch per model")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help=f"a line per epoch even past {EPOCH_LINES_UP_TO} epochs (the bar always shows them)",
    )
    return parser.parse_args(argv)


def resolve_device(choice: str) -> torch.device:
    """auto picks CUDA when present; cuda without a GPU is an error, not a silent fallback."""
    if choice == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            f"--device cuda requested but CUDA is not available (torch {torch.__version__}, "
            f"built with CUDA {torch.version.cuda}); use --device cpu or auto"
        )
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def train_config(spec: ModelSpec, args: argparse.Namespace) -> TrainConfig:
    """The model's defaults with the command line's overrides; --dry-run shrinks to one batch."""
    config = spec.defaults
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr}
    config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    if args.dry_run:
        batch = min(config.batch_size, DRY_RUN_BATCH)
        config = dataclasses.replace(config, epochs=1, batch_size=batch, max_batches=1)
    return config


def fit_one(spec: ModelSpec, args: argparse.Namespace, device: torch.device) -> ModelCard:
    """Seed, build, train, publish one model."""
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    torch.manual_seed(args.seed)  # before the model is built: its initial weights are seeded
    prepare = spec.dry_run_prepare if args.dry_run and spec.dry_run_prepare else spec.prepare
    prepared = prepare(args.data_dir)
    config = train_config(spec, args)
    prepared.model.to(device)
    train, test = prepared.train.to(device), prepared.test.to(device)
    objective = OBJECTIVES[spec.task if spec.task != "function" else "regression"]
    history = fit(
        prepared.model, train, test, objective, config, args.seed, spec.name, args.verbose
    )
    elapsed = time.perf_counter() - started
    # The machine may be shared: the load average says how much of it training had.
    load = f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}"
    run = {"seed": args.seed, "device": str(device), "time_s": elapsed, "load_average": load}
    return publish(spec, prepared, history, config, run, args.out)


def summary(card: ModelCard, out: Path) -> str:
    """One line per model: the headline metric, ONNX parity, time and where it went."""
    metrics, info = card.metrics, card.training
    if "test_accuracy" in metrics:
        headline = f"test accuracy {metrics['test_accuracy']:.4f}"
    else:
        headline = f"test mse {metrics['test_mse']:.4g}"
    timing = ""
    if info is not None:
        timing = f", {info.epochs} epochs in {info.time_s:.1f}s ({info.epoch_time_s:.2f}s/epoch"
        timing += f", {info.samples_per_s:.0f} samples/s)" if info.samples_per_s else ")"
    parity = f"onnx max|diff| {metrics['onnx_max_abs_diff']:.1e}"
    return f"{card.name}: {headline}, {parity}{timing} -> {out / card.name / str(card.version)}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    names = list(SPECS) if args.name == "all" else [args.name]
    try:
        device = resolve_device(args.device)
        if any(name.startswith("mnist-") for name in names):
            ensure_mnist(args.data_dir)
        for name in names:
            card = fit_one(SPECS[name], args, device)
            print(summary(card, args.out), flush=True)
    except (DeviceError, MnistError, ExportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
