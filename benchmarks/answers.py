"""Read the digit out of each contender's answer, so the benchmark checks that every one
answers correctly (the same digit as onnxruntime in this process) before it times any."""

from __future__ import annotations

import httpx
import numpy as np
import orjson

from benchmarks.plan import Cell

HEADER_LENGTH = "inference-header-content-length"


def _v2_probabilities(answer: httpx.Response) -> np.ndarray:
    """The `probabilities` output of a V2 answer, JSON or binary tensor data."""
    length = answer.headers.get(HEADER_LENGTH)
    body = answer.content
    header = orjson.loads(body[: int(length)] if length else body)
    (output,) = [o for o in header["outputs"] if o["name"] == "probabilities"]
    if length:
        return np.frombuffer(body[int(length) :], dtype=np.float32)
    return np.asarray(output["data"], dtype=np.float32)


def digit(cell: Cell, answer: httpx.Response) -> int | None:
    """The digit the contender answered; None for the ceiling (a fixed body, no model)."""
    if cell.contender == "ceiling":
        return None
    if cell.path.startswith("/predict"):  # naive and nnserve's /predict: {"digit": d, ...}
        return int(orjson.loads(answer.content)["digit"])
    return int(_v2_probabilities(answer).reshape(cell.images, -1)[0].argmax())


def check(cell: Cell, url: str, expected: int) -> None:
    """Fail fast, before any timing, when a contender does not answer 200 with `expected`."""
    headers = {"content-type": cell.payload.content_type}
    if cell.payload.header:
        headers[cell.payload.header[0]] = cell.payload.header[1]
    answer = httpx.post(url + cell.path, content=cell.payload.body, headers=headers, timeout=30)
    if answer.status_code != 200:
        raise SystemExit(f"{cell.key}: {answer.status_code} {answer.text[:300]}")
    found = digit(cell, answer)
    if found is not None and found != expected:
        raise SystemExit(f"{cell.key}: answered {found}, onnxruntime in-process says {expected}")
