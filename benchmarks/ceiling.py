"""Contender (e): the ceiling. A bare ASGI app under the same uvicorn that reads the whole
body and answers a fixed response; no server on this stack can beat it, so its latency is
what the HTTP stack alone costs a request. The same uvicorn means nnserve's loop and HTTP
protocol too (service/asgi/accept.py, service/asgi/wire.py: an answer in one write instead of
uvicorn's two), or nnserve would beat its own ceiling.

    python -m benchmarks.ceiling --port 8101
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from service.asgi.accept import GREEDY_ACCEPT_LOOP
from service.asgi.wire import ONE_WRITE_HTTP

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

FIXED_BODY = b'{"digit":7}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"11")]


async def app(scope: Message, receive: Receive, send: Send) -> None:
    """Read the request body to its end, then send the same small JSON every time."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": FIXED_BODY})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8101, help="loopback port (default 8101)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args(argv)
    uvicorn.run(
        "benchmarks.ceiling:app", host="127.0.0.1", port=args.port, workers=args.workers,
        log_level="warning", loop=GREEDY_ACCEPT_LOOP, http=ONE_WRITE_HTTP,
    )  # fmt: skip


if __name__ == "__main__":
    main()
