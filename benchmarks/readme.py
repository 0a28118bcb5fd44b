"""README's speed section, written from one benchmark run's results.json: the text between
the `<!-- speed:start -->` and `<!-- speed:end -->` markers is replaced, nothing else.

    python -m benchmarks.readme [benchmarks/results/results.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- speed:start -->", "<!-- speed:end -->"
Row = dict[str, Any]

NAMES = {
    "naive": "naive FastAPI",
    "v2-json": "nnserve V2 JSON",
    "v2-binary": "nnserve V2 binary",
    "v2-binary-unbatched": "nnserve V2 binary, batching off",
    "predict-png": "nnserve /predict, PNG",
    "kserve": "KServe model server 0.21 (V2 JSON)",
    "mlserver": "MLServer 1.7.1 (V2 JSON)",
    "ceiling": "ceiling (bare ASGI)",
    "v2-grpc": "nnserve gRPC (raw_input_contents)",
    "kserve-grpc": "KServe model server 0.21 (gRPC)",
    "mlserver-grpc": "MLServer 1.7.1 (gRPC)",
    "ceiling-grpc": "ceiling (bare grpc.aio)",
}

INTRO = """\
One command measures nnserve against what you would otherwise run, everything on loopback,
driven by Debian's `wrk`:

```bash
make bench                      # = python -m benchmarks: 5 rounds, 1 and 2 workers, ~15 min
python -m benchmarks --quick    # 1 round of 1 s per cell, about 3 minutes
python -m benchmarks.overload   # 1,000 connections on one worker, probes beside it
python -m benchmarks.profile    # py-spy: where a loaded worker's CPU goes
python -m benchmarks.compare BEFORE.json AFTER.json   # two runs side by side
```

Every contender serves the committed `mnist-mlp` with the **same worker count** (a row set for
1 and for 2 workers) and the same onnxruntime threads (intra-op 1, inter-op 1): **naive**, the
FastAPI server most people write first (`benchmarks/naive_server.py`: sync route, pydantic
`list[float]` body); the **KServe** Python model server (`benchmarks/kserve_server.py`, a
`kserve.Model` as KServe's docs write one, its default logging); **MLServer** 1.7.1 with an
onnxruntime `MLModel` (`benchmarks/mlserver/`, in its own virtual environment that the
benchmark builds under `benchmarks/.venvs/`; `parallel_workers` = the worker count, with
uvloop 0.21, which MLServer 1.7.1 needs for it); nnserve **V2 JSON**, **V2 binary**,
**V2 binary with batching off** and **/predict** with a 280x280 canvas PNG; and the
**ceiling**, a bare ASGI app under the same uvicorn. Server CPU per request is read from
`/proc` for the server's whole process tree: on a shared machine it is the steadier figure.

The gRPC rows (ModelInfer, the image in `raw_input_contents`, the same request bytes for every
server) are driven by `benchmarks/grpc_load.py`, since wrk cannot speak gRPC: c callers in one
grpc.aio process, each on its own channel (its own TCP connection) with one request at a time,
the driver's own CPU per request written beside the server's in `results.md`; the gRPC
**ceiling** is a bare grpc.aio server answering a fixed reply. KServe serves gRPC from its main
process only, whatever its worker count; MLServer from its main process, its inference in
its `parallel_workers`.
"""


def _targets(targets: list[Row]) -> list[str]:
    lines = ["| target (same run) | measured | goal | |", "|---|--:|--:|---|"]
    for t in targets:
        met = "met" if t["met"] else "**missed**"
        lines.append(f"| {t['target']} | {t['value']:.2f} | {t['direction']} {t['goal']} | {met} |")
    return lines


def _contenders(cells: list[Row], workers: int) -> list[str]:
    lines = [
        f"| {workers} worker(s) each | c=1 req/s | p50 ms | c=8 req/s | c=64 req/s | p99 ms "
        "| CPU us/req c=8 | c=64 |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    mine = {(c["contender"], c["connections"]): c for c in cells
            if c["workers"] == workers and c["images"] == 1}  # fmt: skip
    for name, label in NAMES.items():
        row = [mine.get((name, c)) for c in (1, 8, 64)]
        if None in row:
            continue
        one, eight, many = row
        lines.append(
            f"| {label} | {one['rps']:,.0f} | {one['p50_ms']:.2f} | {eight['rps']:,.0f} "
            f"| {many['rps']:,.0f} | {many['p99_ms']:.1f} | {eight['cpu_us']:,.0f} "
            f"| {many['cpu_us']:,.0f} |"
        )
    return lines


def _load(cells: list[Row]) -> str:
    loads = [c["load1"] for c in cells]
    return f"{min(loads):.1f} to {max(c['load1_max'] for c in cells):.1f}"


def section(results: Row) -> str:
    args = results["args"]
    cells = results["cells"]
    workers = sorted({c["workers"] for c in cells})
    out = [
        INTRO,
        (
            f"This run: {args['rounds']} rounds of {args['seconds']} s per cell; the machine (2 "
            f"cores) was shared, 1-minute load average {_load(cells)} (written per row in "
            "`benchmarks/results/results.md`); ratios are medians of per-round ratios."
        ),
        "",
        *_targets(results["targets"]),
        "",
    ]
    for w in workers:
        out += [*_contenders(cells, w), ""]
    out += [
        "Full tables (scaling with N images per request, the overload probes, where one "
        "request's time goes): `benchmarks/results/results.md`; before and after this "
        "version's hot-path work: `benchmarks/results/before-after.md`.",
        "",
        "![Benchmark: requests per second by contender, 1 and 2 workers, and scaling]"
        "(benchmarks/results/results.png)",
    ]  # fmt: skip
    return "\n".join(out)


def replace(readme: str, text: str) -> str:
    head, start, rest = readme.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"README has no {START} ... {END} markers")
    return f"{head}{START}\n{text}\n{END}{tail}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="?",
                        default=ROOT / "benchmarks" / "results" / "results.json")  # fmt: skip
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    text = section(json.loads(args.results.read_text()))
    args.readme.write_text(replace(args.readme.read_text(encoding="utf-8"), text))


if __name__ == "__main__":
    main()
