"""onnxruntime sessions: provider choice and fallback, strict CUDA, thread settings, checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.errors import BadRequest
from service.runtime.registry import Registry
from service.runtime.session import CPU, ProviderUnavailable, Runtime

without_cuda = pytest.mark.skipif(
    "CUDAExecutionProvider" in ort.get_available_providers(),
    reason="describes a machine without CUDA (CI never has one)",
)


@pytest.fixture
def softmax_path(tiny_repo: Path) -> Path:
    return tiny_repo / "tiny-softmax" / "1" / "model.onnx"


@without_cuda
def test_auto_falls_back_to_cpu_and_says_so(tiny_repo: Path) -> None:
    registry = Registry.load(Settings(models_dir=tiny_repo, providers="auto"))
    assert {mv.provider for mv in registry.versions()} == {CPU}
    with TestClient(create_app(Settings(models_dir=tiny_repo))) as client:
        metadata = client.get("/v2/models/tiny-softmax").json()
        listing = client.get("/v1/models").json()["models"]
    assert metadata["provider"] == CPU
    assert {row["provider"] for row in listing} == {CPU}


def test_cpu_is_honoured(softmax_path: Path) -> None:
    assert Runtime.load(softmax_path, providers="cpu").provider == CPU


@without_cuda
def test_strict_cuda_refuses_with_a_clear_message(softmax_path: Path, tiny_repo: Path) -> None:
    with pytest.raises(ProviderUnavailable, match="NNSERVE_PROVIDERS=cuda but onnxruntime offers"):
        Runtime.load(softmax_path, providers="cuda")
    with pytest.raises(ProviderUnavailable, match="install onnxruntime-gpu"):
        Registry.load(Settings(models_dir=tiny_repo, providers="cuda"))


@without_cuda
def test_strict_cuda_server_exits_with_the_message(tiny_repo: Path, repo_root: Path) -> None:
    env = {
        **os.environ,
        "NNSERVE_MODELS_DIR": str(tiny_repo),
        "NNSERVE_PROVIDERS": "cuda",
        "NNSERVE_PORT": "1",
    }  # never bound: start-up fails before uvicorn listens
    done = subprocess.run(
        [sys.executable, "-m", "service"],
        env=env,
        cwd=repo_root,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert b"NNSERVE_PROVIDERS=cuda but onnxruntime offers no CUDAExecutionProvider" in done.stderr


def test_thread_settings_reach_the_session(softmax_path: Path) -> None:
    runtime = Runtime.load(softmax_path, intra_op_threads=2, inter_op_threads=3)
    options = runtime.session.get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (2, 3)


def test_metadata_and_run(softmax_path: Path) -> None:
    runtime = Runtime.load(softmax_path, max_batch_size=8)
    assert [i.metadata() for i in runtime.inputs] == [
        {"name": "input", "datatype": "FP32", "shape": [-1, 4]}
    ]
    assert runtime.output_names() == ["logits", "probabilities"]
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    out = runtime.run({"input": x}, ["probabilities"])
    assert list(out) == ["probabilities"] and out["probabilities"].shape == (5, 3)
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, rtol=1e-6)
    want = runtime.session.run(None, {"input": x})
    np.testing.assert_array_equal(runtime.run({"input": x})["logits"], want[0])


def test_warm_up_runs_one_row_of_zeros_through_every_output(softmax_path: Path) -> None:
    runtime = Runtime.load(softmax_path)
    answered = runtime.warm_up()
    assert list(answered) == runtime.output_names()
    assert {name: value.shape for name, value in answered.items()} == {
        "logits": (1, 3),
        "probabilities": (1, 3),
    }
    np.testing.assert_allclose(answered["probabilities"].sum(), 1.0, rtol=1e-6)
    zeros = {"input": np.zeros((1, 4), np.float32)}
    np.testing.assert_array_equal(answered["logits"], runtime.run(zeros)["logits"])


def test_every_run_is_timed_for_the_observer(softmax_path: Path) -> None:
    seconds: list[float] = []
    runtime = Runtime.load(softmax_path, on_run=seconds.append)
    runtime.warm_up()  # untimed: not an inference anyone asked for
    runtime.run({"input": good()})
    runtime.run_unchecked(["logits"], {"input": good(3)})
    assert len(seconds) == 2 and all(0 < s < 60 for s in seconds)


def good(rows: int = 2) -> np.ndarray:
    return np.zeros((rows, 4), dtype=np.float32)


@pytest.mark.parametrize(
    ("feeds", "outputs", "message"),
    [
        (
            {"input": good().astype(np.float64)},
            None,
            "input 'input' has datatype FP64, the model expects FP32",
        ),
        (
            {"input": np.zeros((2, 5), np.float32)},
            None,
            "input 'input' has shape [2, 5], the model expects [-1, 4] (-1: any size)",
        ),
        (
            {"input": np.zeros(4, np.float32)},
            None,
            "input 'input' has shape [4], the model expects [-1, 4] (-1: any size)",
        ),
        ({}, None, "missing input 'input'; the model takes ['input']"),
        (
            {"input": good(), "extra": good()},
            None,
            "unexpected input 'extra'; the model takes ['input']",
        ),
        ({"input": good(0)}, None, "input 'input' has an empty batch"),
        ({"input": good(9)}, None, "input 'input' has a batch of 9, more than the limit of 8"),
        (
            {"input": good()},
            ["nope"],
            "unknown output 'nope'; the model has ['logits', 'probabilities']",
        ),
    ],
)
def test_checks_before_run(
    softmax_path: Path, feeds: dict[str, np.ndarray], outputs: list[str] | None, message: str
) -> None:
    runtime = Runtime.load(softmax_path, max_batch_size=8)
    with pytest.raises(BadRequest) as caught:
        runtime.run(feeds, outputs)
    assert caught.value.message == message
