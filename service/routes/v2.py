"""Open Inference Protocol (V2) REST: server and model metadata, model readiness, inference.

The infer body is read raw, whatever its Content-Type (tritonclient sends none), and parsed
by service.protocol.v2 in service.dataplane: no pydantic ever walks the tensor data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from service import dataplane
from service.asgi.responses import json_response
from service.routes import openapi
from service.routes.deps import RegistryDep
from service.runtime.registry import Registry, parse_version
from service.runtime.version import ModelVersion

router = APIRouter(tags=["v2"])

EXTENSIONS = ["binary_tensor_data"]
PLATFORM = "onnxruntime_onnx"
_ONE = "/v2/models/{name}/versions/{version}"


@router.get("/v2", responses=openapi.SERVER_METADATA)
async def server_metadata(request: Request) -> Response:
    """Server name, version and the protocol extensions it supports."""
    return json_response(
        {"name": "nnserve", "version": request.app.version, "extensions": EXTENSIONS}
    )


@router.get("/v2/models/{name}", responses=openapi.MODEL_METADATA)
async def model_metadata(registry: RegistryDep, name: str) -> Response:
    """Inputs, outputs, versions, platform, plus readiness, its reason, and the provider."""
    mv = registry.get(name)
    return json_response(metadata(mv, _versions(registry, name)))


@router.get(_ONE, responses=openapi.MODEL_METADATA)
async def model_version_metadata(registry: RegistryDep, name: str, version: str) -> Response:
    """Metadata of one version."""
    mv = registry.get(name, parse_version(name, version))
    return json_response(metadata(mv, [str(mv.version)]))


@router.get("/v2/models/{name}/ready", responses=openapi.MODEL_READY)
async def model_ready(registry: RegistryDep, name: str) -> Response:
    """200 with {"name", "ready": true} when the model serves, 503 with the reason when not."""
    return _ready(registry.get(name))


@router.get(f"{_ONE}/ready", responses=openapi.MODEL_READY)
async def model_version_ready(registry: RegistryDep, name: str, version: str) -> Response:
    """Readiness of one version."""
    return _ready(registry.get(name, parse_version(name, version)))


@router.post("/v2/models/{name}/infer", openapi_extra=openapi.INFER_BODY, responses=openapi.INFER)
async def infer(request: Request, registry: RegistryDep, name: str) -> Response:
    """Run the model's latest version on V2 tensors (JSON, or the binary tensor extension)."""
    return await dataplane.infer_http(request, dataplane.ready_version(registry, name, None))


@router.post(f"{_ONE}/infer", openapi_extra=openapi.INFER_BODY, responses=openapi.INFER)
async def infer_version(
    request: Request, registry: RegistryDep, name: str, version: str
) -> Response:
    """Run one version of the model."""
    return await dataplane.infer_http(request, dataplane.ready_version(registry, name, version))


def infer_routes(routes: Sequence[BaseRoute]) -> list[APIRoute]:
    """The app's V2 infer routes, which the fast path (service.asgi.fastpath) matches with."""
    return [r for r in routes if isinstance(r, APIRoute) and r.endpoint in (infer, infer_version)]


def _ready(mv: ModelVersion) -> Response:
    mv.require_runtime()
    return json_response({"name": mv.name, "ready": True})


def _versions(registry: Registry, name: str) -> list[str]:
    return [str(mv.version) for mv in registry.versions() if mv.name == name]


def metadata(mv: ModelVersion, versions: list[str]) -> dict[str, Any]:
    """The V2 `$metadata_model_response`, with readiness and provider added."""
    result: dict[str, Any] = {"name": mv.name, "versions": versions, "platform": PLATFORM}
    result.update(mv.tensors())
    result["ready"] = mv.ready
    result["provider"] = mv.provider
    if not mv.ready:
        result["reason"] = mv.reason
    return result
