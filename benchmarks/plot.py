"""One PNG: req/s per contender and concurrency, and the scaling run against in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from benchmarks import plan


def render(results: dict[str, Any], path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    one = [c for c in results["cells"] if c["images"] == 1]
    names = list(dict.fromkeys(c["contender"] for c in one))
    width = 0.8 / len(plan.CONCURRENCY)
    for i, connections in enumerate(plan.CONCURRENCY):
        rps = {c["contender"]: c["rps"] for c in one if c["connections"] == connections}
        xs = [j + i * width for j in range(len(names))]
        left.bar(xs, [rps.get(n, 0) for n in names], width, label=f"c={connections}")
    left.set_xticks([j + width for j in range(len(names))], names, rotation=20)
    left.set_yscale("log")
    left.set_ylabel("requests/s (log)")
    left.set_title("one image per request")
    left.legend()
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
