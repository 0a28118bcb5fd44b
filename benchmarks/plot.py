"""One PNG: req/s per contender and concurrency, and the scaling run against in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from benchmarks import plan


def _bars(axis: Any, one: list[dict[str, Any]], workers: int) -> None:
    mine = [c for c in one if c["workers"] == workers]
    names = list(dict.fromkeys(c["contender"] for c in mine))
    width = 0.8 / len(plan.CONCURRENCY)
    for i, connections in enumerate(plan.CONCURRENCY):
        rps = {c["contender"]: c["rps"] for c in mine if c["connections"] == connections}
        xs = [j + i * width for j in range(len(names))]
        axis.bar(xs, [rps.get(n, 0) for n in names], width, label=f"c={connections}")
    axis.set_xticks([j + width for j in range(len(names))], names, rotation=30, ha="right")
    axis.set_yscale("log")
    axis.set_ylabel("requests/s (log)")
    axis.set_title(f"one image per request, {workers} worker(s) each")
    axis.legend()


def render(results: dict[str, Any], path: Path) -> None:
    one = [c for c in results["cells"] if c["images"] == 1]
    worker_counts = sorted({c["workers"] for c in one})
    fig, axes = plt.subplots(1, len(worker_counts) + 1, figsize=(7 * len(worker_counts) + 6, 5.5))
    for axis, workers in zip(axes, worker_counts, strict=False):
        _bars(axis, one, workers)
    right = axes[-1]
    sizes = [s["images"] for s in results["scaling"]]
    right.plot(sizes, [s["http_images_per_s"] for s in results["scaling"]], "o-", label="V2 binary")
    right.plot(
        sizes, [s["inprocess_images_per_s"] for s in results["scaling"]], "s--", label="in-process"
    )
    right.set_xscale("log", base=2)
    right.set_yscale("log")
    right.set_xlabel("images per request")
    right.set_ylabel("images/s (log)")
    right.set_title(f"scaling, c={plan.SCALING_CONCURRENCY}")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
