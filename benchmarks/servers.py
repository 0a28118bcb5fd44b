"""Start the contenders as real processes on free loopback ports, and stop them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Threads:
    """onnxruntime thread settings, identical for every contender."""

    intra_op: int = 1
    inter_op: int = 1


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a server: its process and its children (uvicorn's workers),
    read from /proc (Linux); 0.0 where /proc is not there."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended while we looked
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(server: Server, probe: str, timeout: float = 90.0) -> None:
    """Poll `probe` until it answers 200; fail early when the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}")
        try:
            if httpx.get(server.url + probe, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{server.name} not up after {timeout:.0f}s")


def start(name: str, argv: Sequence[str], probe: str, env: dict[str, str], port: int) -> Server:
    process = subprocess.Popen(
        [sys.executable, *argv],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(name, f"http://127.0.0.1:{port}", process)
    try:
        wait_until_up(server, probe)
    except Exception:
        stop(server)
        raise
    return server


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def naive(model: Path, threads: Threads) -> Server:
    port = free_port()
    argv = ["-m", "benchmarks.naive_server", "--model", str(model), "--port", str(port)]
    argv += ["--intra-op", str(threads.intra_op), "--inter-op", str(threads.inter_op)]
    return start("naive", argv, "/health", {}, port)


def ceiling() -> Server:
    port = free_port()
    return start("ceiling", ["-m", "benchmarks.ceiling", "--port", str(port)], "/", {}, port)


def nnserve(name: str, models_dir: Path, threads: Threads, **settings: str) -> Server:
    """`python -m service` with NNSERVE_ settings (e.g. batch_max_wait_us="0")."""
    port = free_port()
    env = {
        "NNSERVE_HOST": "127.0.0.1",
        "NNSERVE_PORT": str(port),
        "NNSERVE_MODELS_DIR": str(models_dir),
        "NNSERVE_INTRA_OP_NUM_THREADS": str(threads.intra_op),
        "NNSERVE_INTER_OP_NUM_THREADS": str(threads.inter_op),
        **{f"NNSERVE_{key.upper()}": value for key, value in settings.items()},
    }
    return start(name, ["-m", "service"], "/v2/health/ready", env, port)


@contextmanager
def running(servers: list[Server]) -> Iterator[list[Server]]:
    """Stop every server on the way out, also when the benchmark fails."""
    try:
        yield servers
    finally:
        for server in servers:
            stop(server)
