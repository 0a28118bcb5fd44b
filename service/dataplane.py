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
from service.runtime.registry import ModelVersion, Registry, parse_version

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


async def infer_http(request: Request, mv: ModelVersion) -> Response:
    """V2 REST infer: decode the body, run, encode; binary outputs follow the JSON."""
    limit = request.app.state.settings.max_upload_bytes
    body = decode_content(await request.body(), request.headers.get("content-encoding"), limit)
    decoded = decode_infer_request(body, request.headers.get(HEADER_LENGTH))
    results = await infer(mv, decoded)
    binary = binary_outputs(decoded, results)
    body, json_length = encode_infer_response(mv.name, str(mv.version), decoded.id, results, binary)
    if json_length is None:
        return Response(body, media_type=JSON)
    return Response(body, headers={HEADER_LENGTH: str(json_length)}, media_type=BINARY)
