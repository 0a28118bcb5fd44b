"""The official clients, as they behave by default, against a real uvicorn on loopback.

tritonclient.http sends no Content-Type and uses the binary tensor data extension unless told
otherwise; KServe's InferenceRESTClient speaks protocol v2 with JSON or binary inputs. Outputs
are compared with onnxruntime run in-process on the same graph.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as triton
from kserve import InferenceRESTClient, RESTConfig
from kserve.protocol.infer_type import InferInput, InferRequest, RequestedOutput
from tritonclient.utils import InferenceServerException

CPU = "CPUExecutionProvider"
CASES = [
    ("mnist-mlp", 784, ["logits", "probabilities"]),
    ("logistic-regression", 2, ["logit", "probability"]),
]


def oracle(models_dir: Path, name: str, x: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(models_dir / name / "1" / "model.onnx"), providers=[CPU])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {"input": x}), strict=True))


def features(rows: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, width)).astype(np.float32)


@pytest.fixture(scope="module")
def triton_client(live_server: str) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(url=urlsplit(live_server).netloc, network_timeout=30.0)


def test_triton_health_and_metadata(triton_client: triton.InferenceServerClient) -> None:
    assert triton_client.is_server_live()
    assert triton_client.is_server_ready()
    assert triton_client.is_model_ready("mnist-mlp")
    assert triton_client.is_model_ready("mnist-mlp", model_version="1")
    assert not triton_client.is_model_ready("mnist-mlp", model_version="7")
    server = triton_client.get_server_metadata()
    assert server["name"] == "nnserve" and "binary_tensor_data" in server["extensions"]
    model = triton_client.get_model_metadata("mnist-mlp")
    assert model["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 784]}]
    assert model["versions"] == ["1"] and model["provider"] == CPU


@pytest.mark.parametrize(("name", "width", "outputs"), CASES)
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_triton_infer(
    triton_client: triton.InferenceServerClient,
    models_dir: Path,
    name: str,
    width: int,
    outputs: list[str],
    binary: bool,
) -> None:
    x = features(5, width, seed=width)
    tensor = triton.InferInput("input", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x, binary_data=binary)
    requested = [triton.InferRequestedOutput(o, binary_data=binary) for o in outputs]
    result = triton_client.infer(name, [tensor], outputs=requested, request_id="t-1")
    want = oracle(models_dir, name, x)
    for output in outputs:
        np.testing.assert_allclose(result.as_numpy(output), want[output], rtol=1e-5, atol=1e-7)
    assert result.get_response()["id"] == "t-1"


def test_triton_defaults_all_outputs_binary(
    triton_client: triton.InferenceServerClient, models_dir: Path
) -> None:
    """No outputs named: the client asks for every output in binary (binary_data_output)."""
    x = features(3, 784, seed=9)
    tensor = triton.InferInput("input", [3, 784], "FP32")
    tensor.set_data_from_numpy(x)
    result = triton_client.infer("mnist-mlp", [tensor], model_version="1")
    want = oracle(models_dir, "mnist-mlp", x)
    np.testing.assert_allclose(result.as_numpy("probabilities"), want["probabilities"], rtol=1e-5)
    assert all("binary_data_size" in o["parameters"] for o in result.get_response()["outputs"])


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_triton_compressed_requests(
    triton_client: triton.InferenceServerClient, models_dir: Path, algorithm: str
) -> None:
    x = features(2, 784, seed=11)
    tensor = triton.InferInput("input", [2, 784], "FP32")
    tensor.set_data_from_numpy(x)
    result = triton_client.infer("mnist-mlp", [tensor], request_compression_algorithm=algorithm)
    want = oracle(models_dir, "mnist-mlp", x)
    np.testing.assert_allclose(result.as_numpy("logits"), want["logits"], rtol=1e-5, atol=1e-6)


def test_triton_sees_error_messages(triton_client: triton.InferenceServerClient) -> None:
    tensor = triton.InferInput("input", [1, 3], "FP32")
    tensor.set_data_from_numpy(np.zeros((1, 3), np.float32))
    with pytest.raises(InferenceServerException, match=r"has shape \[1, 3\], the model expects"):
        triton_client.infer("logistic-regression", [tensor])
    with pytest.raises(InferenceServerException, match="model 'nope' not found"):
        triton_client.infer("nope", [tensor])
    assert triton_client.is_server_live()


async def kserve_round(url: str, name: str, x: np.ndarray, binary: bool) -> dict[str, np.ndarray]:
    config = RESTConfig(protocol="v2", timeout=30)
    async with InferenceRESTClient(config) as client:
        assert await client.is_server_live(url)
        assert await client.is_server_ready(url)
        assert await client.is_model_ready(url, name)
        tensor = InferInput("input", list(x.shape), "FP32")
        tensor.set_data_from_numpy(x, binary_data=binary)
        request = InferRequest(model_name=name, infer_inputs=[tensor], request_id="k-1")
        response = await client.infer(url, request, model_name=name)
        assert response.id == "k-1" and response.model_name == name
        return {o.name: o.as_numpy() for o in response.outputs}


@pytest.mark.parametrize(("name", "width", "outputs"), CASES)
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_kserve_infer(
    live_server: str, models_dir: Path, name: str, width: int, outputs: list[str], binary: bool
) -> None:
    x = features(4, width, seed=width + 1)
    got = asyncio.run(kserve_round(live_server, name, x, binary))
    want = oracle(models_dir, name, x)
    assert sorted(got) == sorted(outputs)
    for output in outputs:
        np.testing.assert_allclose(got[output], want[output], rtol=1e-5, atol=1e-7)


def test_kserve_requested_output_and_not_ready_model(live_server: str, models_dir: Path) -> None:
    async def run() -> tuple[list[str], bool]:
        async with InferenceRESTClient(RESTConfig(protocol="v2", timeout=30)) as client:
            x = features(2, 2, seed=5)
            tensor = InferInput("input", [2, 2], "FP32", data=x.reshape(-1).tolist())
            request = InferRequest(
                model_name="logistic-regression",
                infer_inputs=[tensor],
                request_outputs=[RequestedOutput("probability")],
            )
            response = await client.infer(live_server, request, model_name="logistic-regression")
            missing = await client.is_model_ready(live_server, "nope")
            return [o.name for o in response.outputs], missing

    names, missing = asyncio.run(run())
    assert names == ["probability"] and missing is False
