"""Soak: mixed traffic (V2 JSON and binary, /predict, gradient steps, malformed requests) at
concurrency 32 for NNSERVE_SOAK_SECONDS (default 300): no 5xx, no connection errors, and
resident memory after the warm-up grows by less than 10%.

RSS moves by +-15 MiB from one second to the next as worker threads come and go (each with its
stack and malloc arena), so growth is judged on the peaks: the highest RSS sampled in the
first fifth of the soak against the highest in the last fifth. A leak raises the second; the
sway does not fail the test."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tests.slow.conftest import ServiceFactory
from tests.slow.traffic import drive

pytestmark = pytest.mark.slow

CONCURRENCY = 32


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (VmRSS, Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def sample_rss(pid: int, seconds: float, every: float = 1.0) -> list[int]:
    """RSS every `every` seconds for `seconds`, from a thread, while the soak runs."""
    samples: list[int] = []

    def sample() -> None:
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            samples.append(rss_bytes(pid))
            time.sleep(every)

    threading.Thread(target=sample, daemon=True).start()
    return samples  # filled while the caller drives traffic for the same seconds


def test_soak_mixed_traffic(service: ServiceFactory) -> None:
    seconds = float(os.environ.get("NNSERVE_SOAK_SECONDS", "300"))
    svc = service()  # one worker: uvicorn serves in this very process, so its RSS is the service's
    warm = drive(svc.url, min(20.0, seconds / 5), CONCURRENCY)
    assert warm.problems == [], warm.problems[:5]
    samples = sample_rss(svc.process.pid, seconds)
    tally = drive(svc.url, seconds, CONCURRENCY)
    assert tally.connection_errors == 0, tally.problems[:5]
    assert tally.count(lambda status: status >= 500) == 0, tally.problems[:5]
    assert tally.problems == [], tally.problems[:5]
    assert tally.total() > seconds, f"only {tally.total()} answers in {seconds}s"
    fifth = max(1, len(samples) // 5)
    settled, final = max(samples[:fifth]), max(samples[-fifth:])
    assert final < settled * 1.10, f"RSS peaks grew from {settled >> 20} MiB to {final >> 20} MiB"
    peaks = f"{settled >> 20}->{final >> 20} MiB"
    print(f"soak: {tally.total()} answers in {seconds:.0f}s, RSS peaks {peaks}")
