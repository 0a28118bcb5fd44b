"""Where one request's time goes: each stage of nnserve's path timed in this process with the
service's own functions, set beside the HTTP stack's cost (the ceiling's p50 at c=1) and
nnserve's measured p50, so the distance to the ceiling is explained, not just measured."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks import asgi_driver, payloads, plan
from benchmarks.servers import Threads
from service.images import digits, number
from service.protocol import v2
from service.runtime.session import Runtime

Stages = dict[str, float]
NUMPY = orjson.OPT_SERIALIZE_NUMPY
HAND_OFF = "hand-off to the worker thread (the hop x the share of batches handed off)"
MIDDLEWARE = "middleware: request id, log, metrics, limits, body limit, FastAPI's outer layers"
REST = "rest of the app: fast path, routing, batching, loop turns"


def micros(work: Callable[[], object], repeats: int = 300) -> float:
    """Median microseconds of `work()` after a few warm-up calls."""
    for _ in range(5):
        work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def thread_hop_micros(repeats: int = 300) -> float:
    """An event loop handing a no-op to a worker thread and getting the answer back."""

    async def hops() -> list[float]:
        loop = asyncio.get_running_loop()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            await loop.run_in_executor(None, int)
            times.append(time.perf_counter() - start)
        return times

    return statistics.median(asyncio.run(hops())) * 1e6


def _v2_stages(runtime: Runtime, payload: payloads.Payload, binary: bool) -> Stages:
    length = payload.header[1] if payload.header else None
    request = v2.decode_infer_request(payload.body, length)
    feeds = request.inputs
    out = runtime.run(feeds, ["probabilities"])
    flags = {"probabilities": binary}
    return {
        "decode body": micros(lambda: v2.decode_infer_request(payload.body, length)),
        "check tensors": micros(lambda: runtime.check(feeds)),
        "session.run": micros(lambda: runtime.session.run(["probabilities"], feeds), 1000),
        "encode response": micros(
            lambda: v2.encode_infer_response("mnist-mlp", "1", None, out, flags)
        ),
    }


def _read(png: bytes) -> np.ndarray:
    """What POST /predict does before the run: read the number, one tensor row per digit."""
    found = number.read_number(png, 25_000_000, 8)
    return np.concatenate([digits.to_tensor(d.image, 0.1307, 0.3081) for d in found])


def _png_stages(runtime: Runtime, digit: np.ndarray) -> Stages:
    png = payloads.canvas_png(digit).body
    x = _read(png)
    answer = {"model": "mnist-mlp", "version": 1, "digit": 7, "probabilities": x[0, :10]}
    return {
        "decode body": micros(lambda: _read(png), 100),
        "check tensors": micros(lambda: runtime.check({"input": x})),
        "session.run": micros(lambda: runtime.session.run(None, {"input": x}), 1000),
        "encode response": micros(lambda: orjson.dumps(answer, option=NUMPY)),
    }


def measure(models_dir: Path, threads: Threads) -> dict[str, Any]:
    """In-process stage timings per contender (microseconds)."""
    runtime = Runtime.load(
        models_dir / "mnist-mlp" / "1" / "model.onnx", "cpu", threads.intra_op, threads.inter_op
    )
    digit = payloads.digit_28x28()
    x = payloads.normalized(digit)
    hop = thread_hop_micros()
    stages = {
        "v2-json": _v2_stages(runtime, payloads.v2_json(x), binary=False),
        "v2-binary": _v2_stages(runtime, payloads.v2_binary(x), binary=True),
        "predict-png": _png_stages(runtime, digit),
    }
    app = asgi_driver.app_micros(models_dir, threads, {
        "v2-json": (plan.V2_INFER, payloads.v2_json(x)),
        "v2-binary": (plan.V2_INFER, payloads.v2_binary(x)),
        "predict-png": ("/predict?model=mnist-mlp", payloads.canvas_png(digit)),
    })  # fmt: skip
    for name, timings in stages.items():
        # paid only by the batches that left the loop: a one-image run is measured faster
        # than the hop and runs inline (runtime/clock.py), so at c=1 this is about 0
        timings[HAND_OFF] = hop * app["handed_off"][name]
    return {"stages_us": stages, "app_us": app["whole"], "fast_paths_us": app["fast_paths"]}


def session_run_us(stages: dict[str, Any]) -> float:
    """One `session.run` of one image, microseconds (timed in `measure`)."""
    return float(stages["stages_us"]["v2-json"]["session.run"])


def explain(stages: dict[str, Any], cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Per contender: the HTTP stack (the ceiling's p50 at c=1), the stages, what the
    middleware costs in-process (the whole app driven without a socket, minus the same
    requests driven from the fast paths), what the rest of the app costs (the fast paths'
    time minus the stages), and what is left of the measured p50 at c=1 after all that
    (waiting: scheduling and wake-ups between the processes and threads on a busy machine)."""
    p50 = {c["contender"]: c["p50_ms"] * 1000 for c in cells
           if c["connections"] == 1 and c["images"] == 1 and c["workers"] == 1}  # fmt: skip
    table: dict[str, dict[str, float]] = {}
    for contender, timings in stages["stages_us"].items():
        if contender not in p50:
            continue
        whole = stages["app_us"][contender]
        column = {"HTTP stack (ceiling p50)": p50["ceiling"], **timings}
        inner = stages.get("fast_paths_us", {}).get(contender, whole)
        column[MIDDLEWARE] = whole - inner
        column[REST] = inner - sum(timings.values())
        column["waiting (p50 minus all above)"] = p50[contender] - p50["ceiling"] - whole
        column["whole app in-process"] = whole
        column["measured p50 at c=1"] = p50[contender]
        table[contender] = column
    return {"stages_us": table}
