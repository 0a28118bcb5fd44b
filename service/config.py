"""Service settings: one class, read from the environment with the prefix NNSERVE_."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def packaged_models_dir() -> Path:
    """The model repository nnserve carries: service/models in an installed wheel (pyproject
    puts the committed models/ there), the checkout's own models/ in a source tree."""
    package = Path(__file__).resolve().parent
    inside = package / "models"
    return inside if inside.is_dir() else package.parent / "models"


class Settings(BaseSettings):
    """Every knob of the service. Tests build `Settings(models_dir=...)` directly."""

    model_config = SettingsConfigDict(
        env_prefix="NNSERVE_", extra="ignore", use_attribute_docstrings=True
    )

    models_dir: Path = Path("models")
    """Model repository: models/<name>/<version>/{card.json, model.onnx, step.onnx}. Unset, it
    is ./models where that folder exists, else the models packaged with nnserve."""

    @model_validator(mode="after")
    def _packaged_models_unless_told(self) -> Settings:
        # Run from any folder, an installed nnserve still serves something real.
        if "models_dir" not in self.model_fields_set and not self.models_dir.is_dir():
            self.models_dir = packaged_models_dir()
        return self

    host: str = "127.0.0.1"
    """Address `python -m service` binds (the container sets 0.0.0.0)."""

    port: int = Field(default=8000, ge=1, le=65535)
    """Port `python -m service` listens on."""

    workers: int = Field(default=1, ge=1, le=64)
    """uvicorn worker processes started by `python -m service`."""

    providers: Literal["auto", "cpu", "cuda"] = "auto"
    """onnxruntime execution provider: auto (CUDA when available, else CPU), cpu, or cuda
    (strict: refuse to start when CUDA is unavailable)."""

    intra_op_num_threads: int = Field(default=1, ge=0)
    """onnxruntime threads inside one operator (0 lets onnxruntime choose)."""

    inter_op_num_threads: int = Field(default=1, ge=0)
    """onnxruntime threads across independent operators (0 lets onnxruntime choose)."""

    default_model: str = "mnist-mlp"
    """Model used by POST /predict when the request names none."""

    max_upload_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    """Largest request body accepted, counted as it streams in (413 above it)."""

    max_image_pixels: int = Field(default=25_000_000, ge=1)
    """Largest decoded image, in pixels (413 above it: decompression bombs)."""

    max_digits: int = Field(default=12, ge=1)
    """Most digits POST /predict reads in one number (422 above it)."""

    max_batch_size: int = Field(default=1024, ge=1)
    """Largest batch accepted by the inference endpoints."""

    max_gradient_steps: int = Field(default=1000, ge=1)
    """Most steps one gradient-step request may run."""

    max_learning_rate: float = Field(default=10.0, gt=0)
    """Largest learning rate a gradient-step request may use."""

    max_gradient_batch: int = Field(default=1024, ge=1)
    """Most rows of x one gradient-step request may send."""

    max_gradient_work: int = Field(default=5_000_000_000, ge=1)
    """Most work one gradient-step request may ask for, counted as steps x rows of x x
    parameters (about the multiply-adds): keeps one request from holding a worker for minutes
    (mnist-mlp: 1024 rows x 9 steps; mnist-softmax: 1024 rows x 600 steps)."""

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Log level of the service's JSON logs."""

    batch_max_size: int = Field(default=64, ge=1)
    """Dynamic batching: most rows one gathered session.run carries (capped by max_batch_size);
    a single request larger than this runs alone."""

    batch_max_wait_us: int = Field(default=1, ge=0)
    """Dynamic batching: 0 turns it off (one session.run per request). Otherwise a request that
    finds the model idle runs at once (no added latency under light load), requests arriving
    while a run is busy are gathered into the next one, and that next batch may linger up to
    this many microseconds for stragglers while it is smaller than batch_max_size. Measured on
    2 cores, lingering did not pay (server CPU per request at c=8: 200 us at 1, 236 at 300,
    286 at 1500), hence 1: gather what queued, after one turn of the event loop."""

    infer_queue_limit: int = Field(default=256, ge=1)
    """Requests one model may have waiting for the dynamic batcher; past it a request is
    answered 503 with Retry-After at once, so the admitted ones keep a bounded wait and the
    event loop keeps answering health checks under a flood."""

    max_infer_in_flight: int = Field(default=64, ge=1)
    """Inference requests (V2 infer, /predict, v1 predict) one worker holds at once, counted
    from the moment their headers arrive; past it a new one is answered 503 with Retry-After
    before its body is read, so under a flood the admitted ones keep a bounded wait and the
    refused ones cost the worker little."""

    refused_hold_s: float = Field(default=1.0, ge=0.0, le=1.0)
    """Seconds (half to all of it, spread) a connection whose inference request was refused
    (503, Retry-After: 1) is left unread; 0 reads it at once. A client that waits as it is
    told never notices; one that retries at once would otherwise be read and refused every
    loop turn, which under a flood left the admitted requests a fraction of the worker."""

    batch_inline: bool = True
    """Run a batch on the event loop itself when its measured run time is below a measured
    thread hand-off (a one-image MLP: about 40 us against 60-120); bigger batches and slower
    models still run in a worker thread, where they cannot stall the loop."""

    body_read_timeout_s: float = Field(default=10.0, gt=0)
    """Seconds to wait for the next part of a request body; a body that stops arriving is
    answered 408 and its connection closed."""

    max_connections: int = Field(default=2048, ge=1)
    """Requests in flight per worker (an HTTP/1.1 connection carries one at a time, a stalled
    upload included); past it new ones get 503 with Retry-After at once. Health checks and
    /metrics are never refused."""

    log_success_sample: float = Field(default=0.0, ge=0.0, le=1.0)
    """Fraction of successful inference requests (V2 infer, v1 predict, /predict) written to
    the request log (0: none, 1: all); errors and every other request are always logged, but
    503 refusals under overload: counted, one line a second with how many."""

    infer_fast_path: bool = True
    """Answer POST /v2/models/.../infer through service.asgi.fastpath: the same handler, errors,
    logs, metrics and body limit, without FastAPI's route walk and dependency solving."""

    predict_fast_path: bool = True
    """Answer plain POST /predict uploads (a raw image body, or a form of the one file field)
    through service.asgi.upload: the same steps, errors, logs, metrics and body limit, without
    Starlette's form parser and FastAPI's dependency solving; any other form goes the route's
    way."""

    grpc_port: int = Field(default=8001, ge=0, le=65535)
    """Port of the Open Inference Protocol over gRPC (Triton's 8001), on the same host; 0 turns
    it off. Every worker binds it (SO_REUSEPORT); its largest message is max_upload_bytes."""

    probe_port: int = Field(default=0, ge=0, le=65535)
    """Port of a second listener, in a small process of each worker's own, answering only
    /v2/health/live, /v2/health/ready and /metrics (Triton's metrics port is 8002): a probe
    there never waits behind a flood of requests on the main port, nor for the worker's GIL.
    0 (the default) turns it off; the container and the Kubernetes manifests set 8002 and point
    their probes at it."""

    model_control: Literal["none", "explicit", "poll"] = "none"
    """none: the models found at start serve until the process ends; explicit: they are all
    loaded at start, then POST /v2/repository/models/{name}/load and /unload change them;
    poll: as explicit, and the repository is rescanned every repository_poll_seconds (new or
    changed versions load, removed ones unload once their requests finish)."""

    repository_poll_seconds: float = Field(default=5.0, gt=0)
    """With model_control=poll: seconds between two scans of models_dir."""
