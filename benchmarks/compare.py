"""Before/after: two benchmark runs' results.json side by side, per cell (server CPU per
request, req/s, p99) and per target, as Markdown.

    python -m benchmarks.compare BEFORE.json AFTER.json [--out benchmarks/results/before-after.md]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def _key(c: Row) -> tuple[str, int, int]:
    return (c["contender"], c["workers"], c["connections"])


def cells_table(before: list[Row], after: list[Row]) -> list[str]:
    old = {_key(c): c for c in before if c["images"] == 1}
    lines = [
        "| contender | workers | c | CPU us/req before | after | req/s before | after "
        "| p99 ms before | after | load1 before | after |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    ones = [c for c in after if c["images"] == 1]
    for c in sorted(ones, key=lambda c: (c["workers"], c["connections"])):
        b = old.get(_key(c))
        if b is None:
            continue
        lines.append(
            f"| {c['contender']} | {c['workers']} | {c['connections']} | {b['cpu_us']:.0f} "
            f"| {c['cpu_us']:.0f} | {b['rps']:.0f} | {c['rps']:.0f} | {b['p99_ms']:.1f} "
            f"| {c['p99_ms']:.1f} | {b['load1']:.2f} | {c['load1']:.2f} |"
        )
    return lines


def targets_table(before: list[Row], after: list[Row]) -> list[str]:
    old = {t["target"]: t for t in before}
    lines = ["| target | goal | before | after | met after |", "|---|--:|--:|--:|---|"]
    for t in after:
        b = old.get(t["target"])
        was = f"{b['value']:.2f}" if b else "(not measured)"
        lines.append(
            f"| {t['target']} | {t['direction']} {t['goal']} | {was} | {t['value']:.2f} "
            f"| {'yes' if t['met'] else '**no**'} |"
        )
    return lines


def render(before: Row, after: Row, names: tuple[str, str]) -> str:
    return "\n".join([
        "# Before and after", "",
        f"Before: `{names[0]}`; after: `{names[1]}`. Same benchmark code, same machine (shared: "
        "the load1 columns say how busy it was); server CPU per request is the steadier figure.",
        "", "## Targets", "", *targets_table(before["targets"], after["targets"]), "",
        "## One image per request", "", *cells_table(before["cells"], after["cells"]), "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="write here (default: print)")
    args = parser.parse_args(argv)
    text = render(
        json.loads(args.before.read_text()),
        json.loads(args.after.read_text()),
        (str(args.before), str(args.after)),
    )
    if args.out is None:
        print(text)
    else:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
