"""The V2 REST API on the committed models: metadata, readiness, versions, JSON and binary infer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import orjson
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings

CPU = "CPUExecutionProvider"


def session(models_dir: Path, name: str) -> ort.InferenceSession:
    """The oracle: the same graph run in-process by onnxruntime."""
    return ort.InferenceSession(str(models_dir / name / "1" / "model.onnx"), providers=[CPU])


def pixels(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 784)).astype(np.float32)  # [n, 784]


def infer_json(x: np.ndarray, **extra: Any) -> dict[str, Any]:
    tensor = {"name": "input", "datatype": "FP32", "shape": list(x.shape), "data": x.tolist()}
    return {"inputs": [tensor], **extra}


def test_server_metadata_and_health(client: TestClient) -> None:
    assert client.get("/v2").json() == {
        "name": "nnserve",
        "version": client.app.version,  # type: ignore[attr-defined]
        "extensions": ["binary_tensor_data"],
    }
    assert client.get("/v2/health/live").json() == {"live": True}
    ready = client.get("/v2/health/ready")
    assert (ready.status_code, ready.json()) == (200, {"ready": True})


def test_model_metadata(client: TestClient) -> None:
    expected = {
        "name": "logistic-regression",
        "versions": ["1"],
        "platform": "onnxruntime_onnx",
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 2]}],
        "outputs": [
            {"name": "logit", "datatype": "FP32", "shape": [-1, 1]},
            {"name": "probability", "datatype": "FP32", "shape": [-1, 1]},
        ],
        "ready": True,
        "provider": CPU,
    }
    assert client.get("/v2/models/logistic-regression").json() == expected
    assert client.get("/v2/models/logistic-regression/versions/1").json() == expected
    mnist = client.get("/v2/models/mnist-mlp").json()
    assert mnist["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 784]}]
    assert [o["name"] for o in mnist["outputs"]] == ["logits", "probabilities"]


@pytest.mark.parametrize(
    "path", ["/v2/models/mnist-mlp/ready", "/v2/models/mnist-mlp/versions/1/ready"]
)
def test_model_ready(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert (response.status_code, response.json()) == (200, {"name": "mnist-mlp", "ready": True})


@pytest.mark.parametrize("version", ["2", "0", "abc", "-1", "²", "9" * 5000])
def test_versions_are_honoured(client: TestClient, version: str) -> None:
    message = {"error": f"model 'mnist-mlp' version {version} not found"}
    base = f"/v2/models/mnist-mlp/versions/{version}"
    for response in (
        client.get(base),
        client.get(f"{base}/ready"),
        client.post(f"{base}/infer", json=infer_json(pixels(1))),
    ):
        assert (response.status_code, response.json()) == (404, message)


@pytest.mark.parametrize("nested", [True, False])
def test_infer_json_matches_onnxruntime(client: TestClient, models_dir: Path, nested: bool) -> None:
    x = pixels(3)
    body = infer_json(x, id="abc-1")
    if not nested:
        body["inputs"][0]["data"] = x.reshape(-1).tolist()
    response = client.post("/v2/models/mnist-mlp/infer", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    logits, probabilities = session(models_dir, "mnist-mlp").run(None, {"input": x})
    assert (result["model_name"], result["model_version"], result["id"]) == (
        "mnist-mlp",
        "1",
        "abc-1",
    )
    outputs = {o["name"]: o for o in result["outputs"]}
    assert outputs["probabilities"]["shape"] == [3, 10]
    assert outputs["probabilities"]["datatype"] == "FP32"
    np.testing.assert_allclose(np.reshape(outputs["logits"]["data"], (3, 10)), logits, rtol=1e-6)
    np.testing.assert_allclose(
        np.reshape(outputs["probabilities"]["data"], (3, 10)), probabilities, rtol=1e-6
    )


def test_outputs_are_filtered_and_versioned_path_works(client: TestClient) -> None:
    x = np.array([[0.5, -1.0]], dtype=np.float32)
    body = infer_json(x, outputs=[{"name": "probability"}])
    for path in (
        "/v2/models/logistic-regression/infer",
        "/v2/models/logistic-regression/versions/1/infer",
    ):
        result = client.post(path, json=body).json()
        assert [o["name"] for o in result["outputs"]] == ["probability"]
        assert "id" not in result


def test_no_content_type_is_accepted(client: TestClient) -> None:
    raw = orjson.dumps(infer_json(np.array([[1.0, 2.0]], dtype=np.float32)))
    response = client.post(
        "/v2/models/quadratic-bowl/infer", content=raw, headers={"content-type": ""}
    )
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == pytest.approx([2.0], abs=1e-4)


def test_binary_inputs_and_outputs(client: TestClient, models_dir: Path) -> None:
    x = pixels(4, seed=3)
    header = orjson.dumps(
        {
            "id": "bin",
            "inputs": [
                {
                    "name": "input",
                    "datatype": "FP32",
                    "shape": [4, 784],
                    "parameters": {"binary_data_size": x.nbytes},
                }
            ],
            "outputs": [
                {"name": "probabilities", "parameters": {"binary_data": True}},
                {"name": "logits"},
            ],
        }
    )
    response = client.post(
        "/v2/models/mnist-mlp/infer",
        content=header + x.tobytes(),
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert response.status_code == 200, response.text
    length = int(response.headers["inference-header-content-length"])
    result = orjson.loads(response.content[:length])
    assert result["outputs"][0] == {
        "name": "probabilities",
        "datatype": "FP32",
        "shape": [4, 10],
        "parameters": {"binary_data_size": 160},
    }
    logits, probabilities = session(models_dir, "mnist-mlp").run(None, {"input": x})
    got = np.frombuffer(response.content[length:], dtype="<f4").reshape(4, 10)
    np.testing.assert_allclose(got, probabilities, rtol=1e-6)
    np.testing.assert_allclose(np.reshape(result["outputs"][1]["data"], (4, 10)), logits, rtol=1e-6)


def test_binary_data_output_for_all_outputs(client: TestClient) -> None:
    body = infer_json(np.zeros((2, 2), np.float32), parameters={"binary_data_output": True})
    response = client.post("/v2/models/logistic-regression/infer", json=body)
    length = int(response.headers["inference-header-content-length"])
    assert response.headers["content-type"] == "application/octet-stream"
    outputs = orjson.loads(response.content[:length])["outputs"]
    assert [o["parameters"]["binary_data_size"] for o in outputs] == [8, 8]
    assert len(response.content) == length + 16


def test_request_id_header_is_echoed_or_generated(client: TestClient) -> None:
    echoed = client.get("/v2/health/live", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    generated = client.get("/v2/health/live").headers["x-request-id"]
    assert len(generated) == 32 and generated != "trace-42"
    error = client.get("/v2/models/nope", headers={"X-Request-ID": "trace-43"})
    assert error.headers["x-request-id"] == "trace-43"


def test_openapi_describes_every_endpoint_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/v2",
        "/v2/health/live",
        "/v2/health/ready",
        "/v2/models/{name}",
        "/v2/models/{name}/ready",
        "/v2/models/{name}/infer",
        "/v2/models/{name}/versions/{version}/infer",
        "/metrics",
    ):
        assert path in spec["paths"], path
    infer = spec["paths"]["/v2/models/{name}/infer"]["post"]
    assert infer["requestBody"]["content"]["application/json"]["example"]["inputs"]
    assert infer["responses"]["200"]["content"]["application/json"]["example"]["outputs"]


def test_each_version_serves_its_own_graph(tiny_repo: Path) -> None:
    """tiny-softmax has versions 1 and 2 with different weights: the path picks the graph."""
    x = np.array([[1.0, -2.0, 0.5, 3.0]], dtype=np.float32)
    body = infer_json(x, outputs=[{"name": "logits"}])
    want = {
        v: ort.InferenceSession(
            str(tiny_repo / "tiny-softmax" / v / "model.onnx"), providers=[CPU]
        ).run(["logits"], {"input": x})[0]
        for v in ("1", "2")
    }
    assert not np.allclose(want["1"], want["2"])
    with TestClient(create_app(Settings(models_dir=tiny_repo))) as tiny:
        for path, version in [
            ("/v2/models/tiny-softmax/versions/1/infer", "1"),
            ("/v2/models/tiny-softmax/versions/2/infer", "2"),
            ("/v2/models/tiny-softmax/infer", "2"),
        ]:
            result = tiny.post(path, json=body).json()
            assert result["model_version"] == version
            np.testing.assert_allclose(result["outputs"][0]["data"], want[version][0], rtol=1e-6)
        assert tiny.get("/v2/models/tiny-softmax").json()["versions"] == ["1", "2"]
        assert tiny.get("/v2/models/tiny-softmax/versions/1").json()["versions"] == ["1"]


@pytest.mark.parametrize("timeout", [0, -5, 1.5, "100", True])
def test_a_timeout_that_is_not_a_positive_integer_is_400(client: TestClient, timeout: Any) -> None:
    body = infer_json(pixels(1), parameters={"timeout": timeout})
    answer = client.post("/v2/models/mnist-mlp/infer", json=body)
    assert answer.status_code == 400
    assert "parameters.timeout must be a positive integer" in answer.json()["error"]


def test_a_generous_timeout_is_served(client: TestClient) -> None:
    body = infer_json(pixels(2), parameters={"timeout": 10_000_000})
    answer = client.post("/v2/models/mnist-mlp/infer", json=body)
    assert answer.status_code == 200
    assert answer.json()["outputs"][0]["shape"][0] == 2
