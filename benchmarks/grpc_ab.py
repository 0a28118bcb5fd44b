"""gRPC before/after on one machine at one time: two `python -m service` side by side, one
running an older `service/` package (a folder holding it, e.g. from `git archive`), one
this checkout's, both one worker with gRPC on, driven in turn by benchmarks/grpc_load.py
(ModelInfer, one raw FP32 image), so both see the same load. Server CPU per request from
/proc is the figure to compare; req/s moves with the machine's load.

    mkdir -p /tmp/old && git archive HEAD~1 service | tar -x -C /tmp/old
    python -m benchmarks.grpc_ab /tmp/old --rounds 6 --seconds 3 -c 1 [--new /tmp/new]

Copy both sides out of the checkout (`cp -r service /tmp/new/`) when others edit it meanwhile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks import grpc_load, servers
from benchmarks.servers import ROOT, Server, free_port


def start(name: str, folder: Path) -> Server:
    """`python -m service` run from `folder` (its `service/` is the one imported)."""
    port, grpc_port = free_port(), free_port()
    env = {
        **os.environ, "PYTHONPATH": str(folder), "NNSERVE_HOST": "127.0.0.1",
        "NNSERVE_PORT": str(port), "NNSERVE_GRPC_PORT": str(grpc_port),
        "NNSERVE_MODELS_DIR": str(ROOT / "models"), "NNSERVE_WORKERS": "1",
        "NNSERVE_INTRA_OP_NUM_THREADS": "1", "NNSERVE_INTER_OP_NUM_THREADS": "1",
    }  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "service"], cwd=folder, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = Server(name, f"http://127.0.0.1:{port}", process, f"127.0.0.1:{grpc_port}")
    servers.wait_until_up(server, "/v2/health/ready")
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="a folder holding the older service/ package")
    parser.add_argument("--new", type=Path, default=ROOT, help="the newer one (this checkout)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("-c", "--connections", type=int, default=1)
    args = parser.parse_args(argv)
    pair = [start("before", args.old.resolve()), start("after", args.new.resolve())]
    figures: dict[str, list[float]] = {"before": [], "after": []}
    with servers.running(pair):
        for s in pair:
            grpc_load.measure(s.grpc, args.connections, 0.0, 1.0, None)  # warm up
        for number in range(args.rounds):
            for s in pair if number % 2 == 0 else pair[::-1]:
                m = grpc_load.measure(s.grpc, args.connections, 0, args.seconds, s.process.pid)
                figures[s.name].append(m.cpu_us)
                line = f"round {number} {s.name:<6} {m.cpu_us:6.0f} us/req {m.rps:6.0f} req/s"
                print(f"{line} p50 {m.p50_ms:.2f} ms errors {m.errors} load {m.load1:.2f}")
    before, after = (statistics.median(figures[k]) for k in ("before", "after"))
    print(f"median server CPU per request, c={args.connections}: before {before:.0f} us, "
          f"after {after:.0f} us ({100 * (after / before - 1):+.1f}%)")  # fmt: skip


if __name__ == "__main__":
    main()
