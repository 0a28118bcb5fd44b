"""`python -m benchmarks` (make bench): nnserve against a naive FastAPI server, the KServe
Python model server, MLServer and a bare ASGI ceiling, every one with the same worker count
and onnxruntime threads, all on loopback, driven by wrk; rows for 1 and 2 workers; several
rounds, medians of per-round ratios, server CPU per request beside every req/s.

    python -m benchmarks            # full run: 5 rounds, about 12 minutes on 2 cores
    python -m benchmarks --quick    # one short round, about 3 minutes
    python -m benchmarks --transports grpc   # the gRPC rows alone: results/grpc-results.*

gRPC (ModelInfer, the image in raw_input_contents) is driven by benchmarks/grpc_load.py, not
wrk: grpc.aio callers in one process, a channel each (see that module).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import (
    answers,
    breakdown,
    contenders,
    grpc_load,
    inprocess,
    overload,
    payloads,
    plan,
    report,
    servers,
    wrk,
)
from benchmarks.servers import Server, Threads

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s per cell")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--seconds", type=float, default=2.0, help="measured s per cell (2)")
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="warm-up s per cell, first round only (1)"
    )
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--workers", default="1,2", help="worker processes of every contender, one row set each"
    )
    parser.add_argument("--intra-op", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--inter-op", type=int, default=1, help="onnxruntime inter-op threads")
    parser.add_argument(
        "--transports", default="http,grpc",
        help="http (wrk), grpc (benchmarks/grpc_load.py) or both (default); grpc alone writes "
        "grpc-results.{json,md} and nothing else",
    )  # fmt: skip
    args = parser.parse_args(argv)
    args.transport_set = tuple(str(args.transports).split(","))
    if args.quick:
        args.rounds, args.seconds = 1, 1.0
    args.worker_counts = [int(w) for w in str(args.workers).split(",")]
    return args


def start_servers(
    args: argparse.Namespace, threads: Threads, workers: int, needed: set[str]
) -> dict[str, Server]:
    """The server processes (plan.SERVERS) the cells need, started one by one."""
    model = args.models_dir / "mnist-mlp" / "1" / "model.onnx"
    if not model.exists():
        raise SystemExit(f"{model} not found: train or check out the committed models")
    factories = {
        "naive": lambda: contenders.naive(model, threads, workers),
        "ceiling": lambda: contenders.ceiling(workers),
        "kserve": lambda: contenders.kserve(model, threads, workers),
        "mlserver": lambda: contenders.mlserver(model, threads, workers),
        "nnserve": lambda: contenders.nnserve("nnserve", args.models_dir, threads, workers),
        "unbatched": lambda: contenders.nnserve(
            "unbatched", args.models_dir, threads, workers, batch_max_wait_us="0", grpc_port="0"
        ),
        "grpc-ceiling": lambda: contenders.grpc_ceiling(workers),
    }
    started: dict[str, Server] = {}
    try:
        for name in plan.SERVERS:
            if name in needed:
                started[name] = factories[name]()
    except Exception:
        for server in started.values():
            servers.stop(server)
        raise
    return started


def expected_digit(args: argparse.Namespace, threads: Threads, digit: np.ndarray) -> int:
    """What onnxruntime in this process answers for the benchmark's digit."""
    session = inprocess.session(args.models_dir / "mnist-mlp" / "1" / "model.onnx", threads)
    feeds = {session.get_inputs()[0].name: payloads.normalized(digit)}
    return int(session.run(["probabilities"], feeds)[0][0].argmax())


def one_round(
    number: int, cells: list[plan.Cell], running: dict[str, Server], args: argparse.Namespace
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, cell in enumerate(cells):
            body = wrk.body_file(cell.payload, Path(tmp), str(index))
            server = running[cell.server]
            warmup = args.warmup if number == 0 else 0.0  # lazy start-up happens once
            servers.settle(server.process.pid)
            if cell.transport == plan.GRPC:
                m: wrk.Measurement = grpc_load.measure(
                    server.grpc, cell.connections, warmup, args.seconds, server.process.pid
                )
            else:
                m = wrk.measure(
                    server.url + cell.path, body, cell.payload, cell.connections, warmup,
                    args.seconds, server.process.pid,
                )  # fmt: skip
            rows.append(report.row(number, cell, m))
            print(report.progress(rows[-1]), flush=True)
    return rows


def inprocess_round(
    number: int, args: argparse.Namespace, threads: Threads
) -> list[dict[str, object]]:
    session = inprocess.session(args.models_dir / "mnist-mlp" / "1" / "model.onnx", threads)
    digit = payloads.digit_28x28()
    seconds = min(args.seconds, 2.0)
    return [
        {
            "round": number,
            "images": n,
            "images_per_s": inprocess.images_per_second(
                session, payloads.normalized(digit, n), seconds
            ),
        }
        for n in plan.SCALING_SIZES
    ]


def overload_round(args: argparse.Namespace, threads: Threads) -> dict[str, object]:
    """One nnserve worker, default settings, 1,000 connections (see benchmarks/overload.py)."""
    server = contenders.nnserve("nnserve", args.models_dir, threads, 1)
    with servers.running([server]):
        row = overload.measure(server, 1000, 5.0 if args.quick else 10.0)
    print(f"overload: {row}", flush=True)
    return row


def check_answers(cells: list[plan.Cell], running: dict[str, Server], expected: int) -> None:
    """Every cell's contender answers the right digit (the ceilings: just answers)."""
    for cell in cells:
        server = running[cell.server]
        if cell.transport == plan.GRPC:
            digit = None if cell.server == "grpc-ceiling" else expected
            grpc_load.check(cell.key, server.grpc, cell.payload.body, digit)
        else:
            answers.check(cell, server.url, expected)


def measure_blocks(args: argparse.Namespace, threads: Threads) -> list[dict[str, object]]:
    """The rounds of every worker count (one block each), the servers started per block."""
    measured: list[dict[str, object]] = []
    digit = payloads.digit_28x28()
    expected = expected_digit(args, threads, digit)
    for workers in args.worker_counts:
        scaling = workers == max(args.worker_counts) and "http" in args.transport_set
        cells = plan.cells(digit, workers, scaling, args.transport_set)
        running = start_servers(args, threads, workers, {cell.server for cell in cells})
        with servers.running(list(running.values())):
            check_answers(cells, running, expected)
            for number in range(args.rounds):
                measured += one_round(number, cells, running, args)
        args.out.mkdir(parents=True, exist_ok=True)  # kept should a later block fail
        (args.out / "rounds-partial.json").write_text(json.dumps(measured))
    return measured


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    threads = Threads(args.intra_op, args.inter_op)
    if "http" in args.transport_set:
        wrk.wrk_binary()
    started = time.monotonic()
    measured = measure_blocks(args, threads)
    if "http" not in args.transport_set:
        results = report.summarize_grpc(measured, vars(args), time.monotonic() - started)
        report.write_grpc(results, args.out)
        (args.out / "rounds-partial.json").unlink(missing_ok=True)
        return
    local: list[dict[str, object]] = []
    for number in range(args.rounds):
        local += inprocess_round(number, args, threads)
    overload_row = overload_round(args, threads)
    stages = breakdown.measure(args.models_dir, threads)
    results = report.summarize(
        measured, local, stages, vars(args), time.monotonic() - started, overload_row
    )
    report.write(results, args.out)
    (args.out / "rounds-partial.json").unlink(missing_ok=True)  # the report holds it all now


if __name__ == "__main__":
    main()
