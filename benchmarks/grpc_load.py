"""The gRPC load driver (wrk cannot speak gRPC): ModelInfer, one image [1, 784] FP32.

What drives the load: this module, in its own process (as wrk is), on one asyncio loop with
grpcio's asyncio client (grpc.aio). `c` callers, each on its own channel, so each has its own
TCP connection (a local subchannel pool: grpcio would otherwise share one connection among
channels to one address) and the kernel's SO_REUSEPORT spreads them over a server's workers
as it spreads wrk's connections; each caller sends one request at a time, the next as soon as
the answer is in. The request is serialized once, with nnserve's own
service.grpc.inference_pb2 (its private descriptor pool; the wire format is the protocol's
package `inference`, so every V2 gRPC server reads it): the image in `raw_input_contents`,
the output `probabilities` asked for, an id, as tritonclient.grpc sends it. Answers are not
parsed while timing (identity (de)serializers), so the driver spends its CPU on gRPC alone;
`check` parses one answer before any timing. Any status but OK counts as an error (a call
gets 10 s, as wrk's --timeout). The driver reports its own CPU per request (all its threads,
time.process_time) and, given the server's pid, the server's (its process tree, /proc),
both read at the edges of the measured window. Loopback only, bounded c and duration.

    python -m benchmarks.grpc_load 127.0.0.1:8001 -c 8 --seconds 2 --warmup 1
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass

import grpc
import numpy as np

from benchmarks import payloads
from benchmarks.servers import ROOT, Server, cpu_seconds, settle
from benchmarks.wrk import Measurement
from service.grpc import inference_pb2 as pb

METHOD = "/inference.GRPCInferenceService/ModelInfer"
MODEL = "mnist-mlp"
MAX_CONNECTIONS = 256
MAX_SECONDS = 120.0
CALL_TIMEOUT = 10.0
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]
"""One TCP connection per channel, never one shared by all channels to the same address."""
SUMMARY = "GRPC_LOAD "


@dataclass(frozen=True)
class GrpcMeasurement(Measurement):
    """A wrk-like measurement, plus what the driver itself spent."""

    driver_cpu_us: float = 0.0
    """The driver's CPU microseconds per request: if it nears the time per request a core
    allows, the driver, not the server, is what limits req/s."""


def request_bytes(x: np.ndarray, model: str = MODEL) -> bytes:
    """A serialized ModelInferRequest: `x` (FP32) raw, `probabilities` asked for."""
    tensor = pb.ModelInferRequest.InferInputTensor(name="input", datatype="FP32", shape=x.shape)
    request = pb.ModelInferRequest(
        model_name=model,
        id="bench-1",
        inputs=[tensor],
        outputs=[pb.ModelInferRequest.InferRequestedOutputTensor(name="probabilities")],
        raw_input_contents=[np.ascontiguousarray(x, dtype="<f4").tobytes()],
    )
    return request.SerializeToString()


def loopback(address: str) -> str:
    """`address` (host:port) when its host is a loopback one, else SystemExit."""
    host = address.rsplit(":", 1)[0].strip("[]")
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"{address}: the load driver drives loopback addresses only")
    return address


Call = grpc.aio.UnaryUnaryMultiCallable  # type: ignore[type-arg]


async def _caller(
    call: Call, body: bytes, deadline: float, seen: list[float], errors: Counter[str]
) -> None:
    """One request at a time until `deadline`; latencies (s) of OK answers, codes of the rest."""
    while (start := time.perf_counter()) < deadline:
        try:
            await call(body, timeout=CALL_TIMEOUT)
        except grpc.aio.AioRpcError as exc:
            errors[exc.code().name] += 1
        else:
            seen.append(time.perf_counter() - start)


async def _round(
    calls: list[Call], body: bytes, seconds: float
) -> tuple[list[float], Counter[str]]:
    seen: list[float] = []
    errors: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(_caller(call, body, deadline, seen, errors) for call in calls))
    return seen, errors


async def drive(
    address: str, body: bytes, connections: int, warmup: float, seconds: float, pid: int | None
) -> dict[str, object]:
    """Connect `connections` channels, warm up, then measure for `seconds`."""
    channels = [
        grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) for _ in range(connections)
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*(c.channel_ready() for c in channels)), 30)
        calls = [c.unary_unary(METHOD) for c in channels]  # bytes in, bytes out
        if warmup > 0:
            await _round(calls, body, warmup)
            if pid:  # until the warm-up's last calls are done on the server too
                await asyncio.to_thread(settle, pid)
        server_before, cpu_before, start = _cpu(pid), time.process_time(), time.perf_counter()
        seen, errors = await _round(calls, body, seconds)
        elapsed, driver = time.perf_counter() - start, time.process_time() - cpu_before
        server = _cpu(pid) - server_before
    finally:
        await asyncio.gather(*(c.close() for c in channels))
    done = len(seen) + sum(errors.values())
    p50, p99 = np.percentile(np.asarray(seen or [0.0]) * 1000, [50, 99])
    return {
        "requests": done, "ok": len(seen), "errors": dict(errors), "seconds": elapsed,
        "p50_ms": float(p50), "p99_ms": float(p99),
        "driver_cpu_us": driver * 1e6 / max(done, 1), "server_cpu_us": server * 1e6 / max(done, 1),
    }  # fmt: skip


def _cpu(pid: int | None) -> float:
    return cpu_seconds(pid) if pid else 0.0


def measure(
    address: str, connections: int, warmup: float, seconds: float, pid: int | None,
    model: str = MODEL,
) -> GrpcMeasurement:  # fmt: skip
    """One driver run in its own process, against the benchmark's digit."""
    argv = [sys.executable, "-m", "benchmarks.grpc_load", loopback(address), "-c", str(connections)]
    argv += ["--warmup", str(warmup), "--seconds", str(seconds), "--model", model]
    argv += ["--server-pid", str(pid)] if pid else []
    limit = warmup + seconds + 90  # start-up, connecting, the last calls' timeout
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=limit)
    lines = [line for line in done.stdout.splitlines() if line.startswith(SUMMARY)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"gRPC driver failed ({done.returncode}):\n{done.stderr[-2000:]}")
    s = json.loads(lines[-1].removeprefix(SUMMARY))
    return GrpcMeasurement(
        requests=s["requests"], seconds=s["seconds"], errors=sum(s["errors"].values()),
        p50_ms=s["p50_ms"], p99_ms=s["p99_ms"], load1=os.getloadavg()[0],
        cpu_us=s["server_cpu_us"], driver_cpu_us=s["driver_cpu_us"],
    )  # fmt: skip


