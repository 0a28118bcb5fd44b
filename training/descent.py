"""Pictures of gradient descent, every step computed by onnxruntime from a model's step.onnx.

Each `plot_<model>(version_dir, fig)` is its catalog entry's `plot` (drawn by
`python -m training plot-descent`, training.plot_descent).

quadratic-bowl: the descent path over the contours of f from the bowl's start (-4, 4), one
path per learning rate: too small (crawls), good (converges), too large (past 2/13.708 ~ 0.146
every step overshoots across the valley by more than it corrects, so it diverges).
linear-regression: the height/weight points and the line after successive steps from zeros.
logistic-regression: the training blobs and the decision boundary w.x + b = 0 moving.
Each picture has a second panel with the loss per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from matplotlib.figure import Figure

from service.cards import ModelCard, read_card
from training.bowl import bowl_value
from training.data import gaussian_blobs, height_weight
from training.export import cpu_session, read_initializers

Params = dict[str, np.ndarray]


@dataclass
class StepSession:
    """A version's step.onnx in onnxruntime, with its card."""

    card: ModelCard
    session: ort.InferenceSession
    updated: dict[str, str]  # parameter -> its next.<p> output

    @classmethod
    def open(cls, version_dir: Path) -> StepSession:
        card = read_card(version_dir)
        if card.step is None:
            raise SystemExit(f"{version_dir} has no step graph: run export-steps first")
        session = cpu_session(version_dir / card.files["step"].path)
        return cls(card, session, card.step.updated_outputs)

    def walk(
        self, start: Params, data: Params, lr: float, steps: int
    ) -> tuple[list[Params], list[float]]:
        """Parameters before each step and after the last (steps + 1), and each step's loss."""
        scalars = {"learning_rate": np.array(lr, np.float32), "l2": np.array(0.0, np.float32)}
        names = [o.name for o in self.session.get_outputs()]
        path, losses = [start], []
        for _ in range(steps):
            values = self.session.run(None, {**path[-1], **data, **scalars})
            out = dict(zip(names, values, strict=True))
            losses.append(float(out["loss"]))
            path.append({p: out[n] for p, n in self.updated.items()})
        return path, losses


def zeros(card: ModelCard) -> Params:
    return {p.name: np.zeros(p.shape, np.float32) for p in card.parameters}


def plot_bowl(version_dir: Path, fig: Figure) -> None:
    graph = StepSession.open(version_dir)
    picture, losses_ax = fig.subplots(1, 2, width_ratios=[1.3, 1])
    start = read_initializers(version_dir / graph.card.files["model"].path)["point"]
    xs, ys = np.meshgrid(np.linspace(-6, 4, 300), np.linspace(-1.5, 7, 300))
    f = bowl_value(np.stack([xs, ys], axis=-1))
    picture.contour(xs, ys, f, levels=np.geomspace(2.05, 400, 18), cmap="Greys", linewidths=0.8)
    picture.plot([1], [2], marker="*", color="black", markersize=12, linestyle="none",
                 label="minimum f(1, 2) = 2")  # fmt: skip
    runs = [
        (0.01, 150, "#1f77b4", "lr 0.01, 150 steps: too small, crawls along the valley"),
        (0.1, 150, "#2ca02c", "lr 0.1, 150 steps: good, reaches (1, 2)"),
        (0.16, 20, "#d62728", "lr 0.16, 20 steps: too large (> 2/13.7 = 0.146), diverges"),
    ]
    for lr, steps, color, label in runs:
        path, losses = graph.walk({"point": start}, {}, lr, steps)
        points = np.array([p["point"] for p in path])
        picture.plot(points[:, 0], points[:, 1], ".-", color=color, label=label, lw=1.2, ms=4)
        losses_ax.semilogy(np.asarray(losses) - 2.0 + 1e-12, color=color, label=f"lr {lr}")
    picture.set(xlim=(-6, 4), ylim=(-1.5, 7), xlabel="x", ylabel="y", aspect="equal",
                title="f(x, y) = (x + y - 3)² + (x + 2y - 5)² + 2, from (-4, 4)")  # fmt: skip
    picture.legend(loc="lower left", fontsize=8)
    losses_ax.set(xlabel="step", ylabel="f - 2 (log)", title="loss per step")
    losses_ax.legend(fontsize=8)


