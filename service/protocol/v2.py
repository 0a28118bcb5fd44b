"""V2 inference request and response bodies, JSON and binary tensor data extension. Pure.

Request: `{"id"?, "parameters"?: {"binary_data_output"?}, "inputs": [{"name", "datatype",
"shape", "data" | "parameters": {"binary_data_size"}}], "outputs"?: [{"name", "parameters"?:
{"binary_data"?}}]}`; when any input is binary, the header `Inference-Header-Content-Length`
says where the JSON ends and the input chunks begin. The response mirrors it: binary outputs
carry `parameters.binary_data_size` and follow the JSON, whose length goes in the same header.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from service.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from service.protocol import simd
from service.protocol.tensors import (
    array_from_bytes,
    array_from_data,
    check_shape,
    datatype_of,
)

HEADER_LENGTH = "inference-header-content-length"


@dataclass(frozen=True)
class OutputRequest:
    """One entry of the request's `outputs`: which tensor, and whether to send it as binary."""

    name: str
    binary: bool


@dataclass(frozen=True)
class InferRequest:
    """A decoded V2 inference request."""

    id: str | None
    inputs: dict[str, np.ndarray]
    outputs: list[OutputRequest] | None
    binary_output: bool
    timeout_us: int | None = None
    """parameters.timeout: microseconds it may wait in the queue (Triton's meaning)."""


def decode_content(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo a gzip or deflate Content-Encoding (tritonclient's request compression), never
    inflating past `limit` bytes: a small compressed body must not become a huge one."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding not in ("gzip", "deflate"):
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding} is not supported; use gzip or deflate"
        )
    inflater = zlib.decompressobj(zlib.MAX_WBITS | (16 if encoding == "gzip" else 0))
    try:
        inflated = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadRequest(f"the {encoding} body is corrupt: {exc}") from None
    if len(inflated) > limit:
        raise PayloadTooLarge(f"the {encoding} body inflates past the limit of {limit} bytes")
    if not inflater.eof:
        raise BadRequest(f"the {encoding} body is truncated")
    return inflated


def decode_infer_request(body: bytes, header_length: str | None) -> InferRequest:
    """Parse a V2 inference body; `header_length` is the Inference-Header-Content-Length value."""
    json_end = _json_length(body, header_length)
    # all JSON: simdjson's float data straight to numpy, else (binary chunks follow, or a
    # body it cannot read exactly as orjson would) orjson, which also words every error
    message = simd.load_message(body) if json_end == len(body) else None
    if message is None:
        message = _load_object(body[:json_end] if json_end < len(body) else body)
    inputs = _decode_inputs(message.get("inputs"), body, json_end)
    request_id = message.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise BadRequest("id must be a string")
    parameters = _parameters(message, "request")
    binary_output = _flag(parameters, "binary_data_output", False)
    return InferRequest(
        id=request_id,
        inputs=inputs,
        outputs=_decode_outputs(message.get("outputs"), binary_output),
        binary_output=binary_output,
        timeout_us=_timeout(parameters),
    )


def _timeout(parameters: dict[str, Any]) -> int | None:
    """parameters.timeout: a positive whole number of microseconds, or absent."""
    value = parameters.get("timeout")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadRequest(
            f"parameters.timeout must be a positive integer (microseconds), not {value!r}"
        )
    return value


def encode_infer_response(
    model_name: str,
    model_version: str,
    request_id: str | None,
    outputs: dict[str, np.ndarray],
    binary: dict[str, bool],
) -> tuple[bytes, int | None]:
    """The response body, and the JSON part's length when binary chunks follow it."""
    tensors: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for name, array in outputs.items():
        tensor: dict[str, Any] = {
            "name": name,
            "datatype": datatype_of(array.dtype),
            "shape": list(array.shape),
        }
        if binary.get(name, False):
            chunk = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
            tensor["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            tensor["data"] = np.ascontiguousarray(array).reshape(-1)
        tensors.append(tensor)
    response: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request_id is not None:
        response["id"] = request_id
    response["outputs"] = tensors
    header = orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY)
    if not chunks:
        return header, None
    return b"".join([header, *chunks]), len(header)


