"""The training loop's output: one progress bar per fit, its postfix the latest figures, and a
line per epoch only where epochs are few or verbose is asked for."""

from __future__ import annotations

import pytest
import torch

from training import models
from training.train import EPOCH_LINES_UP_TO, OBJECTIVES, Tensors, TrainConfig, fit


def fit_tiny(
    task: str, epochs: int, verbose: bool, capsys: pytest.CaptureFixture[str]
) -> tuple[list[str], str]:
    """A few epochs of a small model on 16 generated rows; (stdout lines, stderr)."""
    torch.manual_seed(0)
    x = torch.linspace(-1.0, 1.0, 16).unsqueeze(1)  # [16, 1]
    if task == "regression":
        model: torch.nn.Module = models.LinearRegression()
        y = 2.0 * x[:, 0] + 1.0  # [16]
    else:
        model, x = models.LogisticRegression(), torch.cat([x, -x], dim=1)  # [16, 2]
        y = (x[:, 0] > 0).float()  # [16]
    config = TrainConfig(epochs=epochs, batch_size=16, lr=0.1, optimizer="sgd")
    fit(model, Tensors(x, y), Tensors(x, y), OBJECTIVES[task], config, 0, "tiny", verbose)
    out, err = capsys.readouterr()
    return out.splitlines(), err


@pytest.mark.parametrize(
    ("epochs", "verbose", "lines"),
    [
        (3, False, 3),
        (EPOCH_LINES_UP_TO, False, EPOCH_LINES_UP_TO),
        (EPOCH_LINES_UP_TO + 1, False, 0),
        (40, True, 40),
    ],
)
def test_a_line_per_epoch_only_where_epochs_are_few_or_verbose(
    capsys: pytest.CaptureFixture[str], epochs: int, verbose: bool, lines: int
) -> None:
    out, err = fit_tiny("regression", epochs, verbose, capsys)
    assert [line for line in out if line.startswith("tiny epoch ")] == out
    assert len(out) == lines
    if lines:
        assert out[-1].startswith(f"tiny epoch {epochs}/{epochs} loss ")
    # One bar: redrawn in place with carriage returns, ended by one newline when it closes.
    assert err.count("\n") == 1
    final = err.rstrip("\n").split("\r")[-1]
    assert final.startswith("tiny: 100%") and f"{epochs}/{epochs}" in final
    assert "loss=" in final and "test loss=" in final and "acc=" not in final


def test_a_classifiers_bar_shows_its_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    out, err = fit_tiny("binary-classification", 2, False, capsys)
    final = err.rstrip("\n").split("\r")[-1]
    assert "loss=" in final and "acc=" in final and "test acc=" in final
    assert len(out) == 2 and " acc " in out[-1]
