"""A short way in for the hottest route: POST /v2/models/{name}[/versions/{version}]/infer.

The request reaches the very handler FastAPI would call (`routes.v2.infer_handler`'s body,
`_infer`), with the same errors, logs, metrics and body limit around it, but without walking
the router's route list and solving dependencies: measured at a fifth of the service's CPU
per request on this one-image path (see benchmarks/). The FastAPI routes stay registered,
so /docs and /openapi.json describe the endpoint, and every other method or path goes there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import NNServeError
from service.registry import Registry
from service.responses import error_response
from service.routes import v2

INFER = re.compile(r"/v2/models/(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?/infer")


@dataclass(frozen=True)
class _Template:
    """What the request middleware reads from scope["route"]: the route's path template."""

    path: str


LATEST = _Template("/v2/models/{name}/infer")
VERSIONED = _Template("/v2/models/{name}/versions/{version}/infer")


class InferFastPath:
    """Pure ASGI: answer V2 infer POSTs directly, pass everything else on untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = INFER.fullmatch(scope["path"]) if scope["type"] == "http" else None
        registry = getattr(scope["app"].state, "registry", None) if found else None
        if found is None or scope["method"] != "POST" or not isinstance(registry, Registry):
            await self.app(scope, receive, send)
            return
        name, version = found["name"], found["version"]
        scope["route"] = LATEST if version is None else VERSIONED
        scope["path_params"] = found.groupdict() if version else {"name": name}
        try:
            mv = registry.get_ready(name, v2.parse_version(name, version))
            response = await v2._infer(Request(scope, receive), mv)
        except NNServeError as exc:
            response = error_response(exc.status_code, exc.message, exc.details)
        await response(scope, receive, send)
