"""V2 health: liveness (the process answers) and readiness (every model loaded and warm)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from service.asgi.responses import json_response
from service.errors import Unavailable
from service.routes import openapi
from service.routes.deps import RegistryDep

router = APIRouter(tags=["health"])


@router.get("/v2/health/live", responses=openapi.LIVE)
async def live() -> Response:
    """The server process is up and answering."""
    return json_response({"live": True})


@router.get("/v2/health/ready", responses=openapi.READY)
async def ready(registry: RegistryDep) -> Response:
    """Every model version is loaded, verified and warmed up (503 names those that are not)."""
    names = registry.not_ready_reason()
    if names:
        raise Unavailable(f"not ready: {names}")
    return json_response({"ready": True})
