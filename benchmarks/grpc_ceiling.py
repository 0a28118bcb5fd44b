"""Contender: the gRPC ceiling. A grpc.aio server (the server nnserve runs, with nnserve's
options) whose one handler answers ModelInfer with a fixed, pre-serialized answer of the
benchmark's shape (`probabilities` [1, 10] FP32, raw) without parsing the request: no
Python server on grpcio can beat it, so its figures are what grpcio alone costs a request,
and how far the load driver (benchmarks/grpc_load.py) can go at all. Each worker is its own
process binding the port with SO_REUSEPORT, as nnserve's workers do.

    python -m benchmarks.grpc_ceiling --port 8111 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import signal
import sys
from typing import Any

import grpc
import numpy as np

from service.grpc import inference_pb2 as pb

SERVICE = "inference.GRPCInferenceService"


def fixed_answer() -> bytes:
    """What nnserve answers the benchmark's request with, in size and shape."""
    tensor = pb.ModelInferResponse.InferOutputTensor(
        name="probabilities", datatype="FP32", shape=[1, 10]
    )
    reply = pb.ModelInferResponse(
        model_name="mnist-mlp", model_version="1", id="bench-1", outputs=[tensor],
        raw_output_contents=[np.full(10, 0.1, dtype="<f4").tobytes()],
    )  # fmt: skip
    return reply.SerializeToString()


async def serve(port: int) -> None:
    answer = fixed_answer()

    async def model_infer(request: bytes, context: Any) -> bytes:
        return answer

    options = [("grpc.so_reuseport", 1), ("grpc.max_receive_message_length", 5 * 2**20)]
    server = grpc.aio.server(options=options)
    handler = grpc.unary_unary_rpc_method_handler(model_infer)  # bytes in, bytes out
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(SERVICE, {"ModelInfer": handler})]
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def worker(port: int) -> None:
    asyncio.run(serve(port))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8111, help="loopback port (default 8111)")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args(argv)
    # SIGTERM exits through sys.exit, so multiprocessing's exit hook ends the daemon workers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    context = multiprocessing.get_context("spawn")
    for _ in range(args.workers - 1):
        context.Process(target=worker, args=(args.port,), daemon=True).start()
    worker(args.port)


if __name__ == "__main__":
    main()
