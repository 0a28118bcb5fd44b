"""`python -m training fit`: a --dry-run of every model into a temp dir, determinism, devices."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from service.cards import read_card, verify_files
from tests.training.contract import IO, NAMES, PARAMETERS, TASKS
from training.catalog import SPECS
from training.fit import main


@pytest.fixture(autouse=True, scope="module")
def keep_torch_threads() -> Iterator[None]:
    """main() sets torch's thread count for the process; give the next module its own back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def run_fit(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def dry_run(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("repo")
    code, stdout = run_fit("all", "--dry-run", "--out", str(out), "--data-dir", str(mnist_dir))
    assert code == 0
    return out, stdout


def test_dry_run_prints_an_epoch_line_and_a_summary_per_model(dry_run: tuple[Path, str]) -> None:
    """One epoch each (few epochs: a line each; the bars go to stderr), then the summary."""
    lines = dry_run[1].splitlines()
    assert len(lines) == 2 * len(SPECS), lines
    for name in SPECS:
        assert sum(line.startswith(f"{name} epoch 1/1 loss ") for line in lines) == 1
        assert sum(line.startswith(f"{name}: ") for line in lines) == 1


@pytest.mark.parametrize("name", NAMES)
def test_dry_run_publishes_a_verified_version(dry_run: tuple[Path, str], name: str) -> None:
    out, stdout = dry_run
    version_dir = out / name / "1"
    card = read_card(version_dir)
    assert verify_files(version_dir, card) == []
    assert {"model", "curve"} <= set(card.files)
    assert card.name == name and card.version == 1 and card.task == TASKS[name]
    inputs, outputs = IO[name]
    assert {t.name: t.shape for t in card.inputs} == inputs
    assert {t.name: t.shape for t in card.outputs} == outputs
    assert {t.name: t.shape for t in card.parameters} == PARAMETERS[name]
    assert card.training is not None and card.training.epochs == 1
    assert card.metrics["onnx_max_abs_diff"] <= 1e-4
    assert f"{name}: " in stdout and str(version_dir) in stdout


@pytest.mark.parametrize("name", NAMES)
def test_dry_run_onnx_follows_the_contract(dry_run: tuple[Path, str], name: str) -> None:
    graph = onnx.load(str(dry_run[0] / name / "1" / "model.onnx")).graph
    inputs, outputs = IO[name]
    assert [i.name for i in graph.input] == list(inputs)
    assert [o.name for o in graph.output] == list(outputs)
    assert {i.name: list(i.dims) for i in graph.initializer} == PARAMETERS[name]


def initializers(version_dir: Path) -> dict[str, np.ndarray]:
    graph = onnx.load(str(version_dir / "model.onnx")).graph
    return {i.name: numpy_helper.to_array(i) for i in graph.initializer}


def test_same_seed_same_weights(mnist_dir: Path, tmp_path: Path) -> None:
    """Deterministic on CPU: two dry-runs with one seed give identical weights, another differs."""
    runs = {}
    for label, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        argv = ["mnist-mlp", "--dry-run", "--seed", seed, "--device", "cpu"]
        code, _ = run_fit(*argv, "--out", str(tmp_path / label), "--data-dir", str(mnist_dir))
        assert code == 0
        runs[label] = initializers(tmp_path / label / "mnist-mlp" / "1")
    for key in PARAMETERS["mnist-mlp"]:
        np.testing.assert_array_equal(runs["a"][key], runs["b"][key], err_msg=key)
    assert not np.array_equal(runs["a"]["fc1.weight"], runs["c"]["fc1.weight"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["linear-regression", "--device", "cuda", "--out", str(tmp_path)])
    assert code == 1
    assert "--device cuda requested but CUDA is not available" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_linear_regression_reaches_least_squares(tmp_path: Path) -> None:
    """Gradient descent in standardized space, mapped back to kg and cm (issue's figures)."""
    code, _ = run_fit("linear-regression", "--out", str(tmp_path))
    assert code == 0
    metrics = read_card(tmp_path / "linear-regression" / "1").metrics
    assert metrics["slope"] == pytest.approx(0.7514124562779751, rel=1e-4)
    assert metrics["intercept"] == pytest.approx(124.29802113285037, rel=1e-4)


def test_missing_mnist_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listens on the discard port: the download fails after its retries, clearly."""
    monkeypatch.setenv("NNSERVE_MNIST_MIRRORS", "http://127.0.0.1:9/")
    empty = tmp_path / "empty"
    code = main(["mnist-softmax", "--data-dir", str(empty), "--out", str(tmp_path / "out")])
    assert code == 1
    err = capsys.readouterr().err
    assert "could not download MNIST file train-images-idx3-ubyte.gz" in err
    assert "Connection refused" in err and "NNSERVE_MNIST_DIR" in err
    assert not (tmp_path / "out").exists()
