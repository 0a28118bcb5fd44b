"""FastAPI dependencies: the app's settings, registry and metrics, as Annotated aliases.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in the thread pool,
a thread hop per request for what is an attribute read.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from service.config import Settings
from service.errors import Unavailable
from service.metrics import Metrics
from service.runtime.registry import Registry
from service.runtime.repository import ModelControl


async def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


async def get_registry(request: Request) -> Registry:
    """The registry the lifespan built; 503 if a request somehow arrives before it."""
    registry = getattr(request.app.state, "registry", None)
    if registry is None:
        raise Unavailable("models are still loading")
    return cast(Registry, registry)


async def get_control(request: Request) -> ModelControl:
    """The repository API's controller; 503 until the lifespan has made it."""
    control = getattr(request.app.state, "control", None)
    if control is None:
        raise Unavailable("models are still loading")
    return cast(ModelControl, control)


async def get_metrics(request: Request) -> Metrics:
    return cast(Metrics, request.app.state.metrics)


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ControlDep = Annotated[ModelControl, Depends(get_control)]
