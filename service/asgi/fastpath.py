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
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from service import dataplane
from service.asgi.responses import domain_error_response
from service.errors import NNServeError
from service.protocol.v2 import HEADER_LENGTH
from service.runtime.registry import Registry

_ENCODING = b"content-encoding"
_HEADER_LENGTH = HEADER_LENGTH.encode()


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
