"""Fixtures every suite shares: the repository's paths and a real uvicorn on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = ROOT / "models"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The committed model repository."""
    return MODELS_DIR


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """MNIST's four IDX files: NNSERVE_MNIST_DIR, else ../shared/mnist beside the project."""
    path = Path(os.environ.get("NNSERVE_MNIST_DIR", ROOT.parent / "shared" / "mnist"))
    if not any((path / f"t10k-images-idx3-ubyte{ext}").exists() for ext in (".gz", "")):
        pytest.fail(f"MNIST not found in {path}; set NNSERVE_MNIST_DIR")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s")


ServerFactory = Callable[..., str]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start `python -m service` on a free loopback port; returns its base URL. Env overrides
    are NNSERVE_ settings, e.g. start_server(NNSERVE_WORKERS="2")."""
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []

    def start(**env: str) -> str:
        port = free_port()
        full_env = {
            **os.environ,
            "NNSERVE_HOST": "127.0.0.1",
            "NNSERVE_PORT": str(port),
            "NNSERVE_MODELS_DIR": str(MODELS_DIR),
            **env,
        }
        log = open(tmp_path / f"server-{port}.log", "wb")  # noqa: SIM115 - closed with the process
        logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "service"],
            env=full_env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, proc)
        return url

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for log in logs:
        log.close()


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    """One real uvicorn serving the committed models, shared by a test module."""
    port = free_port()
    env = {
        **os.environ,
        "NNSERVE_HOST": "127.0.0.1",
        "NNSERVE_PORT": str(port),
        "NNSERVE_MODELS_DIR": str(MODELS_DIR),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "service"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
