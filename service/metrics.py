"""Prometheus collectors for the service, one set per app, rendered by GET /metrics.

Each app owns a CollectorRegistry (tests build many apps in one process). With several
uvicorn workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory before start: the
collectors then write to files there and `render` aggregates every worker's files through a
MultiProcessCollector (gauges use `multiprocess_mode`, so they merge sensibly).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Latency buckets from 0.5 ms to 10 s: an MLP answers in well under a millisecond, a
# large image upload in tens of milliseconds.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)


class Metrics:
    """The service's collectors; `endpoint` is a route template, never a raw path."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "nnserve_requests_total",
            "HTTP requests by endpoint, model and status code.",
            ["endpoint", "model", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "nnserve_request_duration_seconds",
            "Time from request start to the end of the response, by endpoint and model.",
            ["endpoint", "model"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inference = Histogram(
            "nnserve_inference_duration_seconds",
            "Time inside onnxruntime's session.run, by model and version.",
            ["model", "version"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "nnserve_errors_total",
            "Responses with a status code of 400 or more, by status code.",
            ["status"],
            registry=self.registry,
        )
        self.models_loaded = Gauge(
            "nnserve_models_loaded",
            "Model versions found in the repository.",
            registry=self.registry,
            multiprocess_mode="max",
        )
        self.models_ready = Gauge(
            "nnserve_models_ready",
            "Model versions loaded, verified, warmed up and serving.",
            registry=self.registry,
            multiprocess_mode="min",
        )

    def observe_request(self, endpoint: str, model: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, model, str(status)).inc()
        self.latency.labels(endpoint, model).observe(seconds)
        if status >= 400:
            self.errors.labels(str(status)).inc()

    def observe_inference(self, model: str, version: int, seconds: float) -> None:
        self.inference.labels(model, str(version)).observe(seconds)

    def set_models(self, loaded: int, ready: int) -> None:
        self.models_loaded.set(loaded)
        self.models_ready.set(ready)

    def render(self) -> bytes:
        """The Prometheus text exposition of this process, or of every worker in multiprocess."""
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))


@contextmanager
def multiprocess_directory(workers: int) -> Iterator[None]:
    """With several workers, point PROMETHEUS_MULTIPROC_DIR at an empty directory before any
    worker imports prometheus_client (workers inherit the environment), and remove it after.
    A directory the operator set is kept, but emptied of the *.db files of earlier runs,
    which would otherwise be counted again."""
    given = os.environ.get(MULTIPROC_ENV)
    if workers <= 1 and not given:
        yield
        return
    if given:
        os.makedirs(given, exist_ok=True)
        for stale in os.scandir(given):
            if stale.name.endswith(".db"):
                os.unlink(stale.path)
        yield
        return
    directory = tempfile.mkdtemp(prefix="nnserve-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROC_ENV]
        shutil.rmtree(directory, ignore_errors=True)
