"""The calculus lessons as served models: computation-graph, derivative, activations and
softmax-temperature. Each is an untrained graph whose backward half is written by hand;
this module says what each one's card records (task "lesson", its formula, inputs, outputs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from service.cards import Datatype, ModelCard, Preprocessing, TensorSpec, file_entry
from training.lessons import activations, computation_graph, derivative


@dataclass(frozen=True)
class Lesson:
    """One lesson model: its module, example inputs for tracing, and its card's contract."""

    name: str
    build: Callable[[], nn.Module]
    example: Callable[[], tuple[Tensor, ...]]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    formula: str
    description: str

    @property
    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [spec.name for spec in self.outputs]


def specs(
    names: tuple[str, ...], width: int, datatype: Datatype = "FP32"
) -> tuple[TensorSpec, ...]:
    return tuple(TensorSpec(name=n, datatype=datatype, shape=[-1, width]) for n in names)


def activation_grid() -> tuple[Tensor, ...]:
    return (torch.linspace(-6.0, 6.0, 13).unsqueeze(1),)


def softmax_example() -> tuple[Tensor, ...]:
    scores = torch.tensor([[2.0, 1.0, 0.1, -1.0], [0.0, 0.0, 0.0, 0.0], [1000.0, 0.0, -3.0, 5.0]])
    return scores, torch.tensor([[1.0], [0.5], [10.0]])


LESSONS = (
    Lesson(
        name=computation_graph.NAME,
        build=computation_graph.ComputationGraph,
        example=lambda: (computation_graph.example(),),
        inputs=specs((computation_graph.INPUT,), 3),
        outputs=specs(computation_graph.OUTPUTS, 1),
        formula=computation_graph.FORMULA,
        description=(
            "The computation graph J(a, b, c) = 3(a + bc): input columns a, b, c; forward "
            "outputs u, v, J and backward outputs dJ_dv, dJ_du, dJ_da, dJ_db, dJ_dc, one "
            "chain-rule step per node. At (5, 3, 2): 6, 11, 33; 3, 3, 3, 6, 9."
        ),
    ),
    Lesson(
        name=derivative.NAME,
        build=derivative.Derivative,
        example=lambda: (derivative.example(),),
        inputs=specs((derivative.INPUT,), 2, "FP64"),
        outputs=specs(derivative.OUTPUTS, 3, "FP64"),
        formula=derivative.FORMULA,
        description=(
            "A derivative as a slope: input columns a, h (FP64, so h = 1e-6 stays honest); "
            "outputs f, f_plus_h, slope_estimate = (f(a + h) - f(a)) / h and the exact slope, "
            "one column per function: 4a, a^2, (3a^2 + 2)^4 (its slope by the chain rule: "
            "3000 at a = 1)."
        ),
    ),
    Lesson(
        name=activations.NAME,
        build=activations.Activations,
        example=activation_grid,
        inputs=specs((activations.INPUT,), 1),
        outputs=specs(activations.OUTPUTS, 1),
        formula=activations.FORMULA,
        description=(
            "Activation functions beside their derivatives at z [N, 1]: sigmoid and a(1 - a) "
            "(at most 0.25), tanh and 1 - tanh^2, relu and its 0/1 derivative (0 at z = 0)."
        ),
    ),
    Lesson(
        name=activations.SOFTMAX,
        build=activations.SoftmaxTemperature,
        example=softmax_example,
        inputs=(
            TensorSpec(name="scores", shape=[-1, -1]),
            TensorSpec(name="temperature", shape=[-1, 1]),
        ),
        outputs=(TensorSpec(name="softmax", shape=[-1, -1]),),
        formula=activations.SOFTMAX_FORMULA,
        description=(
            "Softmax with a temperature: inputs scores [N, K] (any K) and temperature [N, 1] "
            "(T > 0, one per row); output softmax [N, K], each row summing to 1. T < 1 "
            "sharpens towards the top score, T > 1 flattens towards uniform."
        ),
    ),
)


def lesson_card(lesson: Lesson, version_dir: Path) -> ModelCard:
    """The card of an exported lesson (model.onnx already in version_dir)."""
    return ModelCard(
        name=lesson.name,
        version=1,
        task="lesson",
        description=lesson.description,
        formula=lesson.formula,
        inputs=list(lesson.inputs),
        outputs=list(lesson.outputs),
        preprocessing=Preprocessing(kind="none"),
        files={"model": file_entry(version_dir, "model.onnx")},
    )
