"""A short way in for POST /predict: the upload's bytes found in one pass over the body.

The route (routes/predict.py) reads a multipart form through Starlette's `request.form()`:
python-multipart's callbacks, a spooled temporary file per part, and FastAPI's dependency
and query solving, about 1.7 ms of a 280x280 canvas's 5.6 ms. This pure ASGI middleware
answers the plain cases with the route's own two functions (`UploadRoute.model_for`, then
`UploadRoute.read`), in the route's order (the model is checked before the body is read):

- a raw image/* (or application/octet-stream) body: the body is the image;
- a multipart form of exactly one part, the file field, as browsers and `curl -F` send it:
  its bytes are sliced out of the body between the boundaries, with no copy but that one.

Anything else (another content type, a query the route must judge, a form with other
fields, a charset, a preamble or anything malformed) goes to the route unchanged; once the
body has been read, it is handed on again as one message, so every error stays the route's
own. The matched route is put in `scope["route"]` as the router would (logs and metrics),
and limits, logs and metrics wrap this as they wrap the routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from python_multipart.multipart import parse_options_header
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.asgi.fastpath import read_body
from service.asgi.middleware import header
from service.asgi.responses import domain_error_response, json_response
from service.config import Settings
from service.errors import NNServeError
from service.runtime.registry import Registry
from service.runtime.version import ModelVersion

RAW_TYPES = ("image/", "application/octet-stream")
"""Media types whose body is the image itself."""

MULTIPART = "multipart/form-data"

BOOLEANS = {
    **dict.fromkeys(("1", "on", "t", "true", "y", "yes"), True),
    **dict.fromkeys(("0", "off", "f", "false", "n", "no"), False),
}
"""What pydantic reads as a bool from a query (any letter case); anything else is the route's
to refuse, with its 422."""

_PART_HEADERS = frozenset((b"content-disposition", b"content-type"))


@dataclass(frozen=True)
class UploadRoute:
    """What the route is and does, handed over by routes/predict.py (a layer above)."""

    route: APIRoute
    field: str
    """The multipart field that carries the image."""
    model_for: Callable[[Registry, str], ModelVersion]
    """The ready model of that name, or a domain error."""
    read: Callable[[Registry, ModelVersion, bytes, Settings, bool], Awaitable[dict[str, Any]]]
    """The answer's body for the upload's bytes (registry, model, settings, debug)."""


class UploadFastPath:
    """Pure ASGI: answer plain uploads to the route, pass everything else on."""

    def __init__(self, app: ASGIApp, upload: UploadRoute) -> None:
        self.app = app
        self.upload = upload
        self.field = upload.field.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.upload.route
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == route.path:
            registry = getattr(scope["app"].state, "registry", None)
            query = plain_query(scope["query_string"])
            if isinstance(registry, Registry) and query is not None:  # else: the route's
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)  # "route" and "path_params", as routed
                    await self._answer(scope, receive, send, registry, query)
                    return
        await self.app(scope, receive, send)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, registry: Registry, query: Query
    ) -> None:
        model, debug = query
        settings: Settings = scope["app"].state.settings
        content_type = header(scope, b"content-type")
        media_type = content_type.split(";")[0].strip().lower()
        try:
            mv = self.upload.model_for(registry, model or settings.default_model)
            if not (media_type == MULTIPART or media_type.startswith(RAW_TYPES)):
                await self.app(scope, receive, send)  # the route's 415
                return
            body = await read_body(receive)
            data = body if media_type != MULTIPART else form_file(body, content_type, self.field)
            if data is None:
                await self.app(scope, replayed(body, receive), send)  # the route's parser
                return
            content = await self.upload.read(registry, mv, data, settings, debug)
        except NNServeError as exc:
            await domain_error_response(exc)(scope, receive, send)
            return
        await json_response(content)(scope, receive, send)


Query = tuple[str | None, bool]


def plain_query(query_string: bytes) -> Query | None:
    """(model, debug) of a query that names each at most once, with a debug pydantic reads as
    a bool; None when the route must judge it. Other keys are ignored, as the route does."""
    if not query_string:
        return None, False
    model: str | None = None
    debug: bool | None = None
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key == "model" and model is None:
            model = value
        elif key == "debug" and debug is None and value.lower() in BOOLEANS:
            debug = BOOLEANS[value.lower()]
        elif key in ("model", "debug"):
            return None
    return model, bool(debug)


def form_file(body: bytes, content_type: str, field: bytes) -> bytes | None:
    """The bytes of a multipart body's one part when it is the file `field` (a filename given,
    no header but Content-Disposition and Content-Type); None for any other form."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary or len(params) != 1:  # a charset changes how names read: the route's
        return None
    delimiter = b"\r\n--" + boundary
    opening = len(delimiter) - 2
    if not body.startswith(delimiter[2:] + b"\r\n"):
        return None
    end = body.find(delimiter, opening)
    if end < 0 or body[end + len(delimiter) :] not in (b"--", b"--\r\n"):  # one part, then --
        return None
    head_end = body.find(b"\r\n\r\n", opening + 2, end)
    if head_end < 0 or not is_file_part(body[opening + 2 : head_end], field):
        return None
    return body[head_end + 4 : end]


def is_file_part(head: bytes, field: bytes) -> bool:
    """True when a part's header lines say: form field `field`, a file (it has a filename)."""
    disposition: dict[bytes, bytes] | None = None
    for line in head.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        name = name.strip().lower()
        if (
            not colon
            or name not in _PART_HEADERS
            or (name == b"content-disposition" and disposition)
        ):
            return False
        if name == b"content-disposition":
            disposition = parse_options_header(value.strip())[1]
    return (
        disposition is not None and disposition.get(b"name") == field and b"filename" in disposition
    )


def replayed(body: bytes, receive: Receive) -> Receive:
    """`receive` with the body already read handed out again first, as one message."""
    pending = True

    async def again() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
