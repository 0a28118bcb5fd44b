"""Health and metrics on their own port and process (NNSERVE_PROBE_PORT, Triton's 8002).

Under a flood of a thousand connections the event loop takes 0.1-0.5 s a turn, and a probe on
the main port waits behind every other request; a thread in the worker still waits for the
worker's GIL (60-214 ms at c=1000). So each worker binds the port (SO_REUSEPORT, as gRPC's) and
hands the listening socket to a small process of its own (`python -m service.asgi.probes`:
stdlib, orjson and service.metrics, no onnxruntime), which answers from a page of shared memory
the worker's loop writes every BEAT_SECONDS: its heartbeat and why it is not ready, if it is
not. "Live" still means the loop turns: a heartbeat older than STALE_SECONDS is 503, so a
wedged loop is reported dead here as it would be on the main port. /metrics adds up the
workers' metric files (service/metrics.py; a single worker writes one for it too). The process
dies with its worker: SIGTERM at the lifespan's end, the kernel's parent-death signal if the
worker is killed, and a watchdog on its parent's pid where there is no such signal.

    GET /v2/health/live   200 {"live": true} while the loop's heartbeat is fresh, else 503
    GET /v2/health/ready  200 {"ready": true} when every model version is ready, else 503
    GET /metrics          the same Prometheus text as the main port's /metrics
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import mmap
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from service.metrics import CONTENT_TYPE, Metrics, counts_directory, exposition, worker_snapshots

if TYPE_CHECKING:  # the probe process never imports the registry (nor onnxruntime)
    from service.runtime.registry import Registry

BEAT_SECONDS = 0.5
"""How often the event loop writes its heartbeat (and readiness)."""

STALE_SECONDS = 10.0
"""A heartbeat older than this means the loop is wedged, not merely busy (a flooded turn is
well under a second). Read when the probe process starts."""

PAGE_BYTES = 4096
_SEQUENCE = struct.Struct("<Q")  # odd while the worker writes (a seqlock: one writer)
_HEAD = struct.Struct("<dI")  # heartbeat (time.monotonic, one clock for every process), length
_TEXT = _SEQUENCE.size + _HEAD.size


class Page:
    """The shared page: the worker writes heartbeat and not-ready reason, the probe reads."""

    def __init__(self, fd: int) -> None:
        self.memory = mmap.mmap(fd, PAGE_BYTES)

    @classmethod
    def create(cls) -> tuple[Page, int]:
        """A new page in an unlinked file, and its descriptor (for the probe process)."""
        fd, path = tempfile.mkstemp(prefix="nnserve-probe-")
        os.unlink(path)
        os.ftruncate(fd, PAGE_BYTES)
        return cls(fd), fd

    def write(self, heartbeat: float, not_ready: str) -> None:
        text = not_ready.encode()[: PAGE_BYTES - _TEXT]
        (sequence,) = _SEQUENCE.unpack_from(self.memory, 0)
        _SEQUENCE.pack_into(self.memory, 0, sequence + 1)
        _HEAD.pack_into(self.memory, _SEQUENCE.size, heartbeat, len(text))
        self.memory[_TEXT : _TEXT + len(text)] = text
        _SEQUENCE.pack_into(self.memory, 0, sequence + 2)

    def read(self) -> tuple[float, str]:
        """(heartbeat, not-ready reason: "" when ready), never half of a write. A write that
        never ends (its writer stopped halfway) reads as a heartbeat that never came."""
        for _ in range(1000):  # a write takes microseconds; this waits up to about 0.1 s
            (before,) = _SEQUENCE.unpack_from(self.memory, 0)
            heartbeat, length = _HEAD.unpack_from(self.memory, _SEQUENCE.size)
            text = bytes(self.memory[_TEXT : _TEXT + length])
            (after,) = _SEQUENCE.unpack_from(self.memory, 0)
            if before == after and before % 2 == 0:
                return heartbeat, text.decode(errors="replace")
            time.sleep(0.0001)
        return float("-inf"), "the event loop stopped while writing its state"


async def beat(page: Page, registry: Registry) -> None:
    """The event loop's side: heartbeat and readiness, every BEAT_SECONDS."""
    while True:
        page.write(time.monotonic(), registry.not_ready_reason())
        await asyncio.sleep(BEAT_SECONDS)


Answer = tuple[int, str, bytes]


