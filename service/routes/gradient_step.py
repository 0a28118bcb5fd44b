"""Gradient descent as a served computation: one or more steps through a model's step.onnx.

Stateless: the served model's weights never change; a client continues a walk by sending
back the parameters it got.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import Response

from service.asgi.responses import json_response
from service.descent import describe as description
from service.descent import walk
from service.descent.inputs import Limits
from service.routes.deps import RegistryDep, SettingsDep

router = APIRouter(tags=["gradient-step"])
PATH = "/v1/models/{name}/gradient-step"


@router.get(PATH)
async def describe(registry: RegistryDep, settings: SettingsDep, name: str) -> Response:
    """Parameter names and shapes, the loss and its convention, x and y, and the caps."""
    mv = registry.get_ready(name)
    spec, _ = walk.step_graph(mv.card, mv.step_runtime)
    return json_response(description.describe(mv.card, spec, Limits.from_settings(settings)))


@router.post(PATH)
async def gradient_step(
    registry: RegistryDep, settings: SettingsDep, name: str, body: walk.StepRequest
) -> Response:
    """Run `steps` gradient-descent steps from the given or `init` parameters."""
    mv = registry.get_ready(name)
    spec, runtime = walk.step_graph(mv.card, mv.step_runtime)
    limits = Limits.from_settings(settings)
    # Decoding a big x and reading model.onnx's weights are blocking work too.
    result = await anyio.to_thread.run_sync(walk.run, body, mv.card, spec, runtime, limits, mv.path)
    return json_response(result.to_json())
