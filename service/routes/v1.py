"""The v1 JSON API: list models, read a card, predict from rows of features.

`{"instances": [[...], ...]}` -> `{"predictions": [...]}`: class, label and probabilities for
classifiers, one value per row for regressors and functions. The same tensor checks as V2
apply, answered 422 (v1's validation status) instead of 400.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.asgi.responses import json_response
from service.errors import BadRequest, Unprocessable
from service.protocol.v1 import instances_array, predictions
from service.routes import openapi
from service.routes.deps import RegistryDep
from service.runtime.version import ModelVersion

router = APIRouter(tags=["v1"])


@router.get("/v1/models", responses=openapi.V1_MODELS)
async def list_models(registry: RegistryDep) -> Response:
    """Every model version: name, version, task, ready, provider and the card's metrics."""
    return json_response({"models": [summary(mv) for mv in registry.versions()]})


@router.get("/v1/models/{name}", responses=openapi.V1_CARD)
async def model_card(registry: RegistryDep, name: str) -> Response:
    """The model card of the latest version (the contract training wrote)."""
    return json_response(registry.get(name).card.model_dump(mode="json"))


@router.post(
    "/v1/models/{name}/predict",
    openapi_extra=openapi.V1_PREDICT_BODY,
    responses=openapi.V1_PREDICT,
)
async def predict(request: Request, registry: RegistryDep, name: str) -> Response:
    """Predict from rows of raw features."""
    mv = registry.get(name)
    inputs = mv.require_runtime().inputs  # 503, with the reason, when it cannot serve
    with unprocessable():
        if len(inputs) != 1 or len(inputs[0].shape) != 2:
            raise BadRequest(f"model {name} does not take rows of features; use the V2 API")
        instances = _instances(await request.body())
        batch = instances_array(instances, inputs[0].shape[1], inputs[0].dtype)
        outputs = await mv.infer({inputs[0].name: batch})
    return json_response({"predictions": predictions(mv.card, outputs)})


@contextmanager
def unprocessable() -> Iterator[None]:
    """v1 answers a bad request body 422, where V2 answers the same problem 400."""
    try:
        yield
    except BadRequest as exc:
        raise exc.with_status(Unprocessable.status_code) from None


def _instances(body: bytes) -> Any:
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(message, dict) or "instances" not in message:
        raise BadRequest('request body must be a JSON object {"instances": [[...], ...]}')
    return message["instances"]


def summary(mv: ModelVersion) -> dict[str, Any]:
    """One row of GET /v1/models."""
    card = mv.loaded_card
    row: dict[str, Any] = {
        "name": mv.name,
        "version": mv.version,
        "task": card.task if card else None,
        "ready": mv.ready,
        "provider": mv.provider,
        "metrics": card.metrics if card else {},
    }
    if not mv.ready:
        row["reason"] = mv.reason
    return row
