"""What one client may hold: a body must keep arriving (408 after a read timeout), and past
a cap on requests in flight new ones are answered 503 at once instead of piling up.

Both answer before any model work, so a slow or stalled client costs a connection for at
most the read timeout, and a flood costs the loop one short answer per request. Health and
metrics are never capped: a liveness probe must not fail because the service is busy.
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.asgi.responses import error_response

RETRY_AFTER = "1"
"""Seconds a shed client is told to wait: one batch queue drains in well under that."""

UNCAPPED = ("/v2/health/", "/metrics", "/healthz")
"""Path prefixes the cap never refuses: probes and scrapes."""


class BodyReadTimeout(HTTPException):
    """Raised from `receive` when the next part of a body does not arrive in time: 408, and
    the connection is closed (the rest of the body will not be read)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"the request body stopped arriving: nothing for {seconds:g} s",
            headers={"connection": "close"},
        )


def receive_within(receive: Receive, seconds: float) -> Receive:
    """`receive`, failing with BodyReadTimeout when a message takes longer than `seconds`."""

    async def timed() -> Message:
        try:
            async with asyncio.timeout(seconds):
                return await receive()
        except TimeoutError:
            raise BodyReadTimeout(seconds) from None

    return timed


class ConnectionCap:
    """Pure ASGI: at most `limit` HTTP requests in flight in this worker; past it, 503 with
    Retry-After and no work done. Each HTTP/1.1 connection carries one request at a time, so
    this caps the connections that hold a request open (a stalled upload included); idle
    keep-alive connections cost nothing and are closed by uvicorn's keep-alive timeout."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNCAPPED):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            message = f"the server has {self.limit} requests in flight, its limit: retry later"
            headers = {"retry-after": RETRY_AFTER, "connection": "close"}
            await error_response(503, message, headers=headers)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
