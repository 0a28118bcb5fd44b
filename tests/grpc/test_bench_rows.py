"""The benchmark's gRPC rows: which cells a run measures, how they are summed (against the gRPC
ceiling, never the HTTP one), and where they are written (results.md's gRPC table, README)."""

from __future__ import annotations

from typing import Any

from benchmarks import markdown, payloads, plan, readme, report

GRPC_NAMES = {"v2-grpc", "kserve-grpc", "mlserver-grpc", "ceiling-grpc"}


def test_cells_of_each_transport() -> None:
    digit = payloads.digit_28x28()
    both = plan.cells(digit, 1, scaling=False)
    grpc = plan.cells(digit, 1, scaling=False, transports=("grpc",))
    assert {c.contender for c in grpc} == GRPC_NAMES
    assert len(grpc) == len(GRPC_NAMES) * len(plan.CONCURRENCY)
    assert all(c.transport == "grpc" and c.path == plan.GRPC_MODEL_INFER for c in grpc)
    assert {c.server for c in grpc} <= set(plan.SERVERS)
    assert {c.key for c in grpc} <= {c.key for c in both}
    assert not any(c.transport == "grpc" for c in plan.cells(digit, 1, False, ("http",)))


def row(contender: str, rps: float, cpu: float, transport: str = "grpc") -> dict[str, Any]:
    return {
        "round": 0, "key": f"{contender}|w=1|c=8|n=1", "contender": contender, "workers": 1,
        "connections": 8, "images": 1, "rps": rps, "images_per_s": rps, "p50_ms": 1.0,
        "p99_ms": 2.0, "errors": 0, "load1": 1.0, "cpu_us": cpu, "transport": transport,
        "driver_cpu_us": 200.0 if transport == "grpc" else None,
    }  # fmt: skip


def test_grpc_cells_are_taken_against_the_grpc_ceiling() -> None:
    rounds = [
        row("v2-grpc", 1000, 700),
        row("ceiling-grpc", 2000, 300),
        row("ceiling", 8000, 60, "http"),
        row("naive", 500, 900, "http"),
    ]
    args = {"rounds": 1, "seconds": 2, "warmup": 1, "workers": "1", "intra_op": 1, "inter_op": 1}
    results = report.summarize_grpc(rounds, args, 9.0)
    cells = {c["contender"]: c for c in results["cells"]}
    assert cells["v2-grpc"]["of_ceiling"] == 0.5  # 1000 / 2000, not 1000 / 8000
    assert cells["v2-grpc"]["x_naive"] == 2.0
    assert cells["v2-grpc"]["driver_cpu_us"] == 200.0 and cells["naive"]["driver_cpu_us"] is None
    text = markdown.render_grpc(results)
    assert "| v2-grpc | 1 | 8 | 1000 |" in text and "| 50.00% | 700 | 200 |" in text
    assert "| naive |" not in text  # HTTP rows stay in the HTTP table
    assert "grpc_load.py" in text  # says what drives the load


def test_readme_names_every_grpc_contender_and_the_driver() -> None:
    assert set(readme.NAMES) >= GRPC_NAMES
    assert "benchmarks/grpc_load.py" in readme.INTRO
