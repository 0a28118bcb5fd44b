"""Triton's model repository extension over REST, as tritonclient.http calls it.

    POST /v2/repository/index                   [{"name", "version", "state", "reason"}, ...]
    POST /v2/repository/models/{name}/load      load (or reload) every version of the model
    POST /v2/repository/models/{name}/unload    take every version out of service

The bodies are optional JSON objects (tritonclient sends `{}` or `{"ready": true}` to the
index, `{"parameters": {...}}` to load and unload); the parameters Triton defines for
uploading a model's files or configuration are refused by name. With
NNSERVE_MODEL_CONTROL=none every route answers 403, saying model control is off.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.asgi.responses import json_response
from service.errors import BadRequest
from service.routes.deps import ControlDep

router = APIRouter(tags=["repository"])

Responses = dict[int | str, dict[str, Any]]

_OFF: Responses = {403: {"description": "Model control is off (NNSERVE_MODEL_CONTROL=none)."}}
_UNKNOWN: Responses = {404: {"description": "No such model in the repository (or not loaded)."}}


@router.post("/v2/repository/index", responses=_OFF)
async def repository_index(request: Request, control: ControlDep) -> Response:
    """Every model version on disk or loaded, with its state (READY, UNAVAILABLE) and reason;
    `{"ready": true}` lists only those that serve."""
    ready = (await _body(request)).get("ready", False)
    if not isinstance(ready, bool):
        raise BadRequest("ready must be true or false")
    return json_response([e.as_dict() for e in control.index(ready_only=ready)])


@router.post("/v2/repository/models/{name}/load", responses={**_OFF, **_UNKNOWN})
async def load_model(request: Request, control: ControlDep, name: str) -> Response:
    """Verify, open and warm every version of models/<name>/, then serve them."""
    _refuse_files(await _body(request))
    await control.load(name)
    return json_response({})


@router.post("/v2/repository/models/{name}/unload", responses={**_OFF, **_UNKNOWN})
async def unload_model(request: Request, control: ControlDep, name: str) -> Response:
    """Stop serving every version of the model; answers once their requests have finished."""
    await _body(request)
    await control.unload(name)
    return json_response({})


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def _refuse_files(body: dict[str, Any]) -> None:
    """Triton lets a load carry a model's configuration or files; nnserve reads only disk."""
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        raise BadRequest("parameters must be an object")
    sent = sorted(k for k in parameters if k == "config" or k.startswith("file:"))
    if sent:
        raise BadRequest(
            f"load parameters {sent} are not supported: nnserve loads models/<name>/ from disk"
        )
