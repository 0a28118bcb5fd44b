"""onnxruntime's own images/s, in this process, with the contenders' thread settings: the
physical limit the scaling run is compared with."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from benchmarks.servers import Threads


def session(model: Path, threads: Threads) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads.intra_op
    options.inter_op_num_threads = threads.inter_op
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def images_per_second(sess: ort.InferenceSession, x: np.ndarray, seconds: float) -> float:
    """Run `x` (float32 [n, 784]) back to back for `seconds` after a short warm-up."""
    feeds = {sess.get_inputs()[0].name: x}
    for _ in range(5):
        sess.run(None, feeds)
    runs, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        sess.run(None, feeds)
        runs += 1
    return runs * x.shape[0] / elapsed
