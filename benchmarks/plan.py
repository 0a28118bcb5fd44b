"""What one benchmark run measures: the cells (contender x workers x concurrency x batch)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks import payloads
from benchmarks.payloads import Payload

CONCURRENCY = (1, 8, 64)
SCALING_SIZES = (1, 8, 64, 256)
SCALING_CONCURRENCY = 8
V2_INFER = "/v2/models/mnist-mlp/infer"
SERVERS = ("naive", "ceiling", "kserve", "mlserver", "nnserve", "unbatched", "grpc-ceiling")
"""The server processes one worker count needs; several contenders share "nnserve"."""
GRPC_MODEL_INFER = "/inference.GRPCInferenceService/ModelInfer"
GRPC = "grpc"
"""A cell's transport when benchmarks/grpc_load.py drives it (wrk drives "http")."""


@dataclass(frozen=True)
class Cell:
    """One wrk run: which server, which path and body, how many workers and connections."""

    contender: str
    server: str
    path: str
    payload: Payload
    connections: int
    workers: int
    images: int = 1
    transport: str = "http"

    @property
    def key(self) -> str:
        return f"{self.contender}|w={self.workers}|c={self.connections}|n={self.images}"


@dataclass(frozen=True)
class Contender:
    name: str
    server: str
    path: str
    payload: Payload
    transport: str = "http"


def grpc_contenders(digit: np.ndarray) -> list[Contender]:
    """ModelInfer over gRPC, the image in raw_input_contents (benchmarks/grpc_load.py): nnserve,
    KServe, MLServer and the grpc.aio ceiling, the same request bytes for every one."""
    from benchmarks import grpc_load  # grpcio only where gRPC is measured

    body = payloads.Payload(grpc_load.request_bytes(payloads.normalized(digit)), "application/grpc")
    servers = {"v2-grpc": "nnserve", "kserve-grpc": "kserve", "mlserver-grpc": "mlserver"}
    servers["ceiling-grpc"] = "grpc-ceiling"
    return [Contender(name, s, GRPC_MODEL_INFER, body, GRPC) for name, s in servers.items()]


def contenders(digit: np.ndarray) -> list[Contender]:
    """naive, nnserve (V2 JSON, V2 binary, /predict PNG, V2 binary with batching off), the
    peers (KServe, MLServer: the same V2 JSON body) and the bare-ASGI ceiling, then the gRPC
    ones (grpc_contenders)."""
    x = payloads.normalized(digit)
    v2_json = payloads.v2_json(x)
    return [
        Contender("naive", "naive", "/predict", payloads.naive_json(x)),
        Contender("v2-json", "nnserve", V2_INFER, v2_json),
        Contender("v2-binary", "nnserve", V2_INFER, payloads.v2_binary(x)),
        Contender("predict-png", "nnserve", "/predict?model=mnist-mlp", payloads.canvas_png(digit)),
        Contender("kserve", "kserve", V2_INFER, v2_json),
        Contender("mlserver", "mlserver", V2_INFER, v2_json),
        Contender("ceiling", "ceiling", "/", v2_json),
        Contender("v2-binary-unbatched", "unbatched", V2_INFER, payloads.v2_binary(x)),
        *grpc_contenders(digit),
    ]


def cells(
    digit: np.ndarray, workers: int, scaling: bool, transports: tuple[str, ...] = ("http", GRPC)
) -> list[Cell]:
    """Every one-image cell at c = 1, 8, 64 with `workers` workers each, then (`scaling`)
    the V2 binary scaling run; only the cells of `transports`."""
    grid = [
        Cell(c.name, c.server, c.path, c.payload, connections, workers, 1, c.transport)
        for connections in CONCURRENCY
        for c in contenders(digit)
        if c.transport in transports
    ]
    if scaling:
        for n in SCALING_SIZES[1:]:  # n=1 at c=8 is the one-image cell above
            body = payloads.v2_binary(payloads.normalized(digit, n))
            cell = Cell("v2-binary", "nnserve", V2_INFER, body, SCALING_CONCURRENCY, workers, n)
            grid.append(cell)
    return grid
