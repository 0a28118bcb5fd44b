"""Two workers share one listening socket: a burst of connections (wrk opens its 8 at once)
is shared evenly between them, not taken by whichever wakes first (asgi/accept.py with the
accept table of asgi/balance.py). Before, 8/0 was measured: one worker idle."""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from service.asgi.balance import TABLE_ENV
from tests.servers import children
from tests.slow.conftest import ServiceFactory

pytestmark = pytest.mark.slow

BURST = 8
REQUEST = b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\n\r\n"


def serving_workers(worker: int) -> int:
    """Workers with a slot in the supervisor's accept table, found in `worker`'s environment:
    serving (a worker joins it when its listener starts, after its lifespan loaded models)."""
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    table = next(e for e in environ if e.startswith(TABLE_ENV.encode() + b"=")).split(b"=", 1)[1]
    memory = Path(table.decode()).read_bytes()
    return sum(1 for pid, _ in struct.iter_unpack("<iI", memory) if pid != 0)


def held(pid: int, port: int) -> int:
    """Established connections on `port` that process `pid` holds."""
    return sum(
        1
        for conn in psutil.Process(pid).connections(kind="tcp")
        if conn.status == psutil.CONN_ESTABLISHED and conn.laddr and conn.laddr.port == port
    )


@pytest.mark.parametrize("round_", range(3))
def test_a_burst_of_connections_is_shared_evenly(service: ServiceFactory, round_: int) -> None:
    svc = service(NNSERVE_WORKERS="2")
    port = int(svc.url.rsplit(":", 1)[1])
    workers = sorted(children(svc.process.pid, b"spawn_main"))
    assert len(workers) == 2
    deadline = time.monotonic() + 90  # ready answers once one worker serves; wait for both
    while serving_workers(workers[0]) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    burst = [socket.create_connection(("127.0.0.1", port)) for _ in range(BURST)]
    try:
        for conn in burst:  # each answered: each accepted by some worker
            conn.sendall(REQUEST)
        for conn in burst:
            conn.settimeout(10)
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(0.05)
        spread = sorted(held(pid, port) for pid in workers)
        assert spread == [BURST // 2, BURST // 2], f"round {round_}: {spread}"
    finally:
        for conn in burst:
            conn.close()
