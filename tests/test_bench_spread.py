"""benchmarks.servers.connection_spread: how many connections each worker of a server holds,
read from real processes sharing one listening socket, as uvicorn's workers do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import psutil  # type: ignore[import-untyped]

from benchmarks.servers import connection_spread

# A supervisor binds the socket and starts two workers on it; worker i accepts TAKES[i]
# connections and holds them (the kernel gives each to whichever worker is in accept()).
SUPERVISOR = """
import socket, subprocess, sys
sock = socket.create_server(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
worker = (
    "import socket, sys, time; s = socket.socket(fileno=int(sys.argv[1])); "
    "held = [s.accept() for _ in range(int(sys.argv[2]))]; time.sleep(60)"
)
workers = [subprocess.Popen([sys.executable, "-c", worker, str(sock.fileno()), n],
                            pass_fds=[sock.fileno()]) for n in ("3", "1")]
for w in workers:
    w.wait()
"""


def test_each_workers_connections_are_counted_and_the_supervisor_left_out() -> None:
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR], stdout=subprocess.PIPE)
    clients: list[socket.socket] = []
    try:
        assert supervisor.stdout is not None
        port = int(supervisor.stdout.readline())
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        deadline = time.monotonic() + 20
        while connection_spread(supervisor.pid, port) != "3/1" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert connection_spread(supervisor.pid, port) == "3/1"
    finally:
        for client in clients:
            client.close()
        for worker in psutil.Process(supervisor.pid).children():
            worker.kill()
        supervisor.kill()
        supervisor.wait()
        if supervisor.stdout is not None:
            supervisor.stdout.close()


def test_a_single_process_server_is_its_own_worker() -> None:
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    accepted = [listening.accept()[0] for _ in clients]
    try:
        assert connection_spread(os.getpid(), port) == "2"
    finally:
        for s in [*clients, *accepted, listening]:
            s.close()
