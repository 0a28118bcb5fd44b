"""The v1 JSON API: list models, read a card, predict from rows of features.

`{"instances": [[...], ...]}` -> `{"predictions": [...]}`: class, label and probabilities for
classifiers, one value per row for regressors and functions. The same tensor checks as V2
apply, answered 422 (v1's validation status) instead of 400.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.asgi.responses import json_response
from service.cards import ModelCard
from service.errors import BadRequest, Unprocessable
from service.protocol.tensors import instances_array
from service.routes import openapi
from service.routes.deps import RegistryDep
from service.runtime.registry import ModelVersion

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
    mv = registry.get_ready(name)
    inputs = mv.require_runtime().inputs
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
    card = mv.card if mv.has_card else None
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


def predictions(card: ModelCard, outputs: dict[str, np.ndarray]) -> list[Any]:
    """The model's outputs as v1 predictions, shaped by the card's task."""
    if card.task == "classification":
        probabilities = outputs[_probability_output(card)]  # [N, classes]
        return _classes(card, probabilities.argmax(axis=1), probabilities)
    if card.task == "binary-classification":
        p = outputs[_probability_output(card)].reshape(-1)  # [N] P(class 1)
        return _classes(card, (p >= 0.5).astype(np.int64), np.stack([1 - p, p], axis=1))
    values = outputs[card.outputs[0].name]  # [N, 1] or [N, k]
    # Arrays, not .tolist(): orjson writes float32 at its own precision (169.38277, not
    # 169.3827667236328).
    return list(values.reshape(-1) if values.shape[1] == 1 else values)


def _probability_output(card: ModelCard) -> str:
    """The output holding probabilities: named so by the contract, else the card's last."""
    names = [spec.name for spec in card.outputs]
    return next((n for n in names if n.startswith("probabilit")), names[-1])


def _classes(card: ModelCard, classes: np.ndarray, probabilities: np.ndarray) -> list[Any]:
    labels = card.labels or [str(i) for i in range(probabilities.shape[1])]
    return [
        {"class": int(c), "label": labels[int(c)], "probabilities": row}
        for c, row in zip(classes.tolist(), probabilities, strict=True)
    ]
