"""Contender (a): the FastAPI server most people would write first.

A sync route, a pydantic `list[float]` body validated element by element, one
`session.run` per request, uvicorn with the benchmark's worker count. It is the baseline
every ratio in the benchmark is taken against, so it is deliberately ordinary, not
deliberately slow.

    python -m benchmarks.naive_server --model models/mnist-mlp/1/model.onnx --port 8100
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel


class PredictRequest(BaseModel):
    pixels: list[float]


class PredictResponse(BaseModel):
    digit: int
    probabilities: list[float]


def session_options(intra_op: int, inter_op: int) -> ort.SessionOptions:
    """The same thread settings every contender gets."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op
    options.inter_op_num_threads = inter_op
    return options


def create_app(model: str, intra_op: int = 1, inter_op: int = 1) -> FastAPI:
    session = ort.InferenceSession(
        model, session_options(intra_op, inter_op), providers=["CPUExecutionProvider"]
    )
    input_name = session.get_inputs()[0].name
    app = FastAPI()

    @app.post("/predict")
    def predict(request: PredictRequest) -> PredictResponse:
        x = np.array(request.pixels, dtype=np.float32).reshape(1, -1)
        _, probabilities = session.run(None, {input_name: x})
        return PredictResponse(
            digit=int(probabilities[0].argmax()), probabilities=probabilities[0].tolist()
        )

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    return app


def from_env() -> FastAPI:
    """uvicorn's factory for workers > 1 (each worker process builds its own app)."""
    threads = os.environ["NAIVE_THREADS"].split(",")
    return create_app(os.environ["NAIVE_MODEL"], int(threads[0]), int(threads[1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="path to model.onnx")
    parser.add_argument("--port", type=int, default=8100, help="loopback port (default 8100)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--intra-op", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--inter-op", type=int, default=1, help="onnxruntime inter-op threads")
    args = parser.parse_args(argv)
    os.environ["NAIVE_MODEL"] = args.model
    os.environ["NAIVE_THREADS"] = f"{args.intra_op},{args.inter_op}"
    uvicorn.run(
        "benchmarks.naive_server:from_env", factory=True, host="127.0.0.1", port=args.port,
        workers=args.workers, log_level="warning",
    )  # fmt: skip


if __name__ == "__main__":
    main()
