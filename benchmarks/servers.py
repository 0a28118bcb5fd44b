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
import psutil  # type: ignore[import-untyped]

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
    grpc: str = ""
    """host:port of its gRPC port, where it serves one (benchmarks/grpc_load.py drives it)."""
    probe: str = ""
    """Base URL of its probe port (nnserve's NNSERVE_PROBE_PORT), where it serves one."""


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process, from /proc."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            out[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # the process ended while we looked
            continue
    return out


def tree(pid: int) -> list[int]:
    """`pid` and every process below it (uvicorn's workers, MLServer's inference pool)."""
    parents = _parents()
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a server's whole process tree, read from /proc (Linux);
    0.0 where /proc is not there."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for process in tree(pid):
        try:
            fields = (Path("/proc") / str(process) / "stat").read_text().rsplit(")", 1)[1]
        except OSError:
            continue
        utime, stime = fields.split()[11:13]
        total += int(utime) + int(stime)
    return total / tick


def connection_spread(pid: int, port: int) -> str:
    """Established connections on `port` that each worker of the server below `pid` holds,
    most first: "4/4", or "8/0" when one worker got them all and sits idle (how the kernel and
    each server's accept share a burst among workers sharing one socket). A worker is a
    process listening on `port`; the supervisor above them, which listens too, is left out."""
    held: dict[int, int] = {}
    for process in tree(pid):
        try:
            sockets = psutil.Process(process).connections(kind="tcp")
        except psutil.Error:  # ended while we looked, or not ours to see
            continue
        mine = [c for c in sockets if c.laddr and c.laddr.port == port]
        if any(c.status == psutil.CONN_LISTEN for c in mine):
            held[process] = sum(c.status == psutil.CONN_ESTABLISHED for c in mine)
    if len(held) > 1:
        held.pop(pid, None)
    return "/".join(str(n) for n in sorted(held.values(), reverse=True))


def settle(pid: int, window: float = 0.1, busy: float = 0.1, limit: float = 3.0) -> float:
    """Wait until the server is idle (under `busy` of a core over `window` s, at most `limit`
    s); the seconds waited. The previous cell's abandoned requests still run after its client
    leaves, and would hold the in-flight places the next cell's connections need."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        before = cpu_seconds(pid)
        time.sleep(window)
        if cpu_seconds(pid) - before < busy * window:
            break
    return time.monotonic() - start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(server: Server, probe: str, timeout: float = 300.0) -> None:
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


def start(
    name: str,
    argv: Sequence[str],
    probe: str,
    env: dict[str, str],
    port: int,
    executable: str = sys.executable,
    cwd: Path = ROOT,
) -> Server:
    """Run `executable argv` (this Python by default) and wait until `probe` answers 200."""
    server = launch(name, argv, env, port, executable, cwd)
    try:
        wait_until_up(server, probe)
    except Exception:
        stop(server)
        raise
    return server


def launch(
    name: str,
    argv: Sequence[str],
    env: dict[str, str],
    port: int,
    executable: str = sys.executable,
    cwd: Path = ROOT,
) -> Server:
    """Run `executable argv` in `cwd` (the repository by default), output discarded; no
    waiting."""
    process = subprocess.Popen(
        [executable, *argv],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Server(name, f"http://127.0.0.1:{port}", process)


def stop(server: Server) -> None:
    """SIGTERM, so the server stops its own workers; SIGKILL after 20 s."""
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@contextmanager
def running(servers: list[Server]) -> Iterator[list[Server]]:
    """Stop every server on the way out, also when the benchmark fails."""
    try:
        yield servers
    finally:
        for server in servers:
            stop(server)
