"""Every model nnserve serves, in one place: what it is, how it is made, its step, its picture.

Each entry carries `step(card)`, the hand-written gradient-step module for its card (in
training/backprop/, exported to step.onnx by training.step_export), and may carry `plot`, its
plot-descent picture (`plot(version_dir, fig)`). A trained entry (ModelSpec: `python -m
training fit`) carries its contract tensors, data and default hyper-parameters; an untrained
one (FunctionSpec, e.g. the quadratic bowl) carries `write(version_dir)`, which writes its
model.onnx and card.json. `CATALOG` holds both; the names are public API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from service.cards import ModelCard, Role, Task, TensorSpec
from training import descent, gate, gate_plot, prepare
from training.augment import AffineConfig
from training.backprop.polynomial import PolynomialFitStep
from training.backprop.sigmoid_mlp import TinyMLPStep
from training.backprop.steps import (
    LogisticStep,
    MLPStep,
    QuadraticBowlStep,
    RegressionStep,
    SoftmaxStep,
    StepGraph,
)
from training.backprop.two_minima import TwoMinimaStep
from training.bowl import write_bowl
from training.lessons import plots as lessons
from training.lessons.calculus import LESSONS as CALCULUS
from training.lessons.publish_lesson import writer
from training.lessons.two_minima import write_two_minima
from training.prepare import Prepared
from training.step_export import StepBuilder, StepExportError
from training.train import TrainConfig

Plot = Callable[[Path, Figure], None]
DIGITS = [str(d) for d in range(10)]


@dataclass(frozen=True)
class Contract:
    """What a trained model's card promises the service: its task, tensors and labels."""

    task: Task
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    labels: list[str]


@dataclass(frozen=True)
class ModelSpec:
    """A trained model: name, contract, how to train it, its step graph and picture."""

    name: str
    description: str
    contract: Contract
    defaults: TrainConfig
    prepare: Callable[[Path], Prepared]
    step: StepBuilder
    plot: Plot | None = None
    role: Role | None = None  # the card's role: what the service uses the model for
    dry_run_prepare: Callable[[Path], Prepared] | None = None
    """What --dry-run prepares instead of `prepare`, for a model whose data is slow to make."""

    @property
    def task(self) -> Task:
        return self.contract.task

    @property
    def inputs(self) -> list[TensorSpec]:
        return self.contract.inputs

    @property
    def outputs(self) -> list[TensorSpec]:
        return self.contract.outputs

    @property
    def labels(self) -> list[str]:
        return self.contract.labels


@dataclass(frozen=True)
class FunctionSpec:
    """An untrained entry (a function, a lesson's graph): written whole, never fitted; with a
    step graph when gradient descent runs on it."""

    name: str
    write: Callable[[Path], None]  # model.onnx + card.json into a version directory
    step: StepBuilder | None = None
    plot: Plot | None = None


def _spec(name: str, shape: int) -> TensorSpec:
    return TensorSpec(name=name, shape=[-1, shape])


def regression_step(card: ModelCard) -> StepGraph:
    """Least squares on the card's standardized powers of x (degree = number of means)."""
    return RegressionStep(card.preprocessing.mean, card.preprocessing.std)


def polynomial_fit_step(card: ModelCard) -> StepGraph:
    """Legendre features of (x - centre) / half-width, the card's mean[0] and std[0]."""
    return PolynomialFitStep(card.preprocessing.mean[0], card.preprocessing.std[0])


DIGIT_CLASSIFIER = Contract(
    "classification",
    [_spec("input", 784)],
    [_spec("logits", 10), _spec("probabilities", 10)],
    DIGITS,
)
"""An MNIST classifier: 28x28 normalized pixels in, ten logits and probabilities out."""
BINARY_CLASSIFIER_2D = Contract(
    "binary-classification",
    [_spec("input", 2)],
    [_spec("logit", 1), _spec("probability", 1)],
    ["0", "1"],
)
"""Two features (x1, x2) in, one logit and its probability out."""
DIGIT_GATE = Contract(
    "binary-classification",
    [_spec("input", 784)],
    [_spec("logit", 1), _spec("probability", 1)],
    ["not a digit", "digit"],
)
"""A digit gate: 28x28 normalized pixels in, the logit and probability of "a digit" out."""
CURVE = Contract("regression", [_spec("input", 1)], [_spec("prediction", 1)], [])
"""y from one x: a regression on a curve."""

SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "mnist-mlp",
            "MNIST digit classifier: MLP 784-512-256-10 with ReLU, trained with random affine "
            "and pen-width augmentation, AdamW and a one-cycle schedule.",
            DIGIT_CLASSIFIER,
            TrainConfig(
                epochs=40,
                batch_size=256,
                lr=3e-3,
                weight_decay=1e-4,
                one_cycle=True,
                augment=AffineConfig(pen=(-1.0, 1.0)),
            ),
            prepare.prepare_mlp,
            step=lambda _: MLPStep(),
        ),
        ModelSpec(
            "mnist-softmax",
            "MNIST softmax regression: one linear layer 784-10 and a softmax.",
            DIGIT_CLASSIFIER,
            TrainConfig(epochs=5, batch_size=128, lr=2e-3, one_cycle=True),
            prepare.prepare_softmax,
            step=lambda _: SoftmaxStep(),
        ),
        ModelSpec(
            "logistic-regression",
            "Binary logistic regression on two features (x1, x2): two overlapping Gaussian "
            "blobs generated with a fixed seed.",
            BINARY_CLASSIFIER_2D,
            TrainConfig(epochs=500, batch_size=1000, lr=1.0, optimizer="sgd"),
            prepare.prepare_logistic,
            step=lambda _: LogisticStep(),
            plot=descent.plot_logistic,
        ),
        ModelSpec(
            "linear-regression",
            "Height (cm) from weight (kg), least squares on eight people; the graph "
            "standardizes the weight.",
            CURVE,
            TrainConfig(epochs=200, batch_size=8, lr=0.25, optimizer="sgd"),
            prepare.prepare_linear,
            step=regression_step,
            plot=descent.plot_linear,
        ),
        ModelSpec(
            "polynomial-regression",
            "Cubic polynomial regression on a noisy cubic: the graph computes x, x^2, x^3, "
            "standardizes them and applies a linear layer.",
            CURVE,
            TrainConfig(epochs=1000, batch_size=1000, lr=0.25, optimizer="sgd"),
            prepare.prepare_polynomial,
            step=regression_step,
        ),
        ModelSpec(
            "tiny-mlp",
            "Sigmoid MLP 2-4-1 on XOR-like clusters a straight line cannot separate: the notes' "
            "backpropagation (delta rule) and the zero-start symmetry.",
            BINARY_CLASSIFIER_2D,
            TrainConfig(epochs=1500, batch_size=120, lr=0.05, optimizer="adamw"),
            prepare.prepare_tiny_mlp,
            step=lambda _: TinyMLPStep(),
            plot=lessons.plot_tiny_mlp,
        ),
        ModelSpec(
            "polynomial-fit",
            "Polynomial regression on 11 noisy points with 10 held out: orthonormal Legendre "
            "features of x / 3, degree 1-9 chosen per gradient step (trained at degree 3).",
            CURVE,
            TrainConfig(epochs=3000, batch_size=11, lr=0.05, optimizer="sgd"),
            prepare.prepare_polynomial_fit,
            step=polynomial_fit_step,
            plot=lessons.plot_polynomial_fit,
        ),
        ModelSpec(
            "digit-gate",
            "Digit gate: sigmoid MLP 784-256-1 telling a digit from a letter, a scribble or a "
            "shape, on the pieces POST /predict cuts; /predict refuses uploads it says are "
            "not digits.",
            DIGIT_GATE,
            TrainConfig(epochs=25, batch_size=256, lr=3e-3, weight_decay=1e-4, one_cycle=True),
            gate.prepare_digit_gate,
            step=lambda _: TinyMLPStep(),
            plot=gate_plot.plot_gate,
            role="digit-gate",
            dry_run_prepare=gate.prepare_dry_run,
        ),
    )
}


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec(
            "quadratic-bowl", write_bowl, lambda _: QuadraticBowlStep(), descent.plot_bowl
        ),
        FunctionSpec(
            "two-minima", write_two_minima, lambda _: TwoMinimaStep(), lessons.plot_two_minima
        ),
        # The calculus lessons: graphs with their backward half inside, no step, no plot.
        *(FunctionSpec(lesson.name, writer(lesson)) for lesson in CALCULUS),
    )
}

CATALOG: dict[str, ModelSpec | FunctionSpec] = {**SPECS, **FUNCTIONS}
STEPPED = sorted(name for name, spec in CATALOG.items() if spec.step is not None)


def step_graph(card: ModelCard) -> StepGraph:
    """The step module for a card's model, found by the card's name."""
    build = CATALOG[card.name].step if card.name in CATALOG else None
    if build is None:
        raise StepExportError(f"no step graph for model {card.name!r}")
    return build(card)
