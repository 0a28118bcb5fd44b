"""`nnserve models`: the repository verified as the server loads it, on real copies of models/."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from service.cards import read_card
from tests.servers import MODELS_DIR
from tests.service.cli.invoke import run_cli

NAMES = sorted(p.name for p in MODELS_DIR.iterdir() if p.is_dir())


def rows(stdout: str) -> dict[str, list[str]]:
    """Model name -> its line's cells (split on runs of two spaces; cells have single ones)."""
    cells = (line.split("  ") for line in stdout.splitlines()[1:-1])
    return {parts[0]: [c.strip() for c in parts if c.strip()] for parts in cells}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(MODELS_DIR, tmp_path / "models")
    return tmp_path / "models"


def test_the_committed_repository_is_all_ready() -> None:
    done = run_cli("models", "--models-dir", str(MODELS_DIR))
    assert done.returncode == 0, done.stdout + done.stderr
    table = rows(done.stdout)
    assert sorted(table) == NAMES
    for name, cells in table.items():
        card = read_card(MODELS_DIR / name / "1")
        assert cells[1:4] == ["1", card.task, "ready"], cells
    assert table["mnist-mlp"][4] == "test_accuracy 0.9922"
    assert done.stdout.splitlines()[-1] == f"{len(NAMES)} of {len(NAMES)} ready in {MODELS_DIR}"


def test_a_corrupted_file_is_broken_and_the_status_is_1(repo: Path) -> None:
    model = repo / "logistic-regression" / "1" / "model.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    done = run_cli("models", "--models-dir", str(repo))
    assert done.returncode == 1
    table = rows(done.stdout)
    assert table["logistic-regression"][3] == "BROKEN"
    assert table["logistic-regression"][-1].endswith(
        "model file model.onnx does not match its sha256 in the card"
    )
    assert all(table[n][3] == "ready" for n in NAMES if n != "logistic-regression")
    assert f"{len(NAMES) - 1} of {len(NAMES)} ready" in done.stdout


def test_a_graph_onnxruntime_refuses_is_broken_even_with_matching_digests(repo: Path) -> None:
    version_dir = repo / "linear-regression" / "1"
    garbage = b"not an onnx graph"
    (version_dir / "model.onnx").write_bytes(garbage)
    card = json.loads((version_dir / "card.json").read_text())
    card["files"]["model"].update(sha256=hashlib.sha256(garbage).hexdigest(), bytes=len(garbage))
    (version_dir / "card.json").write_text(json.dumps(card))
    done = run_cli("models", "--models-dir", str(repo))
    assert done.returncode == 1
    cells = rows(done.stdout)["linear-regression"]
    assert cells[3] == "BROKEN" and "sha256" not in cells[-1]
    assert "InvalidProtobuf" in cells[-1] or "Protobuf parsing failed" in cells[-1], cells


def test_a_missing_card_is_broken(repo: Path) -> None:
    (repo / "quadratic-bowl" / "1" / "card.json").unlink()
    done = run_cli("models", "--models-dir", str(repo))
    assert done.returncode == 1
    cells = rows(done.stdout)["quadratic-bowl"]
    assert cells[2:4] == ["-", "BROKEN"] and "card.json" in cells[-1], cells


def test_an_empty_repository_is_status_1(tmp_path: Path) -> None:
    done = run_cli("models", "--models-dir", str(tmp_path))
    assert (done.returncode, done.stdout.strip()) == (1, f"no models found in {tmp_path}")
