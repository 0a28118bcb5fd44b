"""Open Inference Protocol (V2) tensors: JSON and binary bodies to numpy and back. Pure.

The V2 JSON body carries each tensor as `data` (a flat or nested list, row-major). With the
binary tensor data extension a tensor instead sets `parameters.binary_data_size` and its raw
little-endian bytes follow the JSON, whose length the `Inference-Header-Content-Length`
header gives; tensors' chunks come in the order the inputs are listed. Bodies are parsed by
orjson and turned into arrays by numpy in C: no Python loop ever touches an element.
"""

from __future__ import annotations

import math
from array import array
from typing import Any

import numpy as np

from service.errors import BadRequest

DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
}
"""V2 datatype -> numpy dtype (BYTES, strings, is not served: every model takes numbers)."""

# Keyed by dtype.str ("<f4"): hashing a numpy dtype object costs microseconds, a string does not.
_V2_OF_DTYPE = {dtype.str: name for name, dtype in DATATYPES.items()}
_ORT_NAMES = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float",
    "FP64": "double",
}
ORT_TYPES: dict[str, tuple[str, np.dtype[Any]]] = {
    f"tensor({ort_name})": (name, DATATYPES[name]) for name, ort_name in _ORT_NAMES.items()
}
"""onnxruntime's NodeArg.type string -> (V2 datatype, numpy dtype)."""

EXACT_INTEGERS = 2.0**53
"""Integers below this size are exact in float64: a flat list of them may be read as doubles."""

_FLOAT_MAX = {name: float(np.finfo(DATATYPES[name]).max) for name in ("FP16", "FP32", "FP64")}
"""The largest finite value of each float datatype: a value within it casts without overflow."""

MAX_ELEMENTS = 2**31 - 1
"""Most elements one tensor may declare; a larger shape is an overflowing dimension."""

_KINDS = {"b": "BOOL", "i": "integers", "u": "integers", "f": "numbers"}


def datatype_of(dtype: np.dtype[Any]) -> str:
    """The V2 datatype name of a numpy dtype (its numpy name when V2 has none)."""
    return _V2_OF_DTYPE.get(dtype.str) or str(dtype)


