"""The repository API over REST: off under model control none, Triton's answers otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from tests.service.runtime.repository_edits import add_version


def app_client(repo: Path, mode: str) -> TestClient:
    return TestClient(create_app(Settings(models_dir=repo, model_control=mode, grpc_port=0)))


@pytest.fixture
def explicit(tiny_repo: Path) -> Iterator[TestClient]:
    with app_client(tiny_repo, "explicit") as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/v2/repository/index",
        "/v2/repository/models/tiny-linear/load",
        "/v2/repository/models/tiny-linear/unload",
    ],
)
def test_off_unless_model_control_is_on(tiny_repo: Path, path: str) -> None:
    with app_client(tiny_repo, "none") as client:
        response = client.post(path)
        assert response.status_code == 403
        assert "model control is off (NNSERVE_MODEL_CONTROL=none)" in response.json()["error"]
        assert client.get("/v2/models/tiny-linear/ready").status_code == 200


def test_index_unload_load(explicit: TestClient) -> None:
    index = explicit.post("/v2/repository/index").json()
    assert {"name": "tiny-softmax", "version": "2", "state": "READY", "reason": ""} in index
    assert explicit.post("/v2/repository/models/tiny-linear/unload").status_code == 200
    assert explicit.get("/v2/models/tiny-linear").status_code == 404
    index = explicit.post("/v2/repository/index", json={}).json()
    assert {
        "name": "tiny-linear",
        "version": "1",
        "state": "UNAVAILABLE",
        "reason": "unloaded",
    } in index
    ready = explicit.post("/v2/repository/index", json={"ready": True}).json()
    assert all(e["name"] != "tiny-linear" for e in ready) and ready
    assert explicit.post("/v2/repository/models/tiny-linear/load", json={}).status_code == 200
    body = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 1], "data": [2.0]}]}
    assert explicit.post("/v2/models/tiny-linear/infer", json=body).status_code == 200


def test_a_broken_new_version_is_reported_and_the_latest_good_one_serves(
    explicit: TestClient, tiny_repo: Path
) -> None:
    add_version(tiny_repo, "tiny-softmax", source=2, version=3, broken=True)
    assert explicit.post("/v2/repository/models/tiny-softmax/load").status_code == 200
    body = {
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]
    }
    answer = explicit.post("/v2/models/tiny-softmax/infer", json=body).json()
    assert answer["model_version"] == "2"
    ready = explicit.get("/v2/models/tiny-softmax/versions/3/ready")
    assert ready.status_code == 503 and "sha256" in ready.json()["error"]
    assert explicit.get("/v2/health/ready").status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/v2/repository/models/nope/load", b"", 404, "model 'nope' is not in the repository"),
        ("/v2/repository/models/nope/unload", b"", 404, "model 'nope' is not loaded"),
        ("/v2/repository/index", b"[1]", 400, "must be a JSON object"),
        ("/v2/repository/index", b"{", 400, "not valid JSON"),
        ("/v2/repository/index", b'{"ready": "yes"}', 400, "ready must be true or false"),
        (
            "/v2/repository/models/tiny-linear/load",
            b'{"parameters": {"config": "{}"}}',
            400,
            "load parameters ['config'] are not supported",
        ),
    ],
)
def test_bad_requests(
    explicit: TestClient, path: str, body: bytes, status: int, error: str
) -> None:
    response = explicit.post(path, content=body)
    assert response.status_code == status
    assert error in response.json()["error"]


def test_load_of_a_model_that_cannot_load(explicit: TestClient, tiny_repo: Path) -> None:
    (tiny_repo / "tiny-linear" / "1" / "model.onnx").write_bytes(b"not onnx")
    response = explicit.post("/v2/repository/models/tiny-linear/load")
    assert response.status_code == 400
    assert "model 'tiny-linear' failed to load: version 1:" in response.json()["error"]
    assert explicit.get("/v2/models/tiny-linear/ready").status_code == 503
