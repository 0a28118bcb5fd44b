"""Real `python -m service` processes on loopback, for every suite that needs a live server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = ROOT / "models"


@dataclass
class Service:
    """A started server: its base URL, its process and the file its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    grpc: str = ""
    """host:port of its gRPC server (NNSERVE_GRPC_PORT, a free port unless env says)."""

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(log: Path, **env: str) -> Service:
    """Start `python -m service` on a free loopback port; env holds NNSERVE_ overrides."""
    port = free_port()
    full_env = {
        **os.environ,
        "NNSERVE_HOST": "127.0.0.1",
        "NNSERVE_PORT": str(port),
        "NNSERVE_GRPC_PORT": str(free_port()),
        "NNSERVE_MODELS_DIR": str(MODELS_DIR),
        **env,
    }
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "service"],
            env=full_env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Service(
        f"http://127.0.0.1:{port}", process, log, f"127.0.0.1:{full_env['NNSERVE_GRPC_PORT']}"
    )


def wait_for(service: Service, path: str = "/v2/health/ready", timeout: float = 60.0) -> None:
    """Until GET path answers 200; fails early, with the server's log, if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"service exited early:\n{service.log_text()}")
        try:
            if httpx.get(f"{service.url}{path}", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{service.url}{path} not 200 after {timeout}s:\n{service.log_text()}")


def stop(service: Service, timeout: float = 40.0) -> None:
    """SIGTERM (uvicorn's graceful shutdown), then SIGKILL if it outlasts the timeout."""
    if service.process.poll() is None:
        service.process.send_signal(signal.SIGTERM)
    try:
        service.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait()


def children(parent: int, marker: bytes) -> set[int]:
    """The processes whose parent is `parent` and whose command line holds `marker`, from
    /proc (uvicorn's workers: b"spawn_main"; a worker's probe process: b"asgi.probes")."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):  # the process ended while we looked
            continue
        if ppid == parent and marker in cmdline:
            found.add(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """Neither gone nor a zombie waiting for a reaper."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