def answers(page: Page, metrics_dir: Path, stale_s: float) -> dict[str, Callable[[], Answer]]:
    """Each probe path's answer: (status, content type, body)."""
    json = "application/json"

    def live() -> Answer:
        if time.monotonic() - page.read()[0] < stale_s:
            return 200, json, orjson.dumps({"live": True})
        return 503, json, orjson.dumps({"error": f"the event loop has not turned in {stale_s} s"})

    def ready() -> Answer:
        waiting = page.read()[1]
        if not waiting:
            return 200, json, orjson.dumps({"ready": True})
        return 503, json, orjson.dumps({"error": f"not ready: {waiting}"})

    def scrape() -> Answer:
        # No wait for the latest counts (the main port's /metrics waits 40 ms): each worker's
        # file is at most metrics.FLUSH_SECONDS behind, nothing a scraper every 15 s can see,
        # and the wait was 40 of the 100 ms a scrape may take under a flood.
        parts = worker_snapshots(metrics_dir)
        if not parts:
            return 503, json, orjson.dumps({"error": "no worker has written its metrics yet"})
        return 200, CONTENT_TYPE, exposition(parts)

    return {"/v2/health/live": live, "/v2/health/ready": ready, "/metrics": scrape}


def handler_for(routes: dict[str, Callable[[], Answer]]) -> type[BaseHTTPRequestHandler]:
    class ProbeHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart
        timeout = 5.0  # a client that stalls mid-request is dropped

        def do_GET(self) -> None:
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                status, kind, body = 404, "application/json", b'{"error":"no such probe"}'
            else:
                status, kind, body = route()
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Probes every few seconds would drown the request log: not logged."""

    return ProbeHandler


class ProbeServer(ThreadingHTTPServer):
    """A thread per connection: a kept-alive scraper never holds up a probe."""

    daemon_threads = True


def listen(host: str, port: int) -> socket.socket:
    """The probe port, bound in the worker so that a port in use stops its start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # every worker binds it
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def spawn(listening: socket.socket, page_fd: int, metrics_dir: Path) -> subprocess.Popen[bytes]:
    """Start the probe process on the listening socket. The parent-death signal is tied to the
    spawning thread: this is the worker's event-loop thread, which lives as long as it."""
    root = str(Path(__file__).resolve().parents[2])  # service/'s parent, wherever we run from
    paths = [root, *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    args = [sys.executable, "-m", "service.asgi.probes", "--socket", str(listening.fileno())]
    args += ["--page", str(page_fd), "--metrics-dir", str(metrics_dir)]
    args += ["--parent", str(os.getpid()), "--stale", str(STALE_SECONDS)]
    return subprocess.Popen(args, pass_fds=(listening.fileno(), page_fd), env=env)


@contextlib.asynccontextmanager
async def probe_serving(
    host: str, port: int, registry: Registry, metrics: Metrics
) -> AsyncIterator[None]:
    """Serve the probes from their own process for the lifespan's duration; none when port is 0."""
    if port == 0:
        yield
        return
    own_dir = None
    if metrics.directory is None:  # one worker: it writes its counts for the probe process too
        own_dir = counts_directory()  # in RAM where there is one: flushes are cheaper
        metrics.share(own_dir)
    assert metrics.directory is not None
    metrics.flush()  # the probe's first scrape finds this worker's file
    page, page_fd = Page.create()
    page.write(time.monotonic(), registry.not_ready_reason())
    with listen(host, port) as listening:
        process = spawn(listening, page_fd, metrics.directory)
    os.close(page_fd)
    beating = asyncio.create_task(beat(page, registry))
    try:
        yield
    finally:
        beating.cancel()
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=2.0)
        process.kill()
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)


def die_with(parent: int) -> None:
    """End this process when its worker ends, however it ends."""
    with contextlib.suppress(OSError, AttributeError):  # Linux: the kernel's parent-death signal
        ctypes.CDLL(None, use_errno=True).prctl(1, 15, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGTERM

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    if os.getppid() != parent:  # it ended before the signal was set
        os._exit(0)
    threading.Thread(target=watch, name="watchdog", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    """The probe process: serve the probes on the socket the worker bound, until it ends."""
    parser = argparse.ArgumentParser(description="nnserve's probe process (one per worker)")
    for flag in ("--socket", "--page", "--parent"):
        parser.add_argument(flag, type=int, required=True)
    parser.add_argument("--metrics-dir", type=Path, required=True)
    parser.add_argument("--stale", type=float, default=STALE_SECONDS)
    args = parser.parse_args(argv)
    die_with(args.parent)
    routes = answers(Page(args.page), args.metrics_dir, args.stale)
    server = ProbeServer(("", 0), handler_for(routes), bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=args.socket)
    server.serve_forever()


if __name__ == "__main__":
    main()
