"""Where gRPC's extra server CPU per request comes from: one nnserve worker answering V2
binary over REST (driven by wrk) and ModelInfer over gRPC (driven by benchmarks/grpc_load.py)
in turn, beside the two ceilings (the bare ASGI app under uvicorn, the bare grpc.aio server),
the same c for all, interleaved rounds so all see the same machine load. nnserve's cost over
its transport's ceiling is what the service adds; the ceilings' difference is the transport's.

    python -m benchmarks.grpc_gap [--rounds 5] [--seconds 2] [-c 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from benchmarks import contenders, grpc_load, payloads, plan, servers, wrk
from benchmarks.servers import ROOT, Server, Threads


def one(kind: str, server: Server, c: int, seconds: float, body: Path) -> float:
    """Server CPU us per request of one measured run."""
    pid = server.process.pid
    if kind == "gRPC":
        return grpc_load.measure(server.grpc, c, 0.0, seconds, pid).cpu_us
    payload = payloads.v2_binary(payloads.normalized(payloads.digit_28x28()))
    path = plan.V2_INFER if server.name == "nnserve" else "/"
    return wrk.measure(server.url + path, body, payload, c, 0.0, seconds, pid).cpu_us


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("-c", "--connections", type=int, default=1)
    args = parser.parse_args(argv)
    nnserve = contenders.nnserve("nnserve", ROOT / "models", Threads(), 1)
    started = [nnserve, contenders.ceiling(1), contenders.grpc_ceiling(1)]
    cells = [("REST", started[0]), ("gRPC", started[0]), ("REST", started[1]), ("gRPC", started[2])]
    figures: dict[str, list[float]] = {}
    with servers.running(started), tempfile.TemporaryDirectory() as tmp:
        body = Path(tmp) / "body"
        body.write_bytes(payloads.v2_binary(payloads.normalized(payloads.digit_28x28())).body)
        for kind, server in cells:  # warm-up
            one(kind, server, args.connections, 1.0, body)
        for number in range(args.rounds):
            for kind, server in cells if number % 2 == 0 else cells[::-1]:
                key = f"{kind} {server.name}"
                cpu_us = one(kind, server, args.connections, args.seconds, body)
                figures.setdefault(key, []).append(cpu_us)
            print(f"round {number} load {os.getloadavg()[0]:.2f}", flush=True)
    print(f"server CPU us per request, c={args.connections}, median of {args.rounds} rounds:")
    for key, values in figures.items():
        print(f"  {key:<22} {statistics.median(values):6.0f}   {[round(v) for v in values]}")


if __name__ == "__main__":
    main()
