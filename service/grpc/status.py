"""Domain errors -> gRPC status codes: the same rules as REST, in gRPC's words.

A bad tensor (400, 415, 422) is INVALID_ARGUMENT, an unknown model or version (404)
NOT_FOUND, a model that is not ready (503) UNAVAILABLE, anything past a size limit (413)
RESOURCE_EXHAUSTED (grpcio itself answers that for a message over the size limit, before any
handler runs), the repository calls while model control is off (403) FAILED_PRECONDITION; a
bad input is never UNKNOWN or INTERNAL.
"""

from __future__ import annotations

import grpc

GRPC_CODES: dict[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    403: grpc.StatusCode.FAILED_PRECONDITION,
    404: grpc.StatusCode.NOT_FOUND,
    405: grpc.StatusCode.UNIMPLEMENTED,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    503: grpc.StatusCode.UNAVAILABLE,
}


def grpc_code(http_status: int) -> grpc.StatusCode:
    """The gRPC code for the HTTP status REST answers the same error with."""
    if http_status in GRPC_CODES:
        return GRPC_CODES[http_status]
    return (
        grpc.StatusCode.INVALID_ARGUMENT if 400 <= http_status < 500 else grpc.StatusCode.INTERNAL
    )
