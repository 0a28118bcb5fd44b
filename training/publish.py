"""Publish a catalog entry into the repository: model.onnx, curve.png, card.json, step.onnx.

Layout (Triton-like): <out>/<name>/1/. The card is written last among our files, after the
export passed its parity check, so a card never describes a file that failed verification.
A trained entry is published after `fit`; an untrained one is written whole by its `write`.
"""

from __future__ import annotations

import logging
import os
import platform
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch
from torch import nn

from service.cards import ModelCard, TensorSpec, TrainingInfo, file_entry, write_card
from training.card_data import card_data
from training.catalog import FunctionSpec, ModelSpec
from training.export import check_parity, export_onnx
from training.plots import plot_curve
from training.prepare import Prepared
from training.step_export import add_step_graph
from training.train import History, TrainConfig

log = logging.getLogger(__name__)
VERSION = 1
FILES = {"model": "model.onnx", "curve": "curve.png"}
"""The files a trained entry's card names first (step.onnx joins them once it is exported)."""


def publish(
    spec: ModelSpec,
    prepared: Prepared,
    history: History,
    config: TrainConfig,
    run: dict[str, float | int | str],
    out_dir: Path,
) -> ModelCard:
    """Export, verify, plot and describe one trained model; returns the card written."""
    version_dir = out_dir / spec.name / str(VERSION)
    version_dir.mkdir(parents=True, exist_ok=True)
    model = prepared.model.cpu().eval()
    onnx_path = version_dir / "model.onnx"
    outputs = [out.name for out in spec.outputs]
    export_onnx(model, prepared.test.x[:2].cpu(), onnx_path, spec.inputs[0].name, outputs)
    classifier = spec.task != "regression"
    worst = check_parity(onnx_path, model, prepared.test.x, classifier)
    plot_curve(history, f"{spec.name}: {spec.description.split(':')[0]}", version_dir / "curve.png")
    metrics = {**task_metrics(spec, prepared, history), "onnx_max_abs_diff": worst}
    card = ModelCard(
        name=spec.name,
        version=VERSION,
        task=spec.task,
        description=spec.description,
        inputs=spec.inputs,
        outputs=spec.outputs,
        preprocessing=prepared.preprocessing,
        labels=spec.labels,
        parameters=parameter_specs(model),
        metrics=metrics,
        files={role: file_entry(version_dir, path) for role, path in FILES.items()},
        data=card_data(prepared.train, prepared.test),
        training=training_info(prepared, history, config, run),
        role=spec.role,
    )
    write_card(version_dir, card)
    add_step_graph(version_dir, spec.step)
    return card


def publish_function(spec: FunctionSpec, out_dir: Path) -> Path:
    """An untrained entry: model.onnx and card.json by its `write`, then its step graph."""
    version_dir = out_dir / spec.name / str(VERSION)
    version_dir.mkdir(parents=True, exist_ok=True)
    spec.write(version_dir)
    if spec.step is not None:
        add_step_graph(version_dir, spec.step)
    return version_dir


def parameter_specs(model: nn.Module) -> list[TensorSpec]:
    """card.parameters: the state_dict's names and shapes (the contract's parameter names)."""
    return [TensorSpec(name=k, shape=list(v.shape)) for k, v in model.state_dict().items()]


def task_metrics(spec: ModelSpec, prepared: Prepared, history: History) -> dict[str, float]:
    """Test figures of the final model (the last evaluation of the fit)."""
    if spec.task == "regression":
        metrics = {"test_mse": history.test_loss[-1], "train_mse": history.train_loss[-1]}
        return metrics | raw_coefficients(prepared)
    return {
        "test_accuracy": history.test_accuracy[-1],
        "test_loss": history.test_loss[-1],
        "train_accuracy": history.train_accuracy[-1],
        "test_samples": float(len(prepared.test)),
    }


def raw_coefficients(prepared: Prepared) -> dict[str, float]:
    """Map standardized-space parameters back to raw x: y = c0 + c1 x + c2 x^2 + ...

    With z_k = (x^k - m_k) / s_k and y = b + sum_k w_k z_k: c_k = w_k / s_k and
    c0 = b - sum_k w_k m_k / s_k. For one feature c1 is the slope and c0 the intercept.
    Legendre features have no such reading (the card's parameters are the coefficients).
    """
    if prepared.preprocessing.kind == "legendre":
        return {}
    w = prepared.model.state_dict()["linear.weight"].double().numpy()[0]  # [degree]
    b = float(prepared.model.state_dict()["linear.bias"].double().item())
    mean = np.asarray(prepared.preprocessing.mean, dtype=np.float64)  # [degree]
    std = np.asarray(prepared.preprocessing.std, dtype=np.float64)  # [degree]
    coefficients = [b - float(np.sum(w * mean / std)), *(w / std).tolist()]
    if len(coefficients) == 2:
        return {"intercept": coefficients[0], "slope": coefficients[1]}
    return {f"coef_{k}": float(c) for k, c in enumerate(coefficients)}


def training_info(
    prepared: Prepared, history: History, config: TrainConfig, run: dict[str, float | int | str]
) -> TrainingInfo:
    train_time = sum(history.epoch_time_s)
    return TrainingInfo(
        config={
            "train": asdict(config),
            "model": prepared.model_config,
            "machine": {"cpus": os.cpu_count(), "load_average_1m": run["load_average"]},
        },
        seed=int(run["seed"]),
        device=str(run["device"]),
        epochs=len(history.train_loss),
        time_s=round(float(run["time_s"]), 3),
        epoch_time_s=round(train_time / max(1, len(history.epoch_time_s)), 3),
        samples_per_s=round(history.samples / train_time, 1) if train_time > 0 else None,
        data_sha256=prepared.data_sha256,
        versions={
            "python": platform.python_version(),
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
            "numpy": np.__version__,
            "threads": str(torch.get_num_threads()),
        },
    )
