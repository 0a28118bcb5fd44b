"""What one benchmark run measures: the cells (contender x concurrency x batch size)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks import payloads
from benchmarks.payloads import Payload

CONCURRENCY = (1, 8, 64)
SCALING_SIZES = (1, 8, 64, 256)
SCALING_CONCURRENCY = 8
V2_INFER = "/v2/models/mnist-mlp/infer"


@dataclass(frozen=True)
class Cell:
    """One wrk run: which server, which path and body, how many connections."""

    contender: str
    server: str
    path: str
    payload: Payload
    connections: int
    images: int = 1

    @property
    def key(self) -> str:
        return f"{self.contender}|c={self.connections}|n={self.images}"


@dataclass(frozen=True)
class Contender:
    name: str
    server: str
    path: str
    payload: Payload


def contenders(digit: np.ndarray) -> list[Contender]:
    """(a) naive, (b) V2 JSON, (c) V2 binary, (d) /predict PNG, (e) the ceiling, and (c)
    again with batching off, to show what the batcher costs at c=1 and gives under load."""
    x = payloads.normalized(digit)
    return [
        Contender("naive", "naive", "/predict", payloads.naive_json(x)),
        Contender("v2-json", "nnserve", V2_INFER, payloads.v2_json(x)),
        Contender("v2-binary", "nnserve", V2_INFER, payloads.v2_binary(x)),
        Contender("predict-png", "nnserve", "/predict?model=mnist-mlp", payloads.canvas_png(digit)),
        Contender("ceiling", "ceiling", "/", payloads.v2_json(x)),
        Contender("v2-binary-unbatched", "unbatched", V2_INFER, payloads.v2_binary(x)),
    ]


def cells(digit: np.ndarray) -> list[Cell]:
    """Every one-image cell at c = 1, 8, 64, then the V2 binary scaling run."""
    grid = [
        Cell(c.name, c.server, c.path, c.payload, connections)
        for connections in CONCURRENCY
        for c in contenders(digit)
    ]
    for n in SCALING_SIZES[1:]:  # n=1 at c=8 is the one-image cell above
        body = payloads.v2_binary(payloads.normalized(digit, n))
        grid.append(Cell("v2-binary", "nnserve", V2_INFER, body, SCALING_CONCURRENCY, n))
    return grid
