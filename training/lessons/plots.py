"""plot-descent pictures of the lessons, every step run by onnxruntime from step.onnx.

tiny-mlp: the decision boundary (P = 0.5, from the step graph's own probability output on a
grid) after descending from zeros and from a random start, with both losses; polynomial-fit:
the curves of degree 1, 3, 9 and 9 with L2 through the points, and the training and
validation losses against the degree; two-minima: descents from -2 and +2 on f.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from service.cards import ModelCard, read_card
from training.export import cpu_session
from training.lessons.two_minima import two_minima_numpy

Params = dict[str, np.ndarray]


class Graph:
    """A version's step.onnx and card, walked with any extra scalar inputs (the degree)."""

    def __init__(self, version_dir: Path) -> None:
        self.card: ModelCard = read_card(version_dir)
        self.session = cpu_session(version_dir / self.card.files["step"].path)
        self.names = [o.name for o in self.session.get_outputs()]

    def run(self, params: Params, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self.names, self.session.run(None, {**params, **feeds}), strict=True))

    def walk(
        self, start: Params, feeds: dict[str, np.ndarray], steps: int
    ) -> tuple[Params, list[float]]:
        params, losses = start, []
        for _ in range(steps):
            out = self.run(params, feeds)
            losses.append(float(out["loss"]))
            params = {p: out[f"next.{p}"] for p in params}
        return params, losses


def scalars(lr: float, l2: float = 0.0, **extra: int) -> dict[str, np.ndarray]:
    feeds = {"learning_rate": np.array(lr, np.float32), "l2": np.array(l2, np.float32)}
    return {**feeds, **{k: np.array(v, np.int64) for k, v in extra.items()}}


def data_feeds(card: ModelCard, validation: bool = False) -> dict[str, np.ndarray]:
    assert card.data is not None
    x = card.data.validation_x if validation else card.data.x
    y = card.data.validation_y if validation else card.data.y
    return {"x": np.array(x, np.float32), "y": np.array(y, np.float32)}


def random_start(card: ModelCard, seed: int) -> Params:
    """The service's init="random": weights N(0, 1/fan_in), biases zero."""
    rng = np.random.default_rng(seed)
    start = {}
    for p in card.parameters:
        weight = len(p.shape) > 1
        value = rng.standard_normal(p.shape) / np.sqrt(p.shape[-1]) if weight else np.zeros(p.shape)
        start[p.name] = value.astype(np.float32)
    return start


def plot_tiny_mlp(version_dir: Path, fig: Figure) -> None:
    graph = Graph(version_dir)
    zero_ax, random_ax, losses_ax = fig.subplots(1, 3)
    data, lr, steps = data_feeds(graph.card), 2.0, 1000
    zeros = {p.name: np.zeros(p.shape, np.float32) for p in graph.card.parameters}
    starts = {"zeros": zeros, "random": random_start(graph.card, seed=0)}
    axis = np.linspace(-2.4, 2.4, 121)
    grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2).astype(np.float32)
    for (label, start), ax in zip(starts.items(), (zero_ax, random_ax), strict=True):
        params, losses = graph.walk(start, {**data, **scalars(lr)}, steps)
        probe = {"x": grid, "y": np.zeros(len(grid), np.float32), **scalars(lr)}
        surface = graph.run(params, probe)["probability"].reshape(len(axis), len(axis))
        ax.contourf(axis, axis, surface, levels=[0, 0.5, 1], colors=["#d6e4fa", "#fde0cc"])
        ax.contour(axis, axis, surface, levels=[0.5], colors="black", linewidths=1.5)
        for cls, color in ((0, "#2f6fde"), (1, "#e8590c")):
            mine = data["x"][data["y"] == cls]
            ax.scatter(mine[:, 0], mine[:, 1], s=9, color=color, label=f"class {cls}")
        units = len({tuple(row) for row in params["hidden.weight"]})
        ax.set(xlabel="x1", ylabel="x2", aspect="equal",
               title=f"from {label}: {units} distinct hidden unit{'s' * (units != 1)}")  # fmt: skip
        losses_ax.plot(losses, label=f"from {label}")
    losses_ax.set(xlabel="step", ylabel="binary cross-entropy", title=f"loss per step, lr {lr}")
    losses_ax.legend(fontsize=8)


