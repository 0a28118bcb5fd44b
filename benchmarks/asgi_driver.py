"""nnserve's whole app driven in this process, request after request, with no socket and no
server: what the application itself costs a request (routing, middleware, logs, metrics,
decoding, the run, encoding), to set beside the stages timed one by one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.payloads import Payload
from benchmarks.servers import Threads
from service.app import create_app
from service.config import Settings

Message = dict[str, Any]


def request_scope(path: str, payload: Payload) -> Message:
    """The ASGI scope of a POST of `payload` to `path` (its query after "?")."""
    route, _, query = path.partition("?")
    headers = [
        (b"content-type", payload.content_type.encode()),
        (b"content-length", str(len(payload.body)).encode()),
    ]
    if payload.header:
        headers.append((payload.header[0].lower().encode(), payload.header[1].encode()))
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": route, "raw_path": route.encode(), "root_path": "",
        "query_string": query.encode(), "headers": headers, "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }  # fmt: skip


async def one_request(app: Any, scope: Message, body: bytes) -> int:
    """One request through the ASGI app; its status code."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(scope), receive, send)
    return status


async def _drive(app: Any, cells: dict[str, tuple[str, Payload]], repeats: int) -> dict[str, float]:
    out: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        for name, (path, payload) in cells.items():
            scope = request_scope(path, payload)
            if await one_request(app, scope, payload.body) != 200:
                out[name] = float("nan")  # the route refused it: nothing meaningful to time
                continue
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                await one_request(app, scope, payload.body)
                times.append(time.perf_counter() - start)
            out[name] = statistics.median(times) * 1e6
    return out


def app_micros(
    models_dir: Path, threads: Threads, cells: dict[str, tuple[str, Payload]], repeats: int = 500
) -> dict[str, float]:
    """Median microseconds per request of the whole app, per contender; its JSON log lines go
    to /dev/null (written, so their cost counts, but not shown)."""
    settings = Settings(
        models_dir=models_dir,
        intra_op_num_threads=threads.intra_op,
        inter_op_num_threads=threads.inter_op,
    )
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        app = create_app(settings)
        return asyncio.run(_drive(app, cells, repeats))