def check_finite(name: str, array: np.ndarray) -> None:
    """Reject NaN and Inf in a floating tensor (the models' outputs would be meaningless)."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise BadRequest(f"input {name!r} contains NaN or Inf (or a value beyond its datatype)")


def check_shape(name: str, shape: Any) -> tuple[int, ...]:
    """A V2 shape: a list of non-negative integers whose product is neither 0 nor overflowing."""
    if not isinstance(shape, list) or not all(
        isinstance(dim, int) and not isinstance(dim, bool) for dim in shape
    ):
        raise BadRequest(f"input {name!r}: shape must be a list of integers")
    if any(dim < 0 for dim in shape):
        raise BadRequest(f"input {name!r}: shape {shape} has a negative dimension")
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise BadRequest(f"input {name!r}: shape {shape} overflows ({count} elements)")
    if count == 0:
        raise BadRequest(f"input {name!r}: shape {shape} is empty")
    return tuple(shape)


def dtype_of(name: str, datatype: Any) -> np.dtype[Any]:
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise BadRequest(
            f"input {name!r}: unsupported datatype {datatype!r}; use one of {sorted(DATATYPES)}"
        )
    return DATATYPES[datatype]


def array_from_data(name: str, datatype: str, shape: tuple[int, ...], data: Any) -> np.ndarray:
    """JSON `data` (flat or nested, row-major) -> an array of `datatype` and `shape`."""
    dtype = dtype_of(name, datatype)
    bound = _FLOAT_MAX.get(datatype)
    if bound is not None:  # a float tensor: most often a flat list of numbers, read at once
        # an array: protocol/simd.py read a flat list within the bound into doubles already
        doubles = data if isinstance(data, np.ndarray) else float_list(data, bound)
        if doubles is not None and doubles.size == math.prod(shape):
            return doubles.astype(dtype, copy=False).reshape(shape)  # finite: JSON has no NaN
    raw = data if isinstance(data, np.ndarray) else numeric_array(name, data)
    if raw.size != math.prod(shape):
        raise BadRequest(
            f"input {name!r}: shape {list(shape)} needs {math.prod(shape)} values, "
            f"data has {raw.size}"
        )
    return cast(name, raw, datatype, dtype).reshape(shape)


def array_from_bytes(
    name: str, datatype: str, shape: tuple[int, ...], body: bytes, offset: int, size: int
) -> np.ndarray:
    """`size` raw little-endian bytes of `body` at `offset` -> an array, without a copy;
    NaN and Inf refused, as in JSON data."""
    dtype = dtype_of(name, datatype).newbyteorder("<")
    count = math.prod(shape)
    if size != count * dtype.itemsize:
        raise BadRequest(
            f"input {name!r}: shape {list(shape)} of {datatype} needs "
            f"{count * dtype.itemsize} bytes, binary_data_size is {size}"
        )
    array = np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(shape)
    check_finite(name, array)
    # An unaligned view is legal numpy but not something to hand to a native kernel.
    return array if array.flags.aligned else array.copy()


def float_list(data: Any, bound: float) -> np.ndarray | None:
    """A flat list of JSON numbers, none beyond `bound` in size, as float64, read by the array
    module in C (without np.asarray's type and shape discovery); None for anything else:
    nested lists, booleans first, strings, nulls, larger values, an all-integer list with an
    integer past EXACT_INTEGERS. Those take the general way (numeric_array, then `cast`),
    which gives their errors; what this reads, that way would have read the same."""
    if not isinstance(data, list) or not data or isinstance(data[0], bool):
        return None  # booleans: numeric_array tells an all-boolean list from numbers
    try:
        doubles = np.frombuffer(array("d", data), dtype=np.float64)
    except (TypeError, OverflowError):  # not all numbers (bools among them are: as there)
        return None
    if not isinstance(data[0], float):
        # may be all integers, which numeric_array reads as int64 and casts once: the same
        # values only while each is exact as a double (float16/32 would else round twice)
        bound = min(bound, EXACT_INTEGERS - 1)
    return doubles if np.abs(doubles).max() <= bound else None


def numeric_array(name: str, data: Any) -> np.ndarray:
    """A JSON list of numbers (or booleans), any nesting -> an array, ragged or mixed refused."""
    if not isinstance(data, list):
        raise BadRequest(f"input {name!r}: data must be a list")
    try:
        raw = np.asarray(data)
    except (ValueError, TypeError, OverflowError):
        raise BadRequest(f"input {name!r}: data is ragged (rows of different lengths)") from None
    if raw.dtype.kind not in _KINDS:
        raise BadRequest(f"input {name!r}: data must hold only numbers (or booleans)")
    return raw


def cast(name: str, raw: np.ndarray, datatype: str, dtype: np.dtype[Any]) -> np.ndarray:
    """Convert parsed JSON numbers to `dtype`, refusing values the datatype cannot hold."""
    if dtype.kind == "b" and raw.dtype.kind != "b":
        raise BadRequest(f"input {name!r}: {datatype} data must be true or false")
    if raw.dtype.kind == "b" and dtype.kind != "b":
        raise BadRequest(f"input {name!r}: {datatype} data must be numbers, not true/false")
    if dtype.kind in "iu":
        if raw.dtype.kind == "f":
            raise BadRequest(f"input {name!r}: {datatype} data must be integers")
        info = np.iinfo(dtype)
        if raw.size and (raw.min() < info.min or raw.max() > info.max):
            raise BadRequest(f"input {name!r}: a value is out of {datatype}'s range")
    with np.errstate(over="ignore"):  # overflow becomes Inf, which check_finite names
        array = raw.astype(dtype, copy=False)
    check_finite(name, array)
    return array
