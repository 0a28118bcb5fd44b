"""The RPCs of inference.GRPCInferenceService, each a thin call into the shared service code.

Every RPC goes through `Servicer.handler`: the request id from the `x-request-id` metadata
(else a fresh one), one JSON `request` log line and the request metrics as for REST (endpoint
`grpc:<Method>`; the status label is the HTTP status REST gives the same outcome, so one
dashboard counts both transports), and domain errors turned into their gRPC status codes. An
unexpected exception is logged with its traceback and answered INTERNAL "internal error".
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message

from service import dataplane
from service.errors import BadRequest, NNServeError
from service.grpc import inference_pb2 as pb
from service.grpc.codec import decode_infer, encode_infer
from service.grpc.status import grpc_code
from service.logs import request_id_var
from service.metrics import Metrics
from service.runtime.registry import Registry, parse_version
from service.runtime.repository import ModelControl

log = logging.getLogger(__name__)

SERVICE = "inference.GRPCInferenceService"
PLATFORM = "onnxruntime_onnx"
CLIENT_CLOSED = 499
"""Logged status of a call the client cancelled (nginx's convention, as for REST)."""
_MAX_ID_LENGTH = 128

Behaviour = Callable[[Any], Awaitable[Any]]


@dataclass
class Servicer:
    """What the RPCs serve: the app's registry and metrics, and the server's version."""

    registry: Registry
    control: ModelControl
    metrics: Metrics
    version: str
    log_success_sample: float = 1.0
    """Fraction of successful ModelInfer calls logged (NNSERVE_LOG_SUCCESS_SAMPLE, as REST)."""

    @property
    def extensions(self) -> list[str]:
        """Triton's name for the repository calls, listed while model control is on."""
        return [] if self.control.mode == "none" else ["model_repository"]

    def generic_handler(self) -> grpc.GenericRpcHandler:
        """Every RPC of the service, looked up by the names in inference.proto."""
        service = pb.DESCRIPTOR.services_by_name["GRPCInferenceService"]
        handlers = {}
        for method in service.methods:
            behaviour: Behaviour = getattr(self, _snake(method.name))
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                self.handler(method.name, behaviour),
                request_deserializer=_parser(getattr(pb, method.input_type.name)),
                response_serializer=getattr(pb, method.output_type.name).SerializeToString,
            )
        return grpc.method_handlers_generic_handler(SERVICE, handlers)

    def handler(self, method: str, behaviour: Behaviour) -> Callable[[Any, Any], Awaitable[Any]]:
        """`behaviour` with the request id, the log line, the metrics and the error rules."""

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            token = request_id_var.set(_request_id(context))
            start, status = time.perf_counter(), CLIENT_CLOSED
            try:
                if isinstance(request, Undecodable):
                    raise BadRequest(f"the request is not a valid {method} message: {request}")
                response = await behaviour(request)
                status = 200
                return response
            except NNServeError as exc:
                status = exc.status_code
                await context.abort(grpc_code(status), exc.message)
            except Exception:  # answered, never sent: the traceback stays in the log
                status = 500
                log.exception("unhandled error in gRPC %s", method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                self._record(method, request, status, time.perf_counter() - start)
                request_id_var.reset(token)

        return call

    def _record(self, method: str, request: Any, status: int, seconds: float) -> None:
        name = getattr(request, "model_name", None) or getattr(request, "name", None)
        model = name if isinstance(name, str) and name in self.registry else "-"
        endpoint = f"grpc:{method}"
        self.metrics.observe_request(endpoint, model, status, seconds)
        if status < 400 and method == "ModelInfer" and random.random() >= self.log_success_sample:
            return
        fields = {
            "request_id": request_id_var.get(),
            "method": "gRPC",
            "path": f"/{SERVICE}/{method}",
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "endpoint": endpoint,
            "model": model,
        }
        log.info("request", extra={"fields": fields})

    async def server_live(self, request: pb.ServerLiveRequest) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=True)

    async def server_ready(self, request: pb.ServerReadyRequest) -> pb.ServerReadyResponse:
        """Ready when every model version is (Triton's rule, as GET /v2/health/ready)."""
        return pb.ServerReadyResponse(ready=not self.registry.not_ready())

    async def model_ready(self, request: pb.ModelReadyRequest) -> pb.ModelReadyResponse:
        """NOT_FOUND for an unknown model or version; ready false, not an error, when it is
        known but cannot serve (the message has a field for that answer)."""
        mv = self.registry.get(request.name, parse_version(request.name, request.version or None))
        return pb.ModelReadyResponse(ready=mv.ready)

    async def server_metadata(self, request: pb.ServerMetadataRequest) -> pb.ServerMetadataResponse:
        return pb.ServerMetadataResponse(
            name="nnserve", version=self.version, extensions=self.extensions
        )

    async def model_metadata(self, request: pb.ModelMetadataRequest) -> pb.ModelMetadataResponse:
        mv = self.registry.get(request.name, parse_version(request.name, request.version or None))
        if request.version:
            versions = [str(mv.version)]
        else:
            versions = [str(v.version) for v in self.registry.versions() if v.name == mv.name]
        tensors = {k: [TensorMetadata(**t) for t in v] for k, v in mv.tensors().items()}
        return pb.ModelMetadataResponse(
            name=mv.name, versions=versions, platform=PLATFORM, **tensors
        )

    async def model_infer(self, request: pb.ModelInferRequest) -> pb.ModelInferResponse:
        mv = dataplane.ready_version(
            self.registry, request.model_name, request.model_version or None
        )
        decoded = decode_infer(request)
        results = await dataplane.infer(mv, decoded)
        return encode_infer(mv.name, str(mv.version), request.id, results, decoded.binary_output)

    async def repository_index(
        self, request: pb.RepositoryIndexRequest
    ) -> pb.RepositoryIndexResponse:
        """Triton's index: every model version on disk or loaded, with its state and reason."""
        entries = self.control.index(ready_only=request.ready)
        return pb.RepositoryIndexResponse(
            models=[pb.RepositoryIndexResponse.ModelIndex(**e.as_dict()) for e in entries]
        )

    async def repository_model_load(
        self, request: pb.RepositoryModelLoadRequest
    ) -> pb.RepositoryModelLoadResponse:
        await self.control.load(request.model_name)
        return pb.RepositoryModelLoadResponse()

    async def repository_model_unload(
        self, request: pb.RepositoryModelUnloadRequest
    ) -> pb.RepositoryModelUnloadResponse:
        await self.control.unload(request.model_name)
        return pb.RepositoryModelUnloadResponse()


TensorMetadata = pb.ModelMetadataResponse.TensorMetadata


def _request_id(context: grpc.aio.ServicerContext) -> str:
    """The client's x-request-id metadata when short printable ASCII, else a fresh one."""
    for key, value in context.invocation_metadata() or ():
        usable = isinstance(value, str) and 0 < len(value) <= _MAX_ID_LENGTH
        if key == "x-request-id" and usable and value.isascii() and value.isprintable():
            return str(value)
    return secrets.token_hex(16)


class Undecodable(str):
    """What a request that is not a protobuf message parses to: the handler answers it
    INVALID_ARGUMENT (a parser that raised would make grpcio answer UNKNOWN)."""


def _parser(message: type[Message]) -> Callable[[bytes], Message | Undecodable]:
    def parse(data: bytes) -> Message | Undecodable:
        try:
            return message.FromString(data)
        except DecodeError as exc:
            return Undecodable(exc)

    return parse


def _snake(method: str) -> str:
    """ModelInfer -> model_infer: the Python name of an RPC."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in method).lstrip("_")
