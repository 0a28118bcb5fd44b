"""The V2 inference data plane: one model version, one request, one answer.

Shared by everything that serves V2 infer: the FastAPI routes (routes/v2.py), the pure-ASGI
fast path (asgi/fastpath.py), and any other transport, which decodes its own message into an
`InferRequest` and calls `infer`. Domain errors are raised, never answered here: each caller
turns them into its transport's error (one function for HTTP, asgi.responses).
"""

from __future__ import annotations

import numpy as np
from starlette.requests import Request
from starlette.responses import Response

from service.protocol.v2 import (
    HEADER_LENGTH,
    InferRequest,
    decode_content,
    decode_infer_request,
    encode_infer_response,
)
from service.runtime.registry import Registry, parse_version
from service.runtime.version import ModelVersion

JSON = "application/json"
BINARY = "application/octet-stream"


def ready_version(registry: Registry, name: str, version: str | None) -> ModelVersion:
    """The ready version a request names (the latest when `version` is None): 404 for an
    unknown model or version, 503 with the reason when it cannot serve."""
    return registry.get_ready(name, parse_version(name, version))


async def infer(mv: ModelVersion, request: InferRequest) -> dict[str, np.ndarray]:
    """Run a decoded request: the outputs it names, in its order, or every output."""
    wanted = [out.name for out in request.outputs] if request.outputs else None
    return await mv.infer(request.inputs, wanted, request.timeout_us)


def binary_outputs(request: InferRequest, results: dict[str, np.ndarray]) -> dict[str, bool]:
    """Which outputs go as binary chunks: each named one as it asks, else the request's flag."""
    if request.outputs:
        return {out.name: out.binary for out in request.outputs}
    return dict.fromkeys(results, request.binary_output)


async def infer_bytes(
    mv: ModelVersion, body: bytes, encoding: str | None, header_length: str | None, limit: int
) -> tuple[bytes, int | None]:
    """V2 REST infer on a raw body: inflate, decode, run, encode; the answer's body and, when
    binary chunks follow its JSON, the JSON's length (the Inference-Header-Content-Length)."""
    body = decode_content(body, encoding, limit)
    decoded = decode_infer_request(body, header_length)
    results = await infer(mv, decoded)
    binary = binary_outputs(decoded, results)
    return encode_infer_response(mv.name, str(mv.version), decoded.id, results, binary)


def response_headers(body: bytes, json_length: int | None) -> list[tuple[bytes, bytes]]:
    """The raw headers of an infer answer, as Starlette's Response writes them for
    `http_response` (the fast path sends these without building a Response)."""
    length = (b"content-length", str(len(body)).encode())
    if json_length is None:
        return [length, (b"content-type", JSON.encode())]
    return [
        (HEADER_LENGTH.encode(), str(json_length).encode()),
        length,
        (b"content-type", BINARY.encode()),
    ]


def http_response(body: bytes, json_length: int | None) -> Response:
    if json_length is None:
        return Response(body, media_type=JSON)
    return Response(body, headers={HEADER_LENGTH: str(json_length)}, media_type=BINARY)


async def infer_http(request: Request, mv: ModelVersion) -> Response:
    """V2 REST infer through a Starlette request (the routes)."""
    limit = request.app.state.settings.max_upload_bytes
    headers = request.headers
    answer = await infer_bytes(
        mv, await request.body(), headers.get("content-encoding"), headers.get(HEADER_LENGTH), limit
    )
    return http_response(*answer)
