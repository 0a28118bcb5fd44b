"""plot-descent: every picture is drawn from step graphs run in onnxruntime, and saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.plot_descent import PLOTTED, main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", PLOTTED)
def test_plot_descent_writes_a_png(models_dir: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.png"
    assert main([name, "--models-dir", str(models_dir), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(PNG) and out.stat().st_size > 20_000


def test_one_out_file_needs_one_model(models_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["all", "--models-dir", str(models_dir), "--out", str(tmp_path / "x.png")])
