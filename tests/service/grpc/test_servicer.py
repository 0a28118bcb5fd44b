"""The gRPC server in-process, driven with nnserve's own stubs (their private descriptor pool
lets them share this process with KServe's): typed contents both ways, bad messages, the
repository calls, health, and the status code of each failure."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
from fastapi.testclient import TestClient
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service.app import create_app
from service.config import Settings
from service.grpc import inference_pb2 as pb
from service.grpc.server import grpc_serving
from service.grpc.servicer import SERVICE, Servicer
from service.metrics import Metrics
from service.runtime.registry import Registry
from service.runtime.repository import ModelControl
from tests.servers import free_port

Client = Callable[[str, Any, Any], Awaitable[Any]]


def serve(
    repo: Path,
    mode: str,
    check: Callable[[Client, grpc.aio.Channel], Awaitable[None]],
    log_success_sample: float = 1.0,
) -> None:
    settings = Settings(models_dir=repo, grpc_port=free_port(), model_control=mode)
    registry = Registry.load(settings)
    control = ModelControl(registry, settings, None, lambda: None)

    async def run() -> None:
        servicer = Servicer(registry, control, Metrics(), "test", log_success_sample)
        async with (
            grpc_serving(settings, servicer),
            grpc.aio.insecure_channel(f"127.0.0.1:{settings.grpc_port}") as channel,
        ):

            async def call(method: str, request: Any, response: Any) -> Any:
                stub = channel.unary_unary(
                    f"/{SERVICE}/{method}",
                    request_serializer=lambda m: (
                        m if isinstance(m, bytes) else m.SerializeToString()
                    ),
                    response_deserializer=response.FromString,
                )
                return await stub(request, timeout=10)

            await check(call, channel)

    asyncio.run(run())


async def code_of(call: Awaitable[Any]) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    return failure.value.code()


def test_typed_contents_both_ways_and_errors(tiny_repo: Path) -> None:
    async def check(call: Client, channel: grpc.aio.Channel) -> None:
        request = pb.ModelInferRequest(model_name="tiny-linear", id="t")
        tensor = request.inputs.add(name="input", datatype="FP32", shape=[3, 1])
        tensor.contents.fp32_contents.extend([1.0, 2.0, 3.0])
        answer = await call("ModelInfer", request, pb.ModelInferResponse)
        assert answer.id == "t" and answer.model_version == "1" and not answer.raw_output_contents
        values = np.array(answer.outputs[0].contents.fp32_contents)
        assert list(answer.outputs[0].shape) == [3, 1] and np.all(np.diff(values) != 0)
        garbage = await code_of(call("ModelInfer", b"\xff\xff\xff", pb.ModelInferResponse))
        assert garbage == grpc.StatusCode.INVALID_ARGUMENT
        tensor.contents.fp32_contents.append(4.0)
        bad = await code_of(call("ModelInfer", request, pb.ModelInferResponse))
        assert bad == grpc.StatusCode.INVALID_ARGUMENT
        unknown = pb.ModelReadyRequest(name="tiny-linear", version="9")
        missing = await code_of(call("ModelReady", unknown, pb.ModelReadyResponse))
        assert missing == grpc.StatusCode.NOT_FOUND
        off = await code_of(
            call("RepositoryIndex", pb.RepositoryIndexRequest(), pb.RepositoryIndexResponse)
        )
        assert off == grpc.StatusCode.FAILED_PRECONDITION
        meta = await call("ServerMetadata", pb.ServerMetadataRequest(), pb.ServerMetadataResponse)
        assert (meta.name, list(meta.extensions)) == ("nnserve", [])
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", SERVICE):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING

    serve(tiny_repo, "none", check)


def test_the_timeout_parameter_as_rest_reads_it(tiny_repo: Path) -> None:
    async def check(call: Client, channel: grpc.aio.Channel) -> None:
        request = pb.ModelInferRequest(model_name="tiny-linear")
        request.inputs.add(
            name="input", datatype="FP32", shape=[1, 1]
        ).contents.fp32_contents.append(1)
        request.parameters["timeout"].int64_param = 10_000_000  # 10 s in the queue: plenty
        answer = await call("ModelInfer", request, pb.ModelInferResponse)
        assert list(answer.outputs[0].shape) == [1, 1]
        request.parameters["timeout"].int64_param = -1
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call("ModelInfer", request, pb.ModelInferResponse)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "parameters.timeout must be a positive integer" in str(failure.value.details())

    serve(tiny_repo, "none", check)


def test_not_ready_model_is_unavailable_and_unready(tiny_repo: Path) -> None:
    (tiny_repo / "tiny-linear" / "1" / "model.onnx").write_bytes(b"not onnx")

    async def check(call: Client, channel: grpc.aio.Channel) -> None:
        ready = await call(
            "ModelReady", pb.ModelReadyRequest(name="tiny-linear"), pb.ModelReadyResponse
        )
        assert ready.ready is False
        request = pb.ModelInferRequest(model_name="tiny-linear")
        request.inputs.add(
            name="input", datatype="FP32", shape=[1, 1]
        ).contents.fp32_contents.append(1)
        assert (
            await code_of(call("ModelInfer", request, pb.ModelInferResponse))
            == grpc.StatusCode.UNAVAILABLE
        )
        server = await call("ServerReady", pb.ServerReadyRequest(), pb.ServerReadyResponse)
        assert server.ready is False
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=SERVICE)
        )
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING

    serve(tiny_repo, "none", check)


def test_repository_calls(tiny_repo: Path) -> None:
    async def check(call: Client, channel: grpc.aio.Channel) -> None:
        index = await call(
            "RepositoryIndex", pb.RepositoryIndexRequest(), pb.RepositoryIndexResponse
        )
        assert ("tiny-linear", "1", "READY") in [(m.name, m.version, m.state) for m in index.models]
        unload = pb.RepositoryModelUnloadRequest(model_name="tiny-linear")
        await call("RepositoryModelUnload", unload, pb.RepositoryModelUnloadResponse)
        gone = pb.ModelMetadataRequest(name="tiny-linear")
        assert (
            await code_of(call("ModelMetadata", gone, pb.ModelMetadataResponse))
            == grpc.StatusCode.NOT_FOUND
        )
        load = pb.RepositoryModelLoadRequest(model_name="tiny-linear")
        await call("RepositoryModelLoad", load, pb.RepositoryModelLoadResponse)
        meta = await call("ModelMetadata", gone, pb.ModelMetadataResponse)
        assert meta.platform == "onnxruntime_onnx" and meta.inputs[0].name == "input"
        server = await call("ServerMetadata", pb.ServerMetadataRequest(), pb.ServerMetadataResponse)
        assert list(server.extensions) == ["model_repository"]

    serve(tiny_repo, "explicit", check)


def test_successful_infers_are_logged_only_as_sampled(
    tiny_repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def check(call: Client, channel: grpc.aio.Channel) -> None:
        request = pb.ModelInferRequest(model_name="tiny-linear")
        tensor = request.inputs.add(name="input", datatype="FP32", shape=[1, 1])
        tensor.contents.fp32_contents.append(1.0)
        await call("ModelInfer", request, pb.ModelInferResponse)
        request.model_name = "nope"
        await code_of(call("ModelInfer", request, pb.ModelInferResponse))
        await call("ServerLive", pb.ServerLiveRequest(), pb.ServerLiveResponse)

    caplog.set_level("INFO", logger="service.grpc.servicer")
    serve(tiny_repo, "none", check, log_success_sample=0.0)
    logged = [
        (r.fields["path"].rsplit("/", 1)[1], r.fields["status"])  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == "request"
    ]
    assert logged == [("ModelInfer", 404), ("ServerLive", 200)]


def test_a_grpc_port_in_use_stops_the_start(tiny_repo: Path) -> None:
    """Bound without SO_REUSEPORT by someone else: the lifespan fails, as uvicorn's own bind."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = create_app(Settings(models_dir=tiny_repo, grpc_port=port))
        refused = pytest.raises(RuntimeError, match=f"cannot listen for gRPC on 127.0.0.1:{port}")
        with refused, TestClient(app):
            pass
