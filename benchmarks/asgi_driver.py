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
Timings = dict[str, dict[str, float]]
"""measure -> contender -> value (see app_micros)."""


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


def fast_paths(app: Any) -> Any:
    """The app's outermost middleware that answers requests itself (UploadFastPath, with
    InferFastPath inside it), once the app has served a request (Starlette builds the stack
    then): driven directly, a request skips FastAPI's outer layers and the request context,
    limits and body limit, so their cost is the whole app minus this."""
    layer = app.middleware_stack
    while layer is not None and not type(layer).__name__.endswith("FastPath"):
        layer = getattr(layer, "app", None)
    return layer


async def _timed(app: Any, scope: Message, body: bytes, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        await one_request(app, scope, body)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _runs(app: Any) -> tuple[int, int]:
    """(batches run, of them on the event loop) of every model so far."""
    batchers = [mv.batcher for mv in app.state.registry.versions() if mv.batcher is not None]
    return sum(b.runs for b in batchers), sum(b.inline_runs for b in batchers)


async def _drive(app: Any, cells: dict[str, tuple[str, Payload]], repeats: int) -> Timings:
    out: Timings = {"whole": {}, "fast_paths": {}, "handed_off": {}}
    async with app.router.lifespan_context(app):
        for name, (path, payload) in cells.items():
            scope = request_scope(path, payload)
            if await one_request(app, scope, payload.body) != 200:
                for column in out.values():  # the route refused it: nothing meaningful to time
                    column[name] = float("nan")
                continue
            before = _runs(app)
            out["whole"][name] = await _timed(app, scope, payload.body, repeats)
            runs, inline = (now - then for now, then in zip(_runs(app), before, strict=True))
            out["handed_off"][name] = (runs - inline) / runs if runs else 0.0
            inner, inner_scope = fast_paths(app), {**scope, "app": app}  # as the outer ones set
            out["fast_paths"][name] = await _timed(inner, inner_scope, payload.body, repeats)
    return out


def app_micros(
    models_dir: Path, threads: Threads, cells: dict[str, tuple[str, Payload]], repeats: int = 500
) -> Timings:
    """Per contender: "whole", median microseconds per request of the whole app; "fast_paths",
    of the same requests driven from the fast paths inward; "handed_off", the share of the
    whole app's batches that ran in a worker thread (0: every one on the loop). Its JSON log
    lines go to /dev/null (written, so their cost counts, but not shown)."""
    settings = Settings(
        models_dir=models_dir,
        intra_op_num_threads=threads.intra_op,
        inter_op_num_threads=threads.inter_op,
    )
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        app = create_app(settings)
        return asyncio.run(_drive(app, cells, repeats))
