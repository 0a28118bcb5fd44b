"""Soak: mixed traffic (V2 JSON and binary, /predict, gradient steps, malformed requests) at
concurrency 32 for NNSERVE_SOAK_SECONDS (default 300): no 5xx, no connection errors, and
resident memory after the warm-up grows by less than 10%."""

from __future__ import annotations

import os
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


def test_soak_mixed_traffic(service: ServiceFactory) -> None:
    seconds = float(os.environ.get("NNSERVE_SOAK_SECONDS", "300"))
    svc = service()  # one worker: uvicorn serves in this very process, so its RSS is the service's
    warm = drive(svc.url, min(20.0, seconds / 5), CONCURRENCY)
    assert warm.problems == [], warm.problems[:5]
    settled = rss_bytes(svc.process.pid)
    tally = drive(svc.url, seconds, CONCURRENCY)
    grown = rss_bytes(svc.process.pid)
    assert tally.connection_errors == 0, tally.problems[:5]
    assert tally.count(lambda status: status >= 500) == 0, tally.problems[:5]
    assert tally.problems == [], tally.problems[:5]
    assert tally.total() > seconds, f"only {tally.total()} answers in {seconds}s"
    assert grown < settled * 1.10, f"RSS grew from {settled >> 20} MiB to {grown >> 20} MiB"
    print(
        f"soak: {tally.total()} answers in {seconds:.0f}s, RSS {settled >> 20}->{grown >> 20} MiB"
    )
