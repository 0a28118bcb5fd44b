"""Pure ASGI middleware: request context (id, log line, metrics, last-resort 500) and the
streaming body-size limit. Pure ASGI rather than BaseHTTPMiddleware: no extra task per
request and the body streams through untouched.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import secrets
import time
from typing import Any

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.asgi.limits import REFUSED, BodyReadTimeout, RefusalLog, receive_within
from service.asgi.responses import error_response
from service.logs import request_id_var
from service.metrics import Metrics

log = logging.getLogger("service.requests")

REQUEST_ID = "x-request-id"
CLIENT_CLOSED = 499
"""Status logged (never sent) when the client disconnected before its body arrived (nginx's)."""
_ID_KEY = REQUEST_ID.encode()
_MAX_ID_LENGTH = 128
SAMPLED = ("/infer", "/predict", ":predict")
"""Route templates ending so are inference: their successes are logged only as sampled."""


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the limit; the app answers it as a 413, and
    the connection is closed (the rest of the body will not be read), on every path."""

    def __init__(self, limit: int) -> None:
        message = f"request body is larger than the limit of {limit} bytes"
        super().__init__(413, message, headers={"connection": "close"})


class BodyLimitMiddleware:
    """Count body bytes as they arrive; past `max_bytes` the request is answered 413.

    A Content-Length over the limit is refused before reading, but one under it is not
    trusted: the count of bytes actually received is what is enforced.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, read_timeout_s: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout_s = read_timeout_s
        """Seconds the next part of a body may take to arrive (408 past it); None: forever."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        received = 0
        started = False
        timed = (
            receive if self.read_timeout_s is None else receive_within(receive, self.read_timeout_s)
        )

        async def counting_receive() -> Message:
            nonlocal received
            message = await timed()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyReadTimeout as error:  # raised where no exception handler could answer it
            if started:
                raise
            await error_response(408, error.detail, headers=error.headers)(scope, receive, send)
        except BodyTooLarge:
            if started:
                raise
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = BodyTooLarge(self.max_bytes)
        await error_response(413, error.detail, headers=error.headers)(scope, receive, send)


class RequestContextMiddleware:
    """Request id in and out, one JSON log line and the metrics per request, and a JSON 500
    for any exception nothing else answered (logged with its traceback, never sent)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log_success_sample: float = 1.0) -> None:
        self.app = app
        self.metrics = metrics
        self.log_success_sample = log_success_sample
        """Fraction of successful inference requests logged; every other one always is, but
        refusals under overload, which are counted (asgi/limits.RefusalLog)."""
        self.refusals = RefusalLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _given_id(scope) or request_ids.next()
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                message["headers"] = [*message.get("headers", ()), (_ID_KEY, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:  # the client left mid-body: nobody to answer, nothing broken
            status = CLIENT_CLOSED
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if started:
                raise
            await error_response(500, "internal error")(scope, receive, send_with_id)
        finally:
            self._record(scope, request_id, status, time.perf_counter() - start)
            request_id_var.reset(token)

    def _record(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        endpoint, model = _labels(scope)
        self.metrics.observe_request(endpoint, model, status, seconds)
        if status < 400 and endpoint.endswith(SAMPLED) and not self._sampled():
            return
        fields = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "endpoint": endpoint,
            "model": model,
        }
        if REFUSED in scope:
            self.refusals.note(fields)
            return
        log.info("request", extra={"fields": fields})

    def _sampled(self) -> bool:
        rate = self.log_success_sample
        return rate >= 1.0 or (rate > 0.0 and random.random() < rate)


class RequestIds:
    """Fresh request ids: 32 hex digits, a random per-process half and a count. Unique across
    workers and restarts without reading the kernel's randomness per request (secrets'
    token_hex was 2% of a loaded worker's samples)."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)  # a forked worker must not repeat them

    def reseed(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.count = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.count):016x}"


request_ids = RequestIds()


def header(scope: Scope, name: bytes) -> str:
    """The first value of header `name` (lower-case, as ASGI servers send names), or "":
    Starlette's Headers(scope=scope).get without building the Headers."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _given_id(scope: Scope) -> str:
    """The client's X-Request-ID when it is short printable ASCII, else ""."""
    given = header(scope, _ID_KEY)
    if 0 < len(given) <= _MAX_ID_LENGTH and given.isascii() and given.isprintable():
        return given
    return ""


def _labels(scope: Scope) -> tuple[str, str]:
    """(route template, served model name or "-"): bounded label values for metrics."""
    route: Any = scope.get("route")
    endpoint = str(getattr(route, "path", None) or "unmatched")
    # POST /predict names its model in the query, every other model route in the path.
    name = scope.get("path_params", {}).get("name") or QueryParams(scope["query_string"]).get(
        "model"
    )
    registry = getattr(getattr(scope.get("app"), "state", None), "registry", None)
    known = isinstance(name, str) and registry is not None and name in registry
    return endpoint, str(name) if known else "-"
