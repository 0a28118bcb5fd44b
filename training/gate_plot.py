"""digit-gate's picture: what the committed gate says of pieces it never saw.

Left, typed and scribbled pictures cut by the service, each piece with the gate's P(digit)
(green: likely a digit; red: likely not, under service.images.gate.UNLIKE). Right, the
spread of P(digit) over those pieces, digits against letters and shapes. model.onnx runs in
onnxruntime; no MNIST needed (the typed numbers stand in for the handwritten ones).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from matplotlib.figure import Figure

from service.images.gate import UNLIKE
from training.gate import tensors
from training.gate_data import cut_set

PLOT_SEED = 3
SHOWN = (6, 10)  # rows, columns of pieces


def plot_gate(version_dir: Path, fig: Figure) -> None:
    pieces = cut_set(np.zeros((0, 28, 28), np.uint8), 160, PLOT_SEED)
    model = str(version_dir / "model.onnx")
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    x = tensors(pieces.images, pieces.marks).x.numpy()
    p_digit = session.run(["probability"], {"input": x})[0][:, 0]  # [n]
    grid, spread = fig.subfigures(1, 2, width_ratios=[1.4, 1])
    rows, cols = SHOWN
    order = np.random.default_rng(PLOT_SEED).permutation(len(x))[: rows * cols]
    for k, axes in enumerate(grid.subplots(rows, cols).flat):
        axes.set_axis_off()
        if k < len(order):
            i = order[k]
            axes.imshow(pieces.images[i], cmap="gray", vmin=0, vmax=255)
            colour = "tab:green" if p_digit[i] >= UNLIKE else "tab:red"
            axes.set_title(f"{p_digit[i]:.2f}", color=colour, fontsize=8)
    grid.suptitle("digit-gate: P(digit) of pieces /predict cut (red: likely not a digit)")
    axes = spread.subplots()
    bins = np.linspace(0, 1, 21)
    for mark, label, colour in ((1.0, "digits", "tab:green"), (0.0, "letters, shapes", "tab:red")):
        axes.hist(p_digit[pieces.marks == mark], bins, alpha=0.6, label=label, color=colour)
    axes.axvline(UNLIKE, color="black", linestyle="--", label="likely not a digit under")
    axes.set(xlabel="P(digit)", ylabel="pieces", yscale="log", title="the gate's spread")
    axes.legend()
