"""Slow-suite fixtures: a real `python -m service` whose process the test can signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Service:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_live(service: Service, timeout: float = 90.0) -> None:
    """Until GET /v2/health/live answers 200 (ready or not: fault tests start broken models)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"service exited early:\n{service.log_text()}")
        try:
            if httpx.get(f"{service.url}/v2/health/live", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{service.url} not live after {timeout}s:\n{service.log_text()}")


ServiceFactory = Callable[..., Service]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServiceFactory]:
    """start(**NNSERVE_env) -> Service on a free loopback port; stopped after the test."""
    started: list[Service] = []

    def start(**env: str) -> Service:
        port = free_port()
        full_env = {
            **os.environ,
            "NNSERVE_HOST": "127.0.0.1",
            "NNSERVE_PORT": str(port),
            "NNSERVE_MODELS_DIR": str(ROOT / "models"),
            **env,
        }
        log = tmp_path / f"service-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "service"], env=full_env, cwd=ROOT, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        started.append(Service(f"http://127.0.0.1:{port}", process, log))
        wait_live(started[-1])
        return started[-1]

    yield start
    for svc in started:
        if svc.process.poll() is None:
            svc.process.send_signal(signal.SIGTERM)
        try:
            svc.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            svc.process.kill()
            svc.process.wait()