def _json_length(body: bytes, header_length: str | None) -> int:
    if header_length is None:
        return len(body)
    try:
        length = int(header_length)
    except ValueError:
        raise BadRequest("Inference-Header-Content-Length must be an integer") from None
    if not 0 < length <= len(body):
        raise BadRequest(
            f"Inference-Header-Content-Length {length} is outside the body's {len(body)} bytes"
        )
    return length


def _load_object(text: bytes) -> dict[str, Any]:
    if not text.strip():
        raise BadRequest("request body is empty; send a V2 inference request as JSON")
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(message, dict):
        raise BadRequest("request body must be a JSON object")
    return message


def _parameters(holder: dict[str, Any], what: str) -> dict[str, Any]:
    parameters = holder.get("parameters", {})
    if not isinstance(parameters, dict):
        raise BadRequest(f"{what} parameters must be an object")
    return parameters


def _flag(parameters: dict[str, Any], key: str, default: bool) -> bool:
    value = parameters.get(key, default)
    if not isinstance(value, bool):
        raise BadRequest(f"parameter {key} must be true or false")
    return value


def _decode_inputs(inputs: Any, body: bytes, json_end: int) -> dict[str, np.ndarray]:
    """Every input tensor; binary chunks are consumed in order after the JSON."""
    if not isinstance(inputs, list) or not inputs:
        raise BadRequest("inputs must be a non-empty list of tensors")
    arrays: dict[str, np.ndarray] = {}
    offset = json_end
    for tensor in inputs:
        name, array, size = _decode_input(tensor, body, offset)
        if name in arrays:
            raise BadRequest(f"input {name!r} is given twice")
        arrays[name] = array
        offset += size
    if offset != len(body):
        raise BadRequest(f"{len(body) - offset} bytes of binary data follow no input")
    return arrays


def _decode_input(tensor: Any, body: bytes, offset: int) -> tuple[str, np.ndarray, int]:
    """One input: (name, array, bytes of binary data it used)."""
    if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
        raise BadRequest("each input must be an object with a string name")
    name: str = tensor["name"]
    shape = check_shape(name, tensor.get("shape"))
    datatype = tensor.get("datatype")
    size = _parameters(tensor, f"input {name!r}").get("binary_data_size")
    if size is None:
        if "data" not in tensor:
            raise BadRequest(f"input {name!r} has neither data nor binary_data_size")
        return name, array_from_data(name, str(datatype), shape, tensor["data"]), 0
    if "data" in tensor:
        raise BadRequest(f"input {name!r} has both data and binary_data_size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise BadRequest(f"input {name!r}: binary_data_size must be a non-negative integer")
    if offset + size > len(body):
        raise BadRequest(
            f"input {name!r}: binary_data_size {size} runs past the end of the body "
            "(is the Inference-Header-Content-Length header set?)"
        )
    return name, array_from_bytes(name, str(datatype), shape, body, offset, size), size


def _decode_outputs(outputs: Any, binary_output: bool) -> list[OutputRequest] | None:
    """Requested outputs; each is binary when it says so, else as the request says."""
    if outputs is None:
        return None
    if not isinstance(outputs, list) or not outputs:
        raise BadRequest("outputs must be a non-empty list of {name} objects")
    requested: list[OutputRequest] = []
    for output in outputs:
        if not isinstance(output, dict) or not isinstance(output.get("name"), str):
            raise BadRequest("each output must be an object with a string name")
        if any(seen.name == output["name"] for seen in requested):
            raise BadRequest(f"output {output['name']!r} is requested twice")
        parameters = _parameters(output, f"output {output['name']!r}")
        requested.append(
            OutputRequest(output["name"], _flag(parameters, "binary_data", binary_output))
        )
    return requested
