"""The application factory: lifespan (load the models), middleware, routers, error handlers.

Every non-2xx answer on every path is `{"error": message}` JSON (plus `details` for field
errors): domain errors (NNServeError) by their status code, FastAPI's validation errors as
422, unknown paths 404, wrong methods 405, and anything unexpected 500 "internal error",
logged with its traceback but never sent.
"""

from __future__ import annotations

import gc
import importlib.metadata
import logging
import tomllib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from service.asgi.fastpath import InferEntranceApp, InferFastPath
from service.asgi.limits import ConnectionCap, InferAdmission
from service.asgi.middleware import BodyLimitMiddleware, RequestContextMiddleware
from service.asgi.probes import probe_serving
from service.asgi.responses import domain_error_response, error_response
from service.asgi.upload import UploadFastPath
from service.config import Settings
from service.errors import NNServeError
from service.grpc.server import grpc_serving
from service.grpc.servicer import Servicer
from service.logs import configure_logging
from service.metrics import Metrics
from service.routes import gradient_step, health, metrics, predict, repository, v1, v2, web
from service.runtime.registry import Registry
from service.runtime.repository import ModelControl
from service.runtime.version import InferenceObserver, ModelVersion

log = logging.getLogger(__name__)

ROUTERS = (
    health.router,
    v2.router,
    repository.router,
    v1.router,
    predict.router,
    gradient_step.router,
    metrics.router,
    web.router,
)
"""Every router, in the order the OpenAPI document lists them."""


def version() -> str:
    """The installed nnserve version; from a source tree never pip-installed, pyproject's."""
    try:
        return importlib.metadata.version("nnserve")
    except importlib.metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text())["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing is loaded until the lifespan starts."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    app = InferEntranceApp(
        title="nnserve",
        version=version(),
        description="ONNX models served by onnxruntime: image /predict, V2 inference, v1 JSON.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # nnserve exports Prometheus metrics and JSON logs itself; FastAPI's own OpenTelemetry
        # hooks otherwise look the tracer up in os.environ on every request (9% of a loaded
        # worker's samples, py-spy, V2 binary at c=1000)
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    add_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    add_middleware(app, settings)
    return app


def add_middleware(app: FastAPI, settings: Settings) -> None:
    """Innermost first (each add wraps the ones before): the V2 infer and /predict fast
    paths, so limits, logs and metrics still apply to them; the body limit; the in-flight
    cap; the inference cap (asgi/limits.py: refuses before the body is read); the request
    context."""
    if settings.infer_fast_path:
        # v2.router's own routes: app.routes holds FastAPI's _IncludedRouter wrappers
        app.add_middleware(InferFastPath, routes=v2.infer_routes(v2.router.routes))
    if settings.predict_fast_path:
        app.add_middleware(UploadFastPath, upload=predict.fast_path())
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_upload_bytes,
        read_timeout_s=settings.body_read_timeout_s,
    )
    app.add_middleware(ConnectionCap, limit=settings.max_connections)
    app.add_middleware(
        InferAdmission, limit=settings.max_infer_in_flight, hold_s=settings.refused_hold_s
    )
    app.add_middleware(
        RequestContextMiddleware,
        metrics=app.state.metrics,
        log_success_sample=settings.log_success_sample,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load, verify and warm every model before the first request; ready only after."""
    settings: Settings = app.state.settings
    app_metrics: Metrics = app.state.metrics
    try:
        observer = _inference_observer(app_metrics)
        registry = await anyio.to_thread.run_sync(Registry.load, settings, observer)
    except Exception:
        log.critical("start-up failed", exc_info=True)
        raise
    ready = sum(mv.ready for mv in registry.versions())
    app_metrics.set_models(len(registry.versions()), ready)
    app.state.registry = registry
    # Said by every worker, however it was started (`python -m service` or `uvicorn --factory`).
    served = settings.models_dir.resolve()
    log.info("serving %d of %d model versions from %s", ready, len(registry.versions()), served)
    app.state.control = control = _model_control(registry, settings, app_metrics, observer)
    servicer = Servicer(registry, control, app_metrics, app.version, settings.log_success_sample)
    probes = probe_serving(settings.host, settings.probe_port, registry, app_metrics)
    async with control.running(), grpc_serving(settings, servicer), probes:
        with frozen_heap():
            yield


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Everything alive once the models are loaded, kept out of the cyclic GC's scans while
    serving. Left in, each full collection walked the whole loaded heap (onnxruntime, numpy,
    FastAPI, the models' cards, about 100,000 objects) and freed next to nothing: under a
    flood (wrk c=1000, one worker) one came about once a second and stalled the loop 75-100
    ms, 1.1-1.5 s of every 10 s in all; frozen, 0.3-0.5 s (gc.callbacks in the worker)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # a process that builds apps again (tests) can free the old ones


def _model_control(
    registry: Registry, settings: Settings, app_metrics: Metrics, observer: InferenceObserver
) -> ModelControl:
    """The repository API's controller: new versions feed the metrics, changes the gauges."""

    def changed() -> None:
        versions = registry.versions()
        app_metrics.set_models(len(versions), sum(mv.ready for mv in versions))

    return ModelControl(registry, settings, observer, changed)


def _inference_observer(app_metrics: Metrics) -> Callable[[ModelVersion, float], None]:
    def observe(mv: ModelVersion, seconds: float) -> None:
        app_metrics.observe_inference(mv.name, mv.version, seconds)

    return observe


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NNServeError, _domain_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


async def _domain_error(request: Request, exc: Exception) -> Response:
    """The one handler for every NNServeError (the fast path answers them alike)."""
    assert isinstance(exc, NNServeError)
    return domain_error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's 404 and 405 (and any HTTPException) as JSON, with a useful message."""
    assert isinstance(exc, HTTPException)
    message = str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no endpoint {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    return error_response(exc.status_code, message, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's request validation as 422 JSON: the first problem in `error`, all in details."""
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    return error_response(
        422, f"invalid request: {where}: {first['msg']}", jsonable_encoder(details)
    )