def plot_polynomial_fit(version_dir: Path, fig: Figure) -> None:
    graph = Graph(version_dir)
    curve_ax, degree_ax = fig.subplots(1, 2, width_ratios=[1.3, 1])
    train, held = data_feeds(graph.card), data_feeds(graph.card, validation=True)
    zeros = {p.name: np.zeros(p.shape, np.float32) for p in graph.card.parameters}
    xs = np.linspace(-3.2, 3.2, 200, dtype=np.float32).reshape(-1, 1)
    probe = {"x": xs, "y": np.zeros(len(xs), np.float32)}
    fits = [(1, 0.0, "#868e96"), (3, 0.0, "#2b8a3e"), (9, 0.0, "#d9480f"), (9, 5.0, "#7048e8")]
    for degree, l2, color in fits:
        params, _ = graph.walk(zeros, {**train, **scalars(0.05, l2, degree=degree)}, 3000)
        curve = graph.run(params, {**probe, **scalars(0.05, degree=degree)})["prediction"]
        curve_ax.plot(xs[:, 0], curve[:, 0], color=color, label=f"degree {degree}, λ = {l2:g}")
    curve_ax.scatter(train["x"][:, 0], train["y"], color="#2f6fde", zorder=3, label="training")
    curve_ax.scatter(held["x"][:, 0], held["y"], facecolor="white", edgecolor="#e8590c",
                     zorder=3, label="validation")  # fmt: skip
    curve_ax.set(xlabel="x", ylabel="y", ylim=(-1.5, 2.5), title="3000 steps from zeros, lr 0.05")
    curve_ax.legend(fontsize=8)
    degrees, losses = range(1, 10), []
    for degree in degrees:
        params, _ = graph.walk(zeros, {**train, **scalars(0.05, degree=degree)}, 3000)
        plain = scalars(0.05, degree=degree)
        losses.append([float(graph.run(params, {**d, **plain})["loss"]) for d in (train, held)])
    degree_ax.semilogy(degrees, [t for t, _ in losses], "o-", label="training loss")
    degree_ax.semilogy(degrees, [v for _, v in losses], "o-", label="validation loss")
    degree_ax.set(xlabel="degree (parameters = degree + 1; 11 training points)",
                  ylabel="mean squared error (log)", title="under-fit, fit, over-fit")  # fmt: skip
    degree_ax.legend(fontsize=8)


def plot_two_minima(version_dir: Path, fig: Figure) -> None:
    graph = Graph(version_dir)
    curve_ax, losses_ax = fig.subplots(1, 2, width_ratios=[1.3, 1])
    ps = np.linspace(-2.2, 2.2, 300)
    curve_ax.plot(ps, two_minima_numpy(ps), color="#2f6fde", label="f(p) = (p² - 1)² + p/2")
    runs = [(-2.0, 0.05, "#2b8a3e"), (2.0, 0.05, "#d9480f"), (2.0, 0.1, "#7048e8")]
    for start, lr, color in runs:
        path, losses = [np.array([start], np.float32)], []
        for _ in range(60):
            out = graph.run({"point": path[-1]}, scalars(lr))
            losses.append(float(out["loss"]))
            path.append(out["next.point"])
        points = np.array([p[0] for p in path])
        label = f"from {start:+g}, lr {lr}: ends at {points[-1]:.3f}"
        curve_ax.plot(points, two_minima_numpy(points), ".-", color=color, label=label, ms=5)
        losses_ax.plot(losses, color=color, label=f"from {start:+g}, lr {lr}")
    curve_ax.set(xlabel="p", ylabel="f(p)", ylim=(-1, 5), title="two minima: the start decides")
    curve_ax.legend(fontsize=8)
    losses_ax.set(xlabel="step", ylabel="f", title="loss per step")
    losses_ax.legend(fontsize=8)
