"""Turn the rounds into medians, ratios and target checks; print and write JSON, Markdown, PNG."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks import breakdown, overload, plan
from benchmarks.plan import Cell
from benchmarks.wrk import Measurement

Row = dict[str, Any]


def row(number: int, cell: Cell, m: Measurement) -> Row:
    return {
        "round": number, "key": cell.key, "contender": cell.contender, "workers": cell.workers,
        "connections": cell.connections, "images": cell.images, "rps": m.rps,
        "images_per_s": m.rps * cell.images, "p50_ms": m.p50_ms, "p99_ms": m.p99_ms,
        "errors": m.errors, "load1": m.load1, "cpu_us": m.cpu_us, "transport": cell.transport,
        "driver_cpu_us": getattr(m, "driver_cpu_us", None), "spread": m.spread,
    }  # fmt: skip


def progress(r: Row) -> str:
    return (
        f"round {r['round']} {r['key']:<36} {r['rps']:>9.0f} req/s {r['images_per_s']:>9.0f} img/s"
        f"  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}"
        f"  cpu {r['cpu_us']:5.0f} us/req  load {r['load1']:.2f}  conns {r.get('spread') or '-'}"
    )


Place = tuple[int, int, int]
"""(round, workers, connections): ratios are only taken between cells of one place."""


def _place(r: Row) -> Place:
    return (r["round"], r["workers"], r["connections"])


def _of(measured: list[Row], contender: str, field: str = "rps") -> dict[Place, float]:
    mine = [r for r in measured if r["contender"] == contender and r["images"] == 1]
    return {_place(r): r[field] for r in mine}


def _ratio(rows: list[Row], other: dict[Place, float], field: str = "rps") -> float:
    """Median over rounds of this cell's figure divided by the other one's, same round."""
    ratios = [r[field] / other[_place(r)] for r in rows if _place(r) in other]
    return statistics.median(ratios) if ratios else float("nan")


GRPC_CEILING = "ceiling-grpc"


def _driver_cpu(rows: list[Row]) -> float | None:
    """The gRPC driver's own CPU per request (median); None for wrk's cells."""
    figures = [r["driver_cpu_us"] for r in rows if r.get("driver_cpu_us") is not None]
    return statistics.median(figures) if figures else None


def _cells(measured: list[Row]) -> list[Row]:
    by_key: dict[str, list[Row]] = defaultdict(list)
    for r in measured:
        by_key[r["key"]].append(r)
    naive, naive_cpu = _of(measured, "naive"), _of(measured, "naive", "cpu_us")
    ceilings = {"http": _of(measured, "ceiling"), plan.GRPC: _of(measured, GRPC_CEILING)}
    out = []
    for rows in by_key.values():
        first = rows[0]
        one = first["images"] == 1
        transport = first.get("transport", "http")
        ceiling = ceilings[transport]
        out.append({
            "contender": first["contender"], "workers": first["workers"],
            "connections": first["connections"], "images": first["images"],
            **{f: statistics.median(r[f] for r in rows)
               for f in ("rps", "images_per_s", "p50_ms", "p99_ms", "load1", "cpu_us")},
            "load1_max": max(r["load1"] for r in rows),
            "errors": sum(r["errors"] for r in rows),
            "x_naive": _ratio(rows, naive) if one else None,
            "cpu_x_naive": _ratio(rows, naive_cpu, "cpu_us") if one else None,
            "of_ceiling": _ratio(rows, ceiling) if one else None,
            "transport": transport, "driver_cpu_us": _driver_cpu(rows),
            "spread": " ".join(r["spread"] for r in rows if r.get("spread")),
        })  # fmt: skip
    return out


def _scaling(measured: list[Row], local: list[Row]) -> list[Row]:
    inproc = {(r["round"], r["images"]): r["images_per_s"] for r in local}
    workers = max(r["workers"] for r in measured)
    out = []
    for n in plan.SCALING_SIZES:
        rows = [
            r for r in measured
            if r["contender"] == "v2-binary" and r["images"] == n and r["workers"] == workers
            and r["connections"] == plan.SCALING_CONCURRENCY
        ]  # fmt: skip
        fractions = [r["images_per_s"] / inproc[(r["round"], n)] for r in rows]
        out.append({
            "images": n, "workers": workers,
            "http_images_per_s": statistics.median(r["images_per_s"] for r in rows),
            "inprocess_images_per_s": statistics.median(
                r["images_per_s"] for r in local if r["images"] == n),
            "fraction": statistics.median(fractions),
            "load1": statistics.median(r["load1"] for r in rows),
        })  # fmt: skip
    return out


def _per_round(measured: list[Row], a: str, b: str, w: int, c: int, field: str) -> float:
    """Median over rounds of contender a's field over contender b's, at w workers, c conns."""
    mine, theirs = _of(measured, a, field), _of(measured, b, field)
    ratios = [v / theirs[p] for p, v in mine.items() if p[1:] == (w, c) and theirs.get(p)]
    return statistics.median(ratios) if ratios else float("nan")


RATIO_TARGETS = [
    # (label, contender, over contender, concurrencies, figure, goal, higher is better)
    ("V2 JSON / naive req/s", "v2-json", "naive", (8, 64), "rps", 3.0, True),
    ("V2 JSON / naive server CPU per request", "v2-json", "naive", (8, 64), "cpu_us", 1 / 3,
     False),
    ("V2 binary / naive req/s", "v2-binary", "naive", (8, 64), "rps", 4.0, True),
    ("V2 JSON / KServe req/s", "v2-json", "kserve", (8, 64), "rps", 5.0, True),
    ("V2 JSON / MLServer req/s (no goal set: shown)", "v2-json", "mlserver", (8, 64), "rps",
     1.0, True),
    ("V2 JSON p99 / naive p99", "v2-json", "naive", (64,), "p99_ms", 1.0, False),
    ("p50 batched / unbatched (V2 binary)", "v2-binary", "v2-binary-unbatched", (1,), "p50_ms",
     1.1, False),
    ("nnserve gRPC / KServe gRPC req/s (no goal set: shown)", "v2-grpc", "kserve-grpc", (8, 64),
     "rps", 1.0, True),
]  # fmt: skip


def _target(name: str, value: float, goal: float, higher: bool) -> Row:
    met = value >= goal if higher else value <= goal
    return {"target": name, "value": value, "goal": round(goal, 3),
            "direction": ">=" if higher else "<=", "met": met}  # fmt: skip


def _p50_targets(measured: list[Row], run_us: float) -> list[Row]:
    """p50 at c=1 over (the ceiling's p50 + one session.run): what nnserve adds to the HTTP
    stack and the model, per worker count."""
    out = []
    for w in sorted({r["workers"] for r in measured}):
        ceiling = _of(measured, "ceiling", "p50_ms")
        for name in ("v2-json", "v2-binary"):
            ratios = [
                v / (ceiling[p] + run_us / 1000)
                for p, v in _of(measured, name, "p50_ms").items() if p[1:] == (w, 1)
            ]  # fmt: skip
            label = f"{name} p50 / (ceiling p50 + session.run), c=1, {w} worker(s)"
            out.append(_target(label, statistics.median(ratios), 1.3, False))
    return out


def _targets(measured: list[Row], scaling: list[Row], cells: list[Row], run_us: float) -> list[Row]:
    out = []
    measured_names = {r["contender"] for r in measured}
    for w in sorted({r["workers"] for r in measured}):
        for label, a, b, conns, figure, goal, higher in RATIO_TARGETS:
            if not {a, b} <= measured_names:  # e.g. a run without the gRPC rows
                continue
            for c in conns:
                value = _per_round(measured, a, b, w, c, figure)
                out.append(_target(f"{label}, c={c}, {w} worker(s)", value, goal, higher))
    out += _p50_targets(measured, run_us)
    out.append(_target("V2 binary N=256 / in-process images/s", scaling[-1]["fraction"], 0.5, True))
    out.append(_target("errors (all cells)", sum(c["errors"] for c in cells), 0, False))
    return out


def summarize(
    measured: list[Row],
    local: list[Row],
    stages: Row,
    args: dict[str, Any],
    seconds: float,
    overload_row: Row | None = None,
) -> Row:
    cells = _cells(measured)
    scaling = _scaling(measured, local)
    targets = _targets(measured, scaling, cells, breakdown.session_run_us(stages))
    if overload_row is not None:
        targets += [_target(*figure) for figure in overload.figures(overload_row)]
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_avg_end": os.getloadavg()},
        "args": {k: str(v) for k, v in args.items()}, "wall_seconds": seconds,
        "cells": cells, "scaling": scaling, "targets": targets, "overload": overload_row,
        "breakdown": breakdown.explain(stages, cells),
        "rounds": measured, "inprocess_rounds": local,
    }  # fmt: skip


def summarize_grpc(measured: list[Row], args: dict[str, Any], seconds: float) -> Row:
    """A gRPC-only run (--transports grpc): its cells, no targets, scaling or breakdown."""
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_avg_end": os.getloadavg()},
        "args": {k: str(v) for k, v in args.items()}, "wall_seconds": seconds,
        "cells": _cells(measured), "rounds": measured,
    }  # fmt: skip


def write_grpc(results: Row, out: Path) -> None:
    """grpc-results.{json,md}: results.{json,md} of the last full run stay as they are."""
    from benchmarks import markdown

    out.mkdir(parents=True, exist_ok=True)
    (out / "grpc-results.json").write_text(json.dumps(results, indent=1) + "\n")
    text = markdown.render_grpc(results)
    (out / "grpc-results.md").write_text(text)
    print(text)
    print(f"written to {out}/grpc-results.{{json,md}}")


def write(results: Row, out: Path) -> None:
    from benchmarks import markdown, plot

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    text = markdown.render(results)
    (out / "results.md").write_text(text)
    plot.render(results, out / "results.png")
    print(text)
    print(f"written to {out}/results.{{json,md,png}}")
