"""Health and metrics on their own port and thread (NNSERVE_PROBE_PORT, Triton's 8002).

Under a flood of a thousand connections the event loop takes 0.1-0.5 s a turn, and a probe on
the main port waits behind every other request: long enough for a kubelet to kill a pod that is
only busy. This listener runs in a thread, so a probe waits for the GIL (milliseconds), never for
the loop. "Live" still means the loop turns: a heartbeat the loop writes must be recent, so a
wedged loop is reported dead here as it would be on the main port.

    GET /v2/health/live   200 {"live": true} while the loop's heartbeat is fresh, else 503
    GET /v2/health/ready  200 {"ready": true} when every model version is ready, else 503
    GET /metrics          the same Prometheus text as the main port's /metrics
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from service.metrics import CONTENT_TYPE, Metrics
from service.runtime.registry import Registry

BEAT_SECONDS = 0.5
"""How often the event loop writes its heartbeat."""

STALE_SECONDS = 10.0
"""A heartbeat older than this means the loop is wedged, not merely busy (a flooded turn is
well under a second)."""

SETTLE_SECONDS = 0.04
"""Several workers: how long a scrape waits for each worker's latest counts (as /metrics does)."""


class Heartbeat:
    """When the event loop last ran a callback; written by the loop, read by the probe thread."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    async def beat(self) -> None:
        while True:
            self.last = time.monotonic()
            await asyncio.sleep(BEAT_SECONDS)

    def fresh(self) -> bool:
        return time.monotonic() - self.last < STALE_SECONDS


Answer = tuple[int, str, bytes]


def answers(
    registry: Registry, metrics: Metrics, heartbeat: Heartbeat
) -> dict[str, Callable[[], Answer]]:
    """Each probe path's answer: (status, content type, body)."""
    json = "application/json"

    def live() -> Answer:
        if heartbeat.fresh():
            return 200, json, orjson.dumps({"live": True})
        return 503, json, orjson.dumps({"error": "the event loop has not turned in 10 s"})

    def ready() -> Answer:
        waiting = registry.not_ready()
        if not waiting:
            return 200, json, orjson.dumps({"ready": True})
        names = ", ".join(f"{mv.name} version {mv.version} ({mv.reason})" for mv in waiting)
        return 503, json, orjson.dumps({"error": f"not ready: {names}"})

    def scrape() -> Answer:
        if metrics.directory is not None:
            time.sleep(SETTLE_SECONDS)
        return 200, CONTENT_TYPE, metrics.render()

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

    allow_reuse_port = True  # every worker binds the port, as gRPC's does
    daemon_threads = True


@contextlib.asynccontextmanager
async def probe_serving(
    host: str, port: int, registry: Registry, metrics: Metrics
) -> AsyncIterator[None]:
    """Serve the probes for the lifespan's duration; nothing when port is 0."""
    if port == 0:
        yield
        return
    heartbeat = Heartbeat()
    beating = asyncio.create_task(heartbeat.beat())
    server = ProbeServer((host, port), handler_for(answers(registry, metrics, heartbeat)))
    thread = threading.Thread(target=server.serve_forever, name="probes", daemon=True)
    thread.start()
    try:
        yield
    finally:
        beating.cancel()
        server.shutdown()
        server.server_close()
