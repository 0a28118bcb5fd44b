"""Where nnserve's CPU goes under load: py-spy samples a worker while wrk drives V2 infer,
and the samples are summed per function (inclusive and self). Needs py-spy (dev extra) and
the right to ptrace the server (root, or kernel.yama.ptrace_scope=0). Samples of threads
that wait for work are left out; a thread waiting for the GIL or for a core still counts.

    python -m benchmarks.profile [--body binary|json] [--connections 64] [--seconds 8]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks import contenders, payloads, plan, servers, wrk
from benchmarks.servers import Threads

ROOT = Path(__file__).resolve().parents[1]
IDLE = ("Condition.wait", "Event.wait", "Queue.get", "SimpleQueue.get", "_worker")
"""Leaf frames of threads waiting for work: left out, only busy samples are summed."""


def summarize(raw: Path, top: int) -> str:
    """py-spy's raw output (`frame;frame;... count` per line) -> the hottest functions."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame.split(" (")[0] for frame in stack.split(";")]
        if frames[-1] in IDLE:
            continue
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    lines = [f"{total} busy samples"]
    lines += [f"{100 * n / total:5.1f}% inclusive  {f}" for f, n in inclusive.most_common(top)]
    lines += [f"{100 * n / total:5.1f}% self       {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


@contextmanager
def sampled(pid: int, seconds: int, raw: Path, native: bool = False) -> Iterator[None]:
    """py-spy records `pid` for `seconds` into `raw` (its raw format) while the block runs
    (REST here, gRPC in grpc_profile.py). --nonblocking unless `native` (C frames too): py-spy
    can only read those by pausing the process for each sample, which lowers its req/s."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    record = [spy, "record", "--pid", str(pid), "--rate", "250", "--duration", str(seconds),
              "--format", "raw", "--output", str(raw),
              "--native" if native else "--nonblocking"]  # fmt: skip
    sampler = subprocess.Popen(record, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        _, said = sampler.communicate(timeout=seconds + 60)
    if sampler.returncode != 0:
        raise RuntimeError(f"py-spy failed ({sampler.returncode}): {said.decode()[-2000:]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body", choices=["binary", "json"], default="binary")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--top", type=int, default=40, help="functions listed (default 40)")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    args = parser.parse_args(argv)
    x = payloads.normalized(payloads.digit_28x28())
    payload = payloads.v2_binary(x) if args.body == "binary" else payloads.v2_json(x)
    server = contenders.nnserve("nnserve", args.models_dir, Threads(), workers=1)
    with servers.running([server]), tempfile.TemporaryDirectory() as tmp:
        body = wrk.body_file(payload, Path(tmp), "body")
        url = server.url + plan.V2_INFER
        wrk.run(url, body, payload, args.connections, 2)  # warm up
        raw = Path(tmp) / "samples.txt"
        with sampled(server.process.pid, args.seconds, raw):
            measured = wrk.run(url, body, payload, args.connections, args.seconds)
        print(f"{args.body} c={args.connections}: {measured.rps:.0f} req/s, p50 "
              f"{measured.p50_ms:.2f} ms, one worker, load {measured.load1:.2f}")  # fmt: skip
        print(summarize(raw, args.top))


if __name__ == "__main__":
    main()
