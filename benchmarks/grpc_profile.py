"""Where nnserve's CPU goes under gRPC load: py-spy samples one worker while
benchmarks/grpc_load.py drives ModelInfer (one raw FP32 image), summed per function as
benchmarks/profile.py sums them for REST. --native adds grpcio's C frames.

    python -m benchmarks.grpc_profile [--connections 1] [--seconds 8] [--native]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks import contenders, grpc_load, servers
from benchmarks.profile import sampled, summarize
from benchmarks.servers import Threads

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--native", action="store_true", help="C frames too (py-spy --native)")
    parser.add_argument("--top", type=int, default=40, help="functions listed (default 40)")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    args = parser.parse_args(argv)
    server = contenders.nnserve("nnserve", args.models_dir, Threads(), workers=1)
    with servers.running([server]), tempfile.TemporaryDirectory() as tmp:
        grpc_load.measure(server.grpc, args.connections, 0.0, 2.0, None)  # warm up
        raw = Path(tmp) / "samples.txt"
        pid = server.process.pid
        with sampled(pid, args.seconds, raw, native=args.native):
            m = grpc_load.measure(server.grpc, args.connections, 0.0, args.seconds, pid)
        print(f"gRPC c={args.connections}: {m.rps:.0f} req/s, p50 {m.p50_ms:.2f} ms, server "
              f"{m.cpu_us:.0f} us/req (sampled), one worker, load {m.load1:.2f}")  # fmt: skip
        print(summarize(raw, args.top))


if __name__ == "__main__":
    main()
