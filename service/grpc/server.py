"""The gRPC server: started in the app's lifespan, on uvicorn's own event loop, stopped in it.

One grpc.aio server per worker process. Each binds the port with SO_REUSEPORT (grpcio's
default on Linux, set here explicitly), so the workers `python -m service` starts share it
and the kernel spreads connections over them, as uvicorn's shared socket does for REST. The
largest message it accepts is the REST body limit (NNSERVE_MAX_UPLOAD_BYTES); grpcio answers
a larger one RESOURCE_EXHAUSTED before any handler sees it. Standard health checking
(grpc.health.v1) answers for "" (the whole server: SERVING while the process serves, a
liveness answer, so a broken model never gets a pod restarted) and for
inference.GRPCInferenceService (SERVING while every model version is ready, as
GET /v2/health/ready); both turn NOT_SERVING when shutdown begins.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from service.config import Settings
from service.grpc.servicer import SERVICE, Servicer

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
HEALTH_INTERVAL_SECONDS = 1.0
"""How often the health status follows the registry's readiness (models load and unload)."""
GRACE_SECONDS = 5.0
"""How long stop() lets calls in flight finish before cancelling them."""


@dataclass
class GrpcServer:
    """A started server, with the task that keeps its health status current."""

    server: grpc.aio.Server
    health: health.aio.HealthServicer
    port: int
    watcher: asyncio.Task[None]

    async def stop(self) -> None:
        """NOT_SERVING first (probes and balancers look away), then drain, then close."""
        self.watcher.cancel()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(GRACE_SECONDS)
        log.info("gRPC server on port %d stopped", self.port)


def server_options(settings: Settings) -> list[tuple[str, int]]:
    return [
        ("grpc.so_reuseport", 1),
        ("grpc.max_receive_message_length", settings.max_upload_bytes),
        ("grpc.max_send_message_length", -1),
    ]


async def start(settings: Settings, servicer: Servicer) -> GrpcServer:
    """Bind settings.host:settings.grpc_port, register the services, start serving.

    A port that cannot be bound stops the start, as uvicorn's own does."""
    server = grpc.aio.server(options=server_options(settings))
    server.add_generic_rpc_handlers([servicer.generic_handler()])
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    address = f"{settings.host}:{settings.grpc_port}"
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise RuntimeError(f"cannot listen for gRPC on {address}: {exc}") from None
    await server.start()
    await _set_health(health_servicer, servicer)
    watcher = asyncio.create_task(_follow_readiness(health_servicer, servicer))
    log.info("gRPC server listening on %s", address)
    return GrpcServer(server, health_servicer, port, watcher)


async def _set_health(health_servicer: health.aio.HealthServicer, servicer: Servicer) -> None:
    await health_servicer.set("", SERVING)
    ready = not servicer.registry.not_ready()
    await health_servicer.set(SERVICE, SERVING if ready else NOT_SERVING)


async def _follow_readiness(health_servicer: health.aio.HealthServicer, servicer: Servicer) -> None:
    while True:
        await asyncio.sleep(HEALTH_INTERVAL_SECONDS)
        await _set_health(health_servicer, servicer)


@asynccontextmanager
async def grpc_serving(settings: Settings, servicer: Servicer) -> AsyncIterator[None]:
    """Serve gRPC for the lifespan's duration; nothing when settings.grpc_port is 0."""
    if settings.grpc_port == 0:
        yield
        return
    started = await start(settings, servicer)
    try:
        yield
    finally:
        await started.stop()
