"""onnxruntime session options, measured: threads, spinning and graph optimization level, for
mnist-mlp at batch sizes 1 and 64, in this process (no HTTP). The service's defaults in
service/config.py were chosen from this table.

    python -m benchmarks.session_options [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from benchmarks import payloads

ROOT = Path(__file__).resolve().parents[1]
LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


@dataclass(frozen=True)
class Options:
    intra_op: int
    spinning: bool
    level: str

    def session(self, model: Path) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.intra_op
        options.inter_op_num_threads = 1
        options.graph_optimization_level = LEVELS[self.level]
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if self.spinning else "0"
        )
        return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def timed(session: ort.InferenceSession, x: np.ndarray, seconds: float) -> tuple[float, float]:
    """(microseconds of wall time per run, CPU microseconds per run across all threads)."""
    feeds = {session.get_inputs()[0].name: x}
    for _ in range(20):
        session.run(None, feeds)
    runs, wall, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        session.run(None, feeds)
        runs += 1
    return (time.perf_counter() - wall) / runs * 1e6, (time.process_time() - cpu) / runs * 1e6


def grid() -> list[Options]:
    threads = [Options(n, spin, "all") for n in (1, 2) for spin in (False, True)]
    levels = [Options(1, False, level) for level in ("disable", "basic", "extended")]
    return threads + levels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per cell (default 1.0)")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    args = parser.parse_args(argv)
    model = args.models_dir / "mnist-mlp" / "1" / "model.onnx"
    digit = payloads.digit_28x28()
    print(f"load average {os.getloadavg()[0]:.2f}; microseconds per session.run (wall / CPU)")
    print("| intra_op | spinning | optimization | N=1 wall | N=1 CPU | N=64 wall | N=64 CPU |")
    print("|--:|---|---|--:|--:|--:|--:|")
    for options in grid():
        session = options.session(model)
        cells = [timed(session, payloads.normalized(digit, n), args.seconds) for n in (1, 64)]
        figures = " | ".join(f"{wall:.0f} | {cpu:.0f}" for wall, cpu in cells)
        spin = "on" if options.spinning else "off"
        print(f"| {options.intra_op} | {spin} | {options.level} | {figures} |")


if __name__ == "__main__":
    main()
