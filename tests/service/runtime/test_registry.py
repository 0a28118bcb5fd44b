"""Loading the repository: sha256 verification, per-model readiness, versions, bad models.

Damage is done to copies in tmp_path: the committed repository is never touched.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.cards import file_entry, read_card, write_card
from service.config import Settings
from service.errors import ModelNotFound, ModelNotReady
from service.runtime.registry import Registry, discover

MODEL_NAMES = [
    "activations",
    "computation-graph",
    "derivative",
    "digit-gate",
    "linear-regression",
    "logistic-regression",
    "mnist-mlp",
    "mnist-softmax",
    "polynomial-fit",
    "polynomial-regression",
    "quadratic-bowl",
    "softmax-temperature",
    "tiny-mlp",
    "two-minima",
]


def test_committed_repository_is_complete_and_ready(models_dir: Path) -> None:
    registry = Registry.load(Settings(models_dir=models_dir))
    assert sorted({mv.name for mv in registry.versions()}) == MODEL_NAMES
    assert not registry.not_ready(), [(mv.name, mv.reason) for mv in registry.not_ready()]
    for mv in registry.versions():
        assert mv.runtime is not None and mv.reason is None
        lesson = mv.card.task == "lesson"  # the calculus lessons have no gradient step
        assert lesson or mv.step_runtime is not None, f"{mv.name} has no step.onnx session"
        assert mv.card.name == mv.name


def test_versions_latest_and_lookup_errors(tiny_repo: Path) -> None:
    registry = Registry.load(Settings(models_dir=tiny_repo))
    assert [(mv.name, mv.version) for mv in registry.versions()] == [
        ("tiny-linear", 1),
        ("tiny-logistic", 1),
        ("tiny-softmax", 1),
        ("tiny-softmax", 2),
    ]
    assert registry.get("tiny-softmax").version == 2
    assert registry.get("tiny-softmax", 1).version == 1
    assert registry.get_ready("tiny-linear").ready
    with pytest.raises(ModelNotFound, match="model 'nope' not found"):
        registry.get("nope")
    with pytest.raises(ModelNotFound, match="model 'tiny-linear' version 3 not found"):
        registry.get("tiny-linear", 3)


def test_missing_or_empty_repository_loads_nothing(tmp_path: Path) -> None:
    assert Registry.load(Settings(models_dir=tmp_path / "absent")).versions() == []
    (tmp_path / "models" / "x" / "not-a-version").mkdir(parents=True)
    assert Registry.load(Settings(models_dir=tmp_path / "models")).versions() == []


def damage(repo: Path) -> dict[str, str]:
    """Break four models in four ways; returns each one's expected reason."""
    flipped = repo / "mnist-mlp" / "1" / "model.onnx"
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different digest
    flipped.write_bytes(bytes(data))
    (repo / "logistic-regression" / "1" / "model.onnx").unlink()
    garbage = repo / "linear-regression" / "1"
    (garbage / "model.onnx").write_bytes(b"not an onnx graph")
    card = read_card(garbage)  # a card that vouches for the garbage: onnxruntime must refuse it
    files = {**card.files, "model": file_entry(garbage, "model.onnx")}
    write_card(garbage, card.model_copy(update={"files": files}))
    (repo / "polynomial-regression" / "1" / "card.json").write_text("{not json")
    return {
        "mnist-mlp": "ValueError: model file model.onnx does not match its sha256 in the card",
        "logistic-regression": "ValueError: model file model.onnx is missing",
        "linear-regression": "InvalidProtobuf",
        "polynomial-regression": "ValidationError",
    }


def test_bad_models_are_not_ready_with_their_reason_and_others_serve(
    repo_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reasons = damage(repo_copy)
    with caplog.at_level(logging.ERROR, logger="service.runtime.registry"):
        registry = Registry.load(Settings(models_dir=repo_copy))
    assert sorted(mv.name for mv in registry.not_ready()) == sorted(reasons)
    for name, reason in reasons.items():
        mv = registry.get(name)
        assert not mv.ready and mv.runtime is None and reason in str(mv.reason), mv.reason
        assert any(name in r.getMessage() and reason in r.getMessage() for r in caplog.records)
        with pytest.raises(ModelNotReady, match=f"model {name} version 1 is not ready"):
            registry.get_ready(name)
    assert registry.get_ready("mnist-softmax").ready
    assert registry.get_ready("quadratic-bowl").ready


def test_bad_models_over_http(repo_copy: Path) -> None:
    reasons = damage(repo_copy)
    with TestClient(create_app(Settings(models_dir=repo_copy))) as client:
        ready = client.get("/v2/health/ready")
        assert ready.status_code == 503 and ready.json()["error"].startswith("not ready: ")
        assert client.get("/v2/health/live").status_code == 200
        meta = client.get("/v2/models/mnist-mlp").json()
        assert meta["ready"] is False and meta["reason"] == reasons["mnist-mlp"]
        assert meta["provider"] is None and meta["inputs"][0]["shape"] == [-1, 784]
        not_ready = client.get("/v2/models/logistic-regression/ready")
        assert not_ready.status_code == 503
        assert not_ready.json() == {
            "error": "model logistic-regression version 1 is not ready: "
            + reasons["logistic-regression"]
        }
        broken_card = client.get("/v2/models/polynomial-regression").json()
        assert broken_card["inputs"] == [] and "ValidationError" in broken_card["reason"]
        assert client.get("/v1/models/polynomial-regression").status_code == 503
        infer = client.post(
            "/v2/models/mnist-mlp/infer",
            json={
                "inputs": [
                    {"name": "input", "datatype": "FP32", "shape": [1, 784], "data": [0.0] * 784}
                ]
            },
        )
        assert infer.status_code == 503
        fine = client.post(
            "/v2/models/quadratic-bowl/infer",
            json={
                "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]
            },
        )
        assert fine.status_code == 200
        assert fine.json()["outputs"][0]["data"] == pytest.approx([2.0], abs=1e-5)
        rows = {row["name"]: row for row in client.get("/v1/models").json()["models"]}
        assert rows["mnist-mlp"]["ready"] is False and rows["mnist-softmax"]["ready"] is True


def test_card_for_another_model_is_refused(tiny_repo: Path) -> None:
    version_dir = tiny_repo / "tiny-linear" / "1"
    card = read_card(version_dir)
    write_card(version_dir, card.model_copy(update={"name": "impostor"}))
    registry = Registry.load(Settings(models_dir=tiny_repo))
    assert registry.get("tiny-linear").reason == (
        "ValueError: card says impostor version 1, not its directory"
    )
    assert registry.get("tiny-logistic").ready


def test_only_plain_positive_version_directories_count(tiny_repo: Path) -> None:
    model_dir = next(p for p in sorted(tiny_repo.iterdir()) if p.is_dir())
    for odd in ("²", "0", "v2", "9" * 200):
        (model_dir / odd).mkdir()
    versions = {(mv.name, mv.version) for mv in discover(tiny_repo)}
    assert all(isinstance(v, int) and v >= 1 for _, v in versions)
    assert {v for name, v in versions if name == model_dir.name} == {1}
