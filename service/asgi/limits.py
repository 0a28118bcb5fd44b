"""What clients may hold of one worker: a body must keep arriving (408 after a read timeout),
past a cap on requests in flight new ones are answered 503 at once instead of piling up, and
past a lower cap on inference requests in flight a new one is refused before its body is read.

All answer before any model work, so a slow or stalled client costs a connection for at
most the read timeout, and a flood costs the loop one short answer per request. Health and
metrics are never capped: a liveness probe must not fail because the service is busy.

Why the inference cap sits here and not only in the model's queue: under a flood the time a
request waits is set by the event loop, not the model. Each loop turn serves every ready
connection, one batch of at most batch_max_size rows runs per turn, so a request that joins a
queue of q waits about q / batch_max_size turns, each as long as all the other connections'
work. Measured (wrk, 1,000 connections, one worker, 2 cores) with only the model queue bound
(256): refusing a request after its body was read and decoded cost as much as serving it
(370 us of CPU per request, 90% of them refused), a turn lasted 0.3-0.5 s and admitted
requests waited 5.6 s. Refused at the edge, before the body is read, a refusal costs a
fraction of that and at most `limit` requests share the queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
import types
from collections.abc import Generator
from typing import Any, cast

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.asgi.responses import error_response

log = logging.getLogger("service.requests")

RETRY_AFTER = "1"
"""Seconds a shed client is told to wait: one batch queue drains in well under that."""

UNCAPPED = ("/v2/health/", "/metrics", "/healthz")
"""Path prefixes the cap never refuses: probes and scrapes."""

INFERENCE = ("/infer", "/predict", ":predict")
"""Path endings of the inference endpoints (V2 infer, /predict, v1 predict): POSTs to them are
what InferAdmission counts."""

REFUSED = "nnserve.refused"
"""Scope key set on a request ConnectionCap or InferAdmission answered 503, to the seconds its
connection is then left unread (service.asgi.wire; 0: not held): the request log counts it
(RefusalLog) instead of writing its line."""

REFUSAL_LOG_SECONDS = 1.0
"""At most one log line of refusals this often, with how many there were since the last."""


class RefusalLog:
    """Refusals under a flood, logged as counts: writing each one's line was 17% of a flooded
    worker's samples. The first is logged at once, then at most one line per
    REFUSAL_LOG_SECONDS: the latest refusal's fields and `refused`, how many since the last
    line. Every refused answer still carries its own request id (x-request-id)."""

    def __init__(self) -> None:
        self.count = 0
        self.logged_at = float("-inf")

    def note(self, fields: dict[str, Any]) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.logged_at >= REFUSAL_LOG_SECONDS:
            log.warning("requests refused", extra={"fields": {**fields, "refused": self.count}})
            self.count, self.logged_at = 0, now


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
    """`receive`, failing with BodyReadTimeout when a message takes longer than `seconds`.
    A message that is there already (a small body arrives with its headers) is returned
    without arming a timer: asyncio.timeout per receive cost 12.6 us against 0.7 for this
    first step (uvloop, alternated loops, load1 ~5), 4% of a loaded worker's samples."""

    async def timed() -> Message:
        waiting: Any = receive()
        try:
            if not isinstance(waiting, types.CoroutineType):  # some other awaitable
                async with asyncio.timeout(seconds):
                    return cast(Message, await waiting)
            try:
                first = waiting.send(None)
            except StopIteration as answered:  # it did not have to wait
                return cast(Message, answered.value)
            async with asyncio.timeout(seconds):
                return cast(Message, await _resumed(waiting, first))
        except TimeoutError:
            raise BodyReadTimeout(seconds) from None

    return timed


@types.coroutine
def _resumed(waiting: Any, first: Any) -> Generator[Any, Any, Any]:
    """Await a coroutine that has already been stepped once and yielded `first`: what it
    yields goes to the task, what the task sends or throws (a cancellation) goes back in."""
    pending = first
    while True:
        try:
            sent = yield pending
        except BaseException as exc:  # the task's CancelledError, or a close: pass it in
            try:
                pending = waiting.throw(exc)
            except StopIteration as done:
                return done.value
        else:
            try:
                pending = waiting.send(sent)
            except StopIteration as done:
                return done.value


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
            scope[REFUSED] = 0.0  # the connection closes: nothing to hold
            await error_response(503, message, headers=headers)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class InferAdmission:
    """Pure ASGI: at most `limit` inference requests in flight in this worker, counted from the
    moment their headers arrive; past it a new one is answered 503 with Retry-After before its
    body is read or decoded. The connection stays open (the unread body is discarded by the
    HTTP parser), so a refused client's retry costs no new connection.

    That connection is then left unread for `hold_s` (at most the Retry-After it was told):
    a client that retries at once, as wrk's closed loop does, would otherwise be read and
    refused again every loop turn, and under a flood those refusals were the turn. Measured
    (wrk, 1,000 connections, one worker, 2 cores, load1 0.4): 98% of answers were refusals,
    admitted requests got 205 answers/s and waited 250-500 ms, a turn lasted about 100 ms."""

    def __init__(self, app: ASGIApp, limit: int, hold_s: float = 0.0) -> None:
        self.app = app
        self.limit = limit
        self.hold_s = hold_s
        self.in_flight = 0
        self.refused = 0
        """Requests answered 503 here since start."""
        message = f"the server has {limit} inference requests in flight, its limit: retry later"
        # built once: under a flood this answer is most of what the worker sends
        self.refusal = error_response(503, message, headers={"retry-after": RETRY_AFTER})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].endswith(INFERENCE)
        ):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self.refused += 1
            scope[REFUSED] = self.hold_s
            await self.refusal(scope, receive, send)
            return
        self.in_flight += 1
        held = True

        async def send_then_free(message: Message) -> None:
            # The place is given back as the answer's last byte goes out, not when the app
            # returns: a client's next request can arrive before the middleware has unwound.
            nonlocal held
            if held and message["type"] == "http.response.body" and not message.get("more_body"):
                held = False
                self.in_flight -= 1
            await send(message)

        try:
            await self.app(scope, receive, send_then_free)
        finally:
            if held:
                self.in_flight -= 1
