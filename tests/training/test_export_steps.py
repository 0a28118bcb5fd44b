"""export-steps: what exists gets its step graph, an untrained entry is written whole, and a
trained model asked for by name must have a card."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cards import read_card, verify_files
from tests.training.test_step_export import stand_in_version
from training.export_steps import main


def test_cli_exports_what_exists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stand_in_version(tmp_path, "linear-regression")
    assert main(["all", "--models-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "linear-regression: wrote" in printed and "mnist-mlp: no card" in printed
    assert (tmp_path / "linear-regression" / "1" / "step.onnx").is_file()
    bowl = tmp_path / "quadratic-bowl" / "1"  # nothing to train: export-steps writes it whole
    assert verify_files(bowl, read_card(bowl)) == [] and (bowl / "step.onnx").is_file()


def test_cli_refuses_a_named_model_without_a_card(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["mnist-mlp", "--models-dir", str(tmp_path)])
