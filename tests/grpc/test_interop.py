"""tritonclient.grpc and KServe's InferenceGRPCClient against a real `python -m service`.

Each client runs in its own process (tests/grpc/clients/): both register the protobuf package
`inference` in protobuf's default pool, so neither can be imported where the other is. The
scripts print what they saw; the assertions, and the onnxruntime oracle, are here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import psutil
import pytest

from tests.servers import ROOT, Service, spawn, stop, wait_for

CLIENTS = Path(__file__).parent / "clients"


@pytest.fixture(scope="module")
def grpc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = spawn(tmp_path_factory.mktemp("grpc") / "server.log")
    try:
        wait_for(service)
        yield service
    finally:
        stop(service)


def run_client(script: str, address: str, seed: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(CLIENTS / script), address, str(seed)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout))


def oracle(models_dir: Path, name: str, x: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(
        str(models_dir / name / "1" / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {"input": x}), strict=True))


def test_tritonclient_grpc(grpc_server: Service, models_dir: Path) -> None:
    seen = run_client("triton_grpc.py", grpc_server.grpc, seed=3)
    assert (seen["live"], seen["ready"], seen["model_ready"], seen["model_ready_v1"]) == (True,) * 4
    assert seen["model_ready_v7"]["status"] == "StatusCode.NOT_FOUND"
    assert seen["server_metadata"]["name"] == "nnserve"
    model = seen["model_metadata"]
    assert model["platform"] == "onnxruntime_onnx" and model["versions"] == ["1"]
    assert model["inputs"] == [{"name": "input", "datatype": "FP32", "shape": ["-1", "784"]}]
    assert seen["metadata_unknown"]["status"] == "StatusCode.NOT_FOUND"
    x = np.random.default_rng(3).normal(size=(5, 784)).astype(np.float32)
    want = oracle(models_dir, "mnist-mlp", x)
    for name in ("logits", "probabilities"):
        np.testing.assert_allclose(seen["outputs"][name], want[name], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(seen["version_one"], want["logits"], rtol=1e-5, atol=1e-6)
    assert seen["id"] == "g-1" and seen["raw"] == 2
    assert seen["unknown_model"] == {
        "status": "StatusCode.NOT_FOUND",
        "message": "model 'nope' not found",
    }
    assert seen["unknown_version"]["status"] == "StatusCode.NOT_FOUND"
    assert seen["bad_shape"]["status"] == "StatusCode.INVALID_ARGUMENT"
    assert "has shape [5, 783], the model expects [-1, 784]" in seen["bad_shape"]["message"]
    assert seen["oversize"]["status"] == "StatusCode.RESOURCE_EXHAUSTED"
    assert seen["health"] == {"": "SERVING", "inference.GRPCInferenceService": "SERVING"}
    assert seen["live_after"] is True


def test_kserve_grpc_client_raw_and_typed(grpc_server: Service, models_dir: Path) -> None:
    seen = run_client("kserve_grpc.py", grpc_server.grpc, seed=4)
    assert (seen["live"], seen["ready"], seen["model_ready"]) == (True, True, True)
    x = np.random.default_rng(4).normal(size=(4, 2)).astype(np.float32)
    want = oracle(models_dir, "logistic-regression", x)
    for form in ("raw", "typed"):
        assert seen[form]["id"] == f"k-{form == 'raw'}"
        assert sorted(seen[form]["outputs"]) == ["logit", "probability"]
        for name, values in seen[form]["outputs"].items():
            np.testing.assert_allclose(values, want[name], rtol=1e-5, atol=1e-7)
    assert seen["unknown_model"]["status"] == "NOT_FOUND"
    assert seen["bad_shape"]["status"] == "INVALID_ARGUMENT"


def grpc_listeners(service: Service, port: int) -> set[int]:
    """The pids of the server's processes listening on the gRPC port."""
    parent = psutil.Process(service.process.pid)
    return {
        child.pid
        for child in parent.children(recursive=True)
        for conn in child.connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
    }


def test_two_workers_share_the_grpc_port(tmp_path: Path) -> None:
    """SO_REUSEPORT: each worker binds the port itself, and clients are served."""
    service = spawn(tmp_path / "server.log", NNSERVE_WORKERS="2")
    try:
        wait_for(service)
        port = int(service.grpc.rsplit(":", 1)[1])
        deadline = time.monotonic() + 60  # ready means one worker is; the other may still load
        while len(listening := grpc_listeners(service, port)) < 2:
            assert time.monotonic() < deadline, service.log_text()
            time.sleep(0.2)
        assert len(listening) == 2
        for seed in (1, 2):
            assert run_client("kserve_grpc.py", service.grpc, seed)["model_ready"] is True
    finally:
        stop(service)
