"""A short way in for the hottest route: POST /v2/models/{name}[/versions/{version}]/infer.

The fast path is no second router: it is handed the FastAPI routes of V2 infer (v2.router's
own: app.routes holds FastAPI's include wrappers), matches a request with their `matches`
(their path_regex and methods), puts the matched route in `scope["route"]` as the router
would, and runs what those routes run (`dataplane.infer_bytes`), answering domain errors
with the app's one error function. It skips the router's walk over every route, its
dependency solving, and Starlette's Request and Response objects: the body is read straight
from `receive`, the two headers it needs are found in one pass over the raw headers, and the
answer goes out as two ASGI messages with the headers a Response would write (the parity test
in tests/service/asgi/test_fastpath.py compares status, headers and body with the routes).
Limits, logs and metrics wrap it as they wrap the routes (it is the innermost middleware).
Only POSTs whose path ends in /infer are matched at all; everything else, /docs included,
goes to the routes.

`InferEntranceApp` is the FastAPI app whose POSTs to /infer enter its middleware at the request
context, past FastAPI's own three outer layers (ServerErrorMiddleware, whose last-resort 500 the
request context gives already, the telemetry layer, switched off, and the app body limit, unset):
the same middleware instances, so every count and cap is shared with the other requests.
Measured in-process, whole app, blocks alternating between the two ways in (load1 4.3-5.3):
V2 binary c=8 94.7 -> 89.3 us CPU per request (cheaper in 30 of 40 blocks), JSON c=8 124.9 ->
122.0 (28 of 40); at c=1 3-4 us, within the noise.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from service import dataplane
from service.asgi.middleware import RequestContextMiddleware
from service.asgi.responses import domain_error_response
from service.errors import NNServeError
from service.protocol.v2 import HEADER_LENGTH
from service.runtime.registry import Registry

_ENCODING = b"content-encoding"
_HEADER_LENGTH = HEADER_LENGTH.encode()


class InferEntranceApp(FastAPI):
    """FastAPI, its V2 infer requests entering the middleware at the request context."""

    entered: tuple[ASGIApp, ASGIApp] | None = None
    """(the middleware stack, its request context layer) once the stack is built."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        infer = scope["type"] == "http" and scope["method"] == "POST"
        if infer and scope["path"].endswith("/infer"):
            entrance = self.entrance()
            if entrance is not None:
                if self.root_path:  # as FastAPI.__call__ sets it
                    scope["root_path"] = self.root_path
                scope["app"] = self  # as Starlette.__call__ sets it
                await entrance(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def entrance(self) -> ASGIApp | None:
        """The request context layer of the built middleware stack (None without one)."""
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        stack = self.middleware_stack
        if self.entered is None or self.entered[0] is not stack:
            layer: ASGIApp | None = stack
            while layer is not None and not isinstance(layer, RequestContextMiddleware):
                layer = getattr(layer, "app", None)
            if layer is None:
                return None
            self.entered = (stack, layer)
        return self.entered[1]


class InferFastPath:
    """Pure ASGI: answer requests the given infer routes match, pass everything else on."""

    def __init__(self, app: ASGIApp, routes: Sequence[APIRoute]) -> None:
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"  # a GET on the path: the router's 405
            and scope["path"].endswith("/infer")
        ):
            registry = getattr(scope["app"].state, "registry", None)
            if isinstance(registry, Registry):  # before the lifespan: the routes answer 503
                for route in self.routes:
                    match, child_scope = route.matches(scope)
                    if match is Match.FULL:
                        scope.update(child_scope)  # "route" and "path_params", as routed
                        await _answer(scope, receive, send, registry)
                        return
        await self.app(scope, receive, send)


async def _answer(scope: Scope, receive: Receive, send: Send, registry: Registry) -> None:
    params = scope["path_params"]
    try:
        mv = dataplane.ready_version(registry, params["name"], params.get("version"))
        encoding, header_length = _infer_headers(scope)
        limit = scope["app"].state.settings.max_upload_bytes
        body, json_length = await dataplane.infer_bytes(
            mv, await read_body(receive), encoding, header_length, limit
        )
    except NNServeError as exc:
        await domain_error_response(exc)(scope, receive, send)
        return
    headers = dataplane.response_headers(body, json_length)
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _infer_headers(scope: Scope) -> tuple[str | None, str | None]:
    """(Content-Encoding, Inference-Header-Content-Length), the first of each, as Starlette's
    Headers.get finds them (ASGI servers send header names lower-case)."""
    encoding = header_length = None
    for key, value in scope["headers"]:
        if key == _ENCODING and encoding is None:
            encoding = value.decode("latin-1")
        elif key == _HEADER_LENGTH and header_length is None:
            header_length = value.decode("latin-1")
    return encoding, header_length


async def read_body(receive: Receive) -> bytes:
    """The whole request body, as Starlette's Request.body reads it: ClientDisconnect when
    the client leaves first; whatever `receive` raises (the body limit's 413, the read
    timeout's 408) passes through to the middleware that answers it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            if not message.get("more_body", False):
                return b"".join((*chunks, chunk)) if chunks else chunk
            chunks.append(chunk)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()
