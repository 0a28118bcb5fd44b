"""tritonclient.grpc against a live nnserve: prints what it saw as one JSON object.

Run as a script in its own process: tritonclient.grpc registers the protobuf package
`inference` in protobuf's default pool, and KServe's copy cannot load beside it.

    python tests/grpc/clients/triton_grpc.py HOST:PORT SEED
"""

from __future__ import annotations

import json
import sys
from typing import Any

import grpc
import numpy as np
import tritonclient.grpc as triton
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tritonclient.utils import InferenceServerException


def failure(call: Any) -> dict[str, str]:
    """The gRPC status and message of a call expected to fail."""
    try:
        call()
    except InferenceServerException as exc:
        return {"status": str(exc.status()), "message": str(exc.message())}
    return {"status": "OK", "message": ""}


def infer(client: triton.InferenceServerClient, model: str, x: np.ndarray, **kw: Any) -> Any:
    tensor = triton.InferInput("input", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x)
    return client.infer(model, [tensor], **kw)


def health(address: str) -> dict[str, str]:
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        answers = {}
        for service in ("", "inference.GRPCInferenceService"):
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            answers[service] = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return answers


def main(address: str, seed: int) -> dict[str, Any]:
    client = triton.InferenceServerClient(address)
    x = np.random.default_rng(seed).normal(size=(5, 784)).astype(np.float32)
    result = infer(client, "mnist-mlp", x, request_id="g-1")
    big = np.zeros((2000, 784), np.float32)  # 6.3 MB: past the 5 MiB default body limit
    return {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready("mnist-mlp"),
        "model_ready_v1": client.is_model_ready("mnist-mlp", "1"),
        "model_ready_v7": failure(lambda: client.is_model_ready("mnist-mlp", "7")),
        "server_metadata": client.get_server_metadata(as_json=True),
        "model_metadata": client.get_model_metadata("mnist-mlp", as_json=True),
        "metadata_unknown": failure(lambda: client.get_model_metadata("nope")),
        "outputs": {o: result.as_numpy(o).tolist() for o in ("logits", "probabilities")},
        "id": result.get_response().id,
        "raw": len(result.get_response().raw_output_contents),
        "version_one": infer(client, "mnist-mlp", x, model_version="1").as_numpy("logits").tolist(),
        "unknown_model": failure(lambda: infer(client, "nope", x)),
        "unknown_version": failure(lambda: infer(client, "mnist-mlp", x, model_version="7")),
        "bad_shape": failure(lambda: infer(client, "mnist-mlp", x[:, :783])),
        "oversize": failure(lambda: infer(client, "mnist-mlp", big)),
        "health": health(address),
        "live_after": client.is_server_live(),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
