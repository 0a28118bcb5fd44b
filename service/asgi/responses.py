"""JSON responses written by orjson (numpy arrays included), and the error body's shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi.responses import Response

from service.errors import NNServeError

JSON = "application/json"


def json_response(
    content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """Serialize with orjson; numpy arrays become lists without a Python loop."""
    body = orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(body, status_code=status_code, headers=headers, media_type=JSON)


def domain_error_response(exc: NNServeError) -> Response:
    """The answer to a domain error, wherever it is caught: its status, message, details
    and headers (the app's exception handler and the infer fast path both call this)."""
    return error_response(exc.status_code, exc.message, exc.details, exc.headers)


def error_response(
    status_code: int,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Every non-2xx answer: `{"error": message}`, plus `details` when there are any."""
    content: dict[str, Any] = {"error": message}
    if details is not None:
        content["details"] = details
    return json_response(content, status_code, headers)
