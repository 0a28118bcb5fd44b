"""The calculus lessons' export: onnxruntime computes every output as the torch module does,
the card records the task, formula and files, and a graph that disagrees is refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from service.cards import read_card, verify_files
from training.export import PARITY_TOLERANCE, ExportError, cpu_session
from training.lessons.calculus import LESSONS, Lesson, lesson_card
from training.lessons.publish_lesson import check_parity, main, random_like, write_lesson


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.name)
def test_export_matches_torch_and_writes_the_card(lesson: Lesson, tmp_path: Path) -> None:
    version_dir = tmp_path / lesson.name / "1"
    worst = write_lesson(lesson, version_dir)
    assert worst <= PARITY_TOLERANCE
    card = read_card(version_dir)
    assert card.task == "lesson" and card.formula
    assert verify_files(version_dir, card) == []
    session = cpu_session(version_dir / "model.onnx")
    assert [i.name for i in session.get_inputs()] == [s.name for s in card.inputs]
    assert [o.name for o in session.get_outputs()] == [s.name for s in card.outputs]


def test_the_derivative_runs_in_float64_in_onnxruntime(tmp_path: Path) -> None:
    lesson = next(x for x in LESSONS if x.name == "derivative")
    write_lesson(lesson, tmp_path)
    session = cpu_session(tmp_path / "model.onnx")
    (estimate, slope) = session.run(
        ["slope_estimate", "slope"], {"input": np.array([[1.0, 1e-6]], dtype=np.float64)}
    )
    assert estimate.dtype == np.float64 and slope[0, 2] == 3000.0
    assert abs(estimate[0, 2] - 3000.0) < 0.01  # float32 would be off by whole units here


def test_softmax_takes_any_number_of_scores(tmp_path: Path) -> None:
    lesson = next(x for x in LESSONS if x.name == "softmax-temperature")
    write_lesson(lesson, tmp_path)
    session = cpu_session(tmp_path / "model.onnx")
    for k in (2, 7):
        scores = np.arange(3 * k, dtype=np.float32).reshape(3, k)
        (p,) = session.run(None, {"scores": scores, "temperature": np.ones((3, 1), np.float32)})
        assert p.shape == (3, k)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)


class Wrong(nn.Module):
    """The computation graph with dJ/db mistaken for 3b: parity must catch it."""

    def forward(self, abc: Tensor) -> tuple[Tensor, ...]:
        outputs = list(LESSONS[0].build()(abc))
        outputs[6] = 3.0 * abc[:, 1:2]
        return tuple(outputs)


def test_parity_refuses_a_graph_that_disagrees(tmp_path: Path) -> None:
    lesson = LESSONS[0]
    write_lesson(lesson, tmp_path)
    with pytest.raises(ExportError, match="dJ_db"):
        check_parity(
            tmp_path / "model.onnx", replace(lesson, build=Wrong), random_like(lesson.example())
        )


def test_random_batches_keep_divisors_positive() -> None:
    (ah,) = random_like((torch.zeros(1, 2, dtype=torch.float64),))
    assert ah.shape == (64, 2) and bool((ah[:, 1] > 0).all()) and ah.dtype == torch.float64


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.name)
def test_committed_lesson_matches_torch(lesson: Lesson, models_dir: Path) -> None:
    version_dir = models_dir / lesson.name / "1"
    card = read_card(version_dir)
    assert verify_files(version_dir, card) == []
    assert card == lesson_card(lesson, version_dir)  # the card is what the exporter writes now
    assert (
        check_parity(version_dir / "model.onnx", lesson, random_like(lesson.example(), 1))
        <= PARITY_TOLERANCE
    )


def test_the_command_refuses_an_unknown_lesson(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["no-such-lesson", "--models-dir", str(tmp_path)])
    assert stopped.value.code == 2
    assert main(["activations", "--models-dir", str(tmp_path)]) == 0
    assert (tmp_path / "activations" / "1" / "card.json").is_file()
