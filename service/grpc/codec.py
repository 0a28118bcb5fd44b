"""gRPC tensors <-> numpy: a ModelInferRequest to feeds, results to a ModelInferResponse. Pure.

An input carries its data either in `raw_input_contents` (one little-endian, row-major byte
string per input, in the order of `inputs`) or in its typed `contents` (the repeated field
that matches its datatype: `int_contents` for INT8/16/32, `uint_contents` for UINT8/16/32,
...; FP16 has none, so it travels raw only). The two may not be mixed in one request. The
response answers the way the request asked: raw when the inputs were raw (what
tritonclient.grpc sends), typed when they were typed; raw always when an output is FP16.
`parameters["timeout"]` (microseconds in the queue) is honoured as REST's parameters.timeout.
Every check raises BadRequest, so a bad tensor is INVALID_ARGUMENT and never a crash.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from service.errors import BadRequest
from service.grpc import inference_pb2 as pb
from service.protocol.tensors import (
    array_from_bytes,
    cast,
    check_shape,
    datatype_of,
    dtype_of,
)
from service.protocol.v2 import InferRequest, OutputRequest

CONTENTS: dict[str, tuple[str, np.dtype[Any]]] = {
    "BOOL": ("bool_contents", np.dtype(np.bool_)),
    "INT8": ("int_contents", np.dtype(np.int32)),
    "INT16": ("int_contents", np.dtype(np.int32)),
    "INT32": ("int_contents", np.dtype(np.int32)),
    "INT64": ("int64_contents", np.dtype(np.int64)),
    "UINT8": ("uint_contents", np.dtype(np.uint32)),
    "UINT16": ("uint_contents", np.dtype(np.uint32)),
    "UINT32": ("uint_contents", np.dtype(np.uint32)),
    "UINT64": ("uint64_contents", np.dtype(np.uint64)),
    "FP32": ("fp32_contents", np.dtype(np.float32)),
    "FP64": ("fp64_contents", np.dtype(np.float64)),
}
"""V2 datatype -> (the InferTensorContents field that carries it, that field's numpy type)."""


def decode_infer(request: pb.ModelInferRequest) -> InferRequest:
    """The dataplane's request (`binary_output`: answer raw, as the inputs came); BadRequest
    for any bad tensor."""
    if not request.inputs:
        raise BadRequest("inputs must be a non-empty list of tensors")
    raw = len(request.raw_input_contents) > 0
    if raw and len(request.raw_input_contents) != len(request.inputs):
        raise BadRequest(
            f"raw_input_contents has {len(request.raw_input_contents)} entries "
            f"for {len(request.inputs)} inputs"
        )
    feeds: dict[str, np.ndarray] = {}
    for index, tensor in enumerate(request.inputs):
        if tensor.name in feeds:
            raise BadRequest(f"input {tensor.name!r} is given twice")
        content = request.raw_input_contents[index] if raw else None
        feeds[tensor.name] = decode_input(tensor, content)
    outputs = _requested_outputs(request)
    requested = [OutputRequest(name, raw) for name in outputs] if outputs else None
    return InferRequest(request.id or None, feeds, requested, raw, _timeout_us(request))


def decode_input(tensor: pb.ModelInferRequest.InferInputTensor, raw: bytes | None) -> np.ndarray:
    """One input from its raw bytes (when the request is raw) or its typed contents."""
    name = tensor.name
    shape = check_shape(name, list(tensor.shape))
    dtype_of(name, tensor.datatype)  # an unknown datatype is named before anything else
    if raw is not None:
        if tensor.HasField("contents"):
            raise BadRequest(f"input {name!r} sets contents in a request of raw_input_contents")
        return array_from_bytes(name, tensor.datatype, shape, raw, 0, len(raw))
    if tensor.datatype not in CONTENTS:
        raise BadRequest(f"input {name!r}: {tensor.datatype} data travels in raw_input_contents")
    field, field_dtype = CONTENTS[tensor.datatype]
    for other, _ in tensor.contents.ListFields():
        if other.name != field:
            raise BadRequest(f"input {name!r}: {tensor.datatype} data goes in {field}")
    values = np.asarray(getattr(tensor.contents, field), dtype=field_dtype)
    if values.size != math.prod(shape):
        raise BadRequest(
            f"input {name!r}: shape {list(shape)} needs {math.prod(shape)} values, "
            f"{field} has {values.size}"
        )
    return cast(name, values, tensor.datatype, dtype_of(name, tensor.datatype)).reshape(shape)


def _timeout_us(request: pb.ModelInferRequest) -> int | None:
    """parameters["timeout"]: the microseconds the request may wait in the queue, as REST's
    parameters.timeout (tritonclient.grpc's infer(timeout=...) sends it as int64_param)."""
    if "timeout" not in request.parameters:
        return None
    parameter = request.parameters["timeout"]
    choice = parameter.WhichOneof("parameter_choice")
    value = getattr(parameter, choice) if choice else None
    if choice not in ("int64_param", "uint64_param") or not isinstance(value, int) or value <= 0:
        raise BadRequest(
            f"parameters.timeout must be a positive integer (microseconds), not {value!r}"
        )
    return value


def _requested_outputs(request: pb.ModelInferRequest) -> list[str] | None:
    if not request.outputs:
        return None
    names: list[str] = []
    for output in request.outputs:
        if output.name in names:
            raise BadRequest(f"output {output.name!r} is requested twice")
        names.append(output.name)
    return names


def encode_infer(
    model_name: str,
    model_version: str,
    request_id: str,
    results: dict[str, np.ndarray],
    raw: bool,
) -> pb.ModelInferResponse:
    """The response: every output's name, datatype and shape, and its data raw or typed."""
    response = pb.ModelInferResponse(
        model_name=model_name, model_version=model_version, id=request_id
    )
    raw = raw or any(datatype_of(a.dtype) not in CONTENTS for a in results.values())
    for name, array in results.items():
        datatype = datatype_of(array.dtype)
        tensor = response.outputs.add(name=name, datatype=datatype, shape=list(array.shape))
        if raw:
            little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
            response.raw_output_contents.append(little.tobytes())
        else:
            getattr(tensor.contents, CONTENTS[datatype][0]).extend(array.reshape(-1).tolist())
    return response