def wait_until_up(server: Server, timeout: float = 120.0) -> None:
    """Until `server.grpc` accepts a connection; fail early when the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}")
        with grpc.insecure_channel(server.grpc) as channel:
            try:
                grpc.channel_ready_future(channel).result(timeout=1.0)
                return
            except grpc.FutureTimeoutError:
                continue
    raise TimeoutError(f"{server.name} not up on {server.grpc} after {timeout:.0f}s")


def probabilities(reply: pb.ModelInferResponse) -> np.ndarray:
    """The `probabilities` output of an answer, raw or in typed contents."""
    for index, output in enumerate(reply.outputs):
        if output.name == "probabilities":
            if reply.raw_output_contents:
                return np.frombuffer(reply.raw_output_contents[index], dtype="<f4")
            return np.asarray(output.contents.fp32_contents, dtype=np.float32)
    raise SystemExit(f"no probabilities in the answer: {reply}")


def answer(address: str, body: bytes) -> pb.ModelInferResponse:
    """One ModelInfer call, parsed."""
    with grpc.insecure_channel(loopback(address)) as channel:
        call = channel.unary_unary(METHOD, response_deserializer=pb.ModelInferResponse.FromString)
        reply: pb.ModelInferResponse = call(body, timeout=30, wait_for_ready=True)
        return reply


def check(key: str, address: str, body: bytes, expected: int | None) -> None:
    """Fail fast, before any timing, when a contender does not answer OK with `expected`
    (None: the ceiling, a fixed answer, no model)."""
    try:
        reply = answer(address, body)
    except grpc.RpcError as exc:
        raise SystemExit(f"{key}: {exc.code().name} {exc.details()}") from None
    if expected is not None and (found := int(probabilities(reply).argmax())) != expected:
        raise SystemExit(f"{key}: answered {found}, onnxruntime in-process says {expected}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grpc_load", description=__doc__)
    parser.add_argument("address", help="host:port on loopback")
    parser.add_argument("-c", "--connections", type=int, default=8, help="callers, a channel each")
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds (2)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds (1)")
    parser.add_argument("--model", default=MODEL, help="model name (mnist-mlp)")
    parser.add_argument("--server-pid", type=int, default=None, help="read its CPU from /proc")
    args = parser.parse_args(argv)
    if not 1 <= args.connections <= MAX_CONNECTIONS or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"1 <= c <= {MAX_CONNECTIONS} and 0 < seconds <= {MAX_SECONDS:.0f}")
    body = request_bytes(payloads.normalized(payloads.digit_28x28()), args.model)
    run = drive(
        loopback(args.address),
        body,
        args.connections,
        min(args.warmup, MAX_SECONDS),
        args.seconds,
        args.server_pid,
    )
    print(SUMMARY + json.dumps(asyncio.run(run)), flush=True)


if __name__ == "__main__":
    main()