def plot_linear(version_dir: Path, fig: Figure) -> None:
    graph = StepSession.open(version_dir)
    picture, losses_ax = fig.subplots(1, 2, width_ratios=[1.3, 1])
    data = height_weight()
    x, y = data.x_train, data.y_train
    lr, shown = 0.3, [1, 2, 3, 4, 6, 10, 20]
    path, losses = graph.walk(zeros(graph.card), {"x": x, "y": y}, lr, steps=max(shown))
    mu, sigma = graph.card.preprocessing.mean[0], graph.card.preprocessing.std[0]
    grid = np.linspace(40, 67, 2)
    for i, k in enumerate(shown):
        w, b = float(path[k]["linear.weight"][0, 0]), float(path[k]["linear.bias"][0])
        slope, intercept = w / sigma, b - w * mu / sigma
        alpha = 0.25 + 0.75 * (i + 1) / len(shown)
        label = f"after {k} step{'s' * (k != 1)}: {slope:.3f} kg + {intercept:.1f}"
        picture.plot(grid, slope * grid + intercept, color="#d9480f", alpha=alpha, label=label)
    picture.scatter(x[:, 0], y, color="#2f6fde", zorder=3, label="people")
    title = f"linear regression from zeros, lr {lr} (the graph standardizes x)"
    picture.set(xlim=(40, 67), ylim=(100, 185), xlabel="weight (kg)", ylabel="height (cm)",
                title=title)  # fmt: skip
    picture.legend(loc="lower right", fontsize=7)
    losses_ax.semilogy(losses, color="#d9480f")
    losses_ax.set(xlabel="step", ylabel="mean squared error (log)", title="loss per step")


def plot_logistic(version_dir: Path, fig: Figure) -> None:
    graph = StepSession.open(version_dir)
    picture, losses_ax = fig.subplots(1, 2, width_ratios=[1.3, 1])
    data = gaussian_blobs()
    x, y = data.x_train, data.y_train
    # From zeros the first step already points w along the blobs' mean difference, so the
    # boundary hardly moves after it; a deliberately wrong start shows it turning into place.
    start = {"linear.weight": np.array([[-1.0, 2.0]], np.float32)}
    start["linear.bias"] = np.array([1.5], np.float32)
    lr, shown = 0.5, [0, 1, 2, 4, 8, 16, 32, 150]
    path, losses = graph.walk(start, {"x": x, "y": y}, lr, steps=max(shown))
    for label, color in ((0, "#2f6fde"), (1, "#e8590c")):
        mine = x[y == label]
        picture.scatter(mine[:, 0], mine[:, 1], s=6, color=color, alpha=0.5, label=f"class {label}")
    grid = np.linspace(-4.5, 4.5, 2)
    for i, k in enumerate(shown):
        (w1, w2), b = path[k]["linear.weight"][0], float(path[k]["linear.bias"][0])
        alpha = 0.2 + 0.8 * (i + 1) / len(shown)
        label = f"boundary after {k} step{'s' * (k != 1)}"
        picture.plot(grid, -(w1 * grid + b) / w2, color="black", alpha=alpha, label=label)
    title = f"logistic regression from w = (-1, 2), b = 1.5, lr {lr}: w·x + b = 0"
    picture.set(xlim=(-4.5, 4.5), ylim=(-4.5, 4.5), xlabel="x1", ylabel="x2", aspect="equal",
                title=title)  # fmt: skip
    picture.legend(loc="lower right", fontsize=7)
    losses_ax.plot(losses, color="black")
    losses_ax.set(xlabel="step", ylabel="binary cross-entropy", title="loss per step")
