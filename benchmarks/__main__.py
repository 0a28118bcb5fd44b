"""`python -m benchmarks` (make bench): nnserve against a naive FastAPI server and a bare ASGI
ceiling, all on loopback, driven by wrk; several rounds, medians of per-round ratios.

    python -m benchmarks            # full run: 5 rounds, about 8 minutes on 2 cores
    python -m benchmarks --quick    # one short round, about a minute and a half
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks import breakdown, inprocess, payloads, plan, report, servers, wrk
from benchmarks.servers import Server, Threads

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s per cell")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured s per cell (3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up s per cell (1)")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--workers", default="2", help="nnserve worker processes (default 2: one per core here)"
    )
    parser.add_argument("--intra-op", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--inter-op", type=int, default=1, help="onnxruntime inter-op threads")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds = 1, 2.0
    return args


def start_servers(args: argparse.Namespace, threads: Threads) -> dict[str, Server]:
    model = args.models_dir / "mnist-mlp" / "1" / "model.onnx"
    if not model.exists():
        raise SystemExit(f"{model} not found: train or check out the committed models")
    started = {"naive": servers.naive(model, threads), "ceiling": servers.ceiling()}
    started["nnserve"] = servers.nnserve("nnserve", args.models_dir, threads, workers=args.workers)
    started["unbatched"] = servers.nnserve(
        "unbatched", args.models_dir, threads, workers=args.workers, batch_max_wait_us="0"
    )
    return started


def check(cell: plan.Cell, server: Server) -> None:
    """Fail fast, before any timing, when a contender does not answer its request with 200."""
    headers = {"content-type": cell.payload.content_type}
    if cell.payload.header:
        headers[cell.payload.header[0]] = cell.payload.header[1]
    answer = httpx.post(server.url + cell.path, content=cell.payload.body, headers=headers)
    if answer.status_code != 200:
        raise SystemExit(f"{cell.key}: {answer.status_code} {answer.text[:300]}")


def one_round(
    number: int, cells: list[plan.Cell], running: dict[str, Server], args: argparse.Namespace
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, cell in enumerate(cells):
            body = wrk.body_file(cell.payload, Path(tmp), str(index))
            server = running[cell.server]
            m = wrk.measure(
                server.url + cell.path, body, cell.payload, cell.connections, args.warmup,
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


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    threads = Threads(args.intra_op, args.inter_op)
    wrk.wrk_binary()
    cells = plan.cells(payloads.digit_28x28())
    started = time.monotonic()
    measured: list[dict[str, object]] = []
    local: list[dict[str, object]] = []
    running = start_servers(args, threads)
    with servers.running(list(running.values())):
        for cell in cells:
            check(cell, running[cell.server])
        for number in range(args.rounds):
            measured += one_round(number, cells, running, args)
            local += inprocess_round(number, args, threads)
    stages = breakdown.measure(args.models_dir, threads)
    results = report.summarize(measured, local, stages, vars(args), time.monotonic() - started)
    report.write(results, args.out)


if __name__ == "__main__":
    main()
