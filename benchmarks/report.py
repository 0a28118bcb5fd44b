"""Turn the rounds into medians, ratios and target checks; print and write JSON, Markdown, PNG."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks import breakdown, plan
from benchmarks.plan import Cell
from benchmarks.wrk import Measurement

Row = dict[str, Any]


def row(number: int, cell: Cell, m: Measurement) -> Row:
    return {
        "round": number, "key": cell.key, "contender": cell.contender,
        "connections": cell.connections, "images": cell.images, "rps": m.rps,
        "images_per_s": m.rps * cell.images, "p50_ms": m.p50_ms, "p99_ms": m.p99_ms,
        "errors": m.errors, "load1": m.load1, "cpu_us": m.cpu_us,
    }  # fmt: skip


def progress(r: Row) -> str:
    return (
        f"round {r['round']} {r['key']:<32} {r['rps']:>9.0f} req/s {r['images_per_s']:>9.0f} img/s"
        f"  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}"
        f"  cpu {r['cpu_us']:5.0f} us/req  load {r['load1']:.2f}"
    )


def _ratio(rows: list[Row], other: dict[tuple[int, int], float], field: str = "rps") -> float:
    """Median over rounds of this cell's figure divided by the other one's, same round."""
    ratios = [r[field] / other[(r["round"], r["connections"])] for r in rows]
    return statistics.median(ratios) if ratios else float("nan")


def _cells(measured: list[Row]) -> list[Row]:
    by_key: dict[str, list[Row]] = defaultdict(list)
    for r in measured:
        by_key[r["key"]].append(r)
    naive = {
        (r["round"], r["connections"]): r["rps"] for r in measured if r["contender"] == "naive"
    }
    ceiling = {
        (r["round"], r["connections"]): r["rps"] for r in measured if r["contender"] == "ceiling"
    }
    out = []
    for rows in by_key.values():
        first = rows[0]
        one_image = first["images"] == 1 and first["connections"] in plan.CONCURRENCY
        out.append({
            "contender": first["contender"], "connections": first["connections"],
            "images": first["images"],
            **{f: statistics.median(r[f] for r in rows)
               for f in ("rps", "images_per_s", "p50_ms", "p99_ms", "load1", "cpu_us")},
            "errors": sum(r["errors"] for r in rows),
            "x_naive": _ratio(rows, naive) if one_image else None,
            "of_ceiling": _ratio(rows, ceiling) if one_image else None,
        })  # fmt: skip
    return out


def _scaling(measured: list[Row], local: list[Row]) -> list[Row]:
    inproc = {(r["round"], r["images"]): r["images_per_s"] for r in local}
    out = []
    for n in plan.SCALING_SIZES:
        rows = [
            r for r in measured
            if r["contender"] == "v2-binary" and r["images"] == n
            and r["connections"] == plan.SCALING_CONCURRENCY
        ]  # fmt: skip
        fractions = [r["images_per_s"] / inproc[(r["round"], n)] for r in rows]
        out.append({
            "images": n,
            "http_images_per_s": statistics.median(r["images_per_s"] for r in rows),
            "inprocess_images_per_s": statistics.median(
                r["images_per_s"] for r in local if r["images"] == n),
            "fraction": statistics.median(fractions),
            "load1": statistics.median(r["load1"] for r in rows),
        })  # fmt: skip
    return out


def _per_round(measured: list[Row], a: str, b: str, c: int, field: str) -> float:
    """Median over rounds of contender a's field over contender b's, at concurrency c."""
    pick = {(r["contender"], r["round"]): r[field] for r in measured
            if r["connections"] == c and r["images"] == 1}  # fmt: skip
    rounds = sorted({r["round"] for r in measured})
    return statistics.median(pick[(a, n)] / pick[(b, n)] for n in rounds)


RATIO_TARGETS = [
    # (label, contender, over contender, at concurrency, figure, goal, higher is better)
    ("V2 JSON / naive req/s, c=8", "v2-json", "naive", 8, "rps", 3.0, True),
    ("V2 JSON / naive req/s, c=64", "v2-json", "naive", 64, "rps", 3.0, True),
    ("V2 binary / naive req/s, c=8", "v2-binary", "naive", 8, "rps", 4.0, True),
    ("V2 binary / naive req/s, c=64", "v2-binary", "naive", 64, "rps", 4.0, True),
    ("V2 JSON p99 / naive p99, c=64", "v2-json", "naive", 64, "p99_ms", 1.0, False),
    ("V2 binary p99 / naive p99, c=64", "v2-binary", "naive", 64, "p99_ms", 1.0, False),
    ("p50 c=1 batched / unbatched (V2 binary)", "v2-binary", "v2-binary-unbatched", 1, "p50_ms",
     1.1, False),
]  # fmt: skip


def _target(name: str, value: float, goal: float, higher: bool) -> Row:
    met = value >= goal if higher else value <= goal
    return {"target": name, "value": value, "goal": goal,
            "direction": ">=" if higher else "<=", "met": met}  # fmt: skip


def _targets(measured: list[Row], scaling: list[Row], cells: list[Row]) -> list[Row]:
    out = [
        _target(label, _per_round(measured, a, b, c, figure), goal, higher)
        for label, a, b, c, figure, goal, higher in RATIO_TARGETS
    ]
    out.append(_target("V2 binary N=256 / in-process images/s", scaling[-1]["fraction"], 0.5, True))
    out.append(_target("errors (all cells)", sum(c["errors"] for c in cells), 0, False))
    return out


def summarize(
    measured: list[Row], local: list[Row], stages: Row, args: dict[str, Any], seconds: float
) -> Row:
    cells = _cells(measured)
    scaling = _scaling(measured, local)
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_avg_end": os.getloadavg()},
        "args": {k: str(v) for k, v in args.items()}, "wall_seconds": seconds,
        "cells": cells, "scaling": scaling, "targets": _targets(measured, scaling, cells),
        "breakdown": breakdown.explain(stages, cells),
        "rounds": measured, "inprocess_rounds": local,
    }  # fmt: skip


def write(results: Row, out: Path) -> None:
    from benchmarks import markdown, plot

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    text = markdown.render(results)
    (out / "results.md").write_text(text)
    plot.render(results, out / "results.png")
    print(text)
    print(f"written to {out}/results.{{json,md,png}}")
