"""KServe's InferenceGRPCClient against a live nnserve: prints what it saw as one JSON object.

Run as a script in its own process (KServe's protobuf package `inference` cannot load beside
tritonclient.grpc's). Raw and typed contents both ways.

    python tests/grpc/clients/kserve_grpc.py HOST:PORT SEED
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import grpc
import numpy as np
from kserve import InferenceGRPCClient
from kserve.protocol.infer_type import InferInput, InferRequest


async def infer(client: InferenceGRPCClient, model: str, x: np.ndarray, raw: bool) -> Any:
    tensor = InferInput("input", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x, binary_data=raw)
    request = InferRequest(model_name=model, infer_inputs=[tensor], request_id=f"k-{raw}")
    response = await client.infer(request)
    return {
        "id": response.id,
        "outputs": {o.name: o.as_numpy().tolist() for o in response.outputs},
    }


async def failure(call: Any) -> dict[str, str]:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return {"status": exc.code().name, "message": exc.details() or ""}
    return {"status": "OK", "message": ""}


async def main(address: str, seed: int) -> dict[str, Any]:
    x = np.random.default_rng(seed).normal(size=(4, 2)).astype(np.float32)
    async with InferenceGRPCClient(address) as client:
        bad = np.zeros((4, 3), np.float32)
        return {
            "live": await client.is_server_live(),
            "ready": await client.is_server_ready(),
            "model_ready": await client.is_model_ready("logistic-regression"),
            "raw": await infer(client, "logistic-regression", x, raw=True),
            "typed": await infer(client, "logistic-regression", x, raw=False),
            "unknown_model": await failure(infer(client, "nope", x, raw=True)),
            "bad_shape": await failure(infer(client, "logistic-regression", bad, raw=False)),
        }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], int(sys.argv[2])))))
