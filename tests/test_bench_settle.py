"""benchmarks.servers.settle: the wait between benchmark cells (on real processes), and between
each driver's warm-up and its measured run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import grpc
import numpy as np
import pytest

from benchmarks import grpc_load, payloads, wrk
from benchmarks.servers import settle


def test_an_idle_process_settles_at_once() -> None:
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert settle(idle.pid) < 1.0
    finally:
        idle.kill()
        idle.wait()


def test_a_busy_process_is_waited_for_up_to_the_limit() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert settle(busy.pid, limit=0.5) >= 0.5
    finally:
        busy.kill()
        busy.wait()


def test_wrk_waits_for_the_server_between_warm_up_and_measurement(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """wrk leaves the warm-up's last requests running on the server: the measured run must
    start only once the server is idle, or they hold the places its connections need."""
    steps: list[str] = []

    def run(url: str, body: Path, payload: object, connections: int, seconds: float) -> object:
        steps.append(f"wrk {seconds}")
        return wrk.Measurement(10, seconds, 0, 1.0, 2.0, load1=0.0)

    monkeypatch.setattr(wrk, "run", run)
    monkeypatch.setattr(wrk, "settle", lambda pid: steps.append(f"settle {pid}") or 0.0)
    payload = payloads.v2_json(np.zeros((1, 784), np.float32))
    wrk.measure("http://127.0.0.1:1/", tmp_path / "b", payload, 8, 1.0, 2.0, os.getpid())
    assert steps == ["wrk 1.0", f"settle {os.getpid()}", "wrk 2.0"]
    steps.clear()
    wrk.measure("http://127.0.0.1:1/", tmp_path / "b", payload, 8, 0.0, 2.0, os.getpid())
    assert steps == ["wrk 2.0"]  # no warm-up, nothing to wait for


def test_the_grpc_driver_waits_for_the_server_after_its_warm_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[str] = []

    async def one_round(calls: list[object], body: bytes, seconds: float) -> object:
        steps.append(f"round {seconds}")
        return [0.001] * 4, Counter()

    monkeypatch.setattr(grpc_load, "_round", one_round)
    monkeypatch.setattr(grpc_load, "settle", lambda pid: steps.append(f"settle {pid}") or 0.0)

    async def drive(warmup: float) -> None:
        server = grpc.aio.server()  # no services: the driver only needs its channels ready
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            await grpc_load.drive(f"127.0.0.1:{port}", b"", 2, warmup, 2.0, os.getpid())
        finally:
            await server.stop(None)

    asyncio.run(drive(1.0))
    assert steps == ["round 1.0", f"settle {os.getpid()}", "round 2.0"]
