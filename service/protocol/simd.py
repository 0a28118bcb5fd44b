"""V2 JSON bodies read by simdjson, a float tensor's `data` straight into numpy. Pure.

orjson turns one image's 784 numbers into 784 Python floats in a list, which the array module
then reads back into doubles and the allocator frees again; simdjson parses the body into its
own tape, and a flat array of numbers is copied from there into one buffer in C
(`Array.as_buffer`), so no Python float is ever made. Measured in-process, one 28x28 image
(9.3 kB, load1 3-5): decode_infer_request 40 -> 28 us (best of repeats); the whole app under
uvloop, requests alternating between the two ways: CPU per request p50 281 -> 269 us, mean
278 -> 268. Everything but the float tensors' `data` becomes the dicts and lists orjson makes.

This is a fast way in, never a second dialect: whatever it cannot read exactly as orjson would
(invalid JSON, a byte-order mark, a duplicate key, big integers, `data` that is nested, empty,
holds anything but numbers, or a value an integer-or-float reading could round differently)
makes `load_message` answer None, and the caller reads the body with orjson, which also words
the error. Without the simdjson package installed, every body goes that way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import simdjson
except ImportError:  # pragma: no cover - an optional speed-up: orjson reads every body then
    simdjson = None  # type: ignore[assignment]

FLOATS = {"FP16": 65504.0, "FP32": 3.4028234663852886e38, "FP64": 1.7976931348623157e308}
"""Float datatypes and their largest finite value: data beyond it goes orjson's way, which
refuses it."""
EXACT = 2.0**53
"""Below this size an integer is exact as a double, so reading `[1, 2]` as doubles is what
orjson's integers, cast once, give (the general path's rule, tensors.EXACT_INTEGERS)."""
_BOM = b"\xef\xbb\xbf"
_FAILURES = (ValueError, TypeError, RuntimeError, KeyError, IndexError, MemoryError)
"""What simdjson raises for a body it cannot read (or a type it was not asked for)."""


def available() -> bool:
    return simdjson is not None


def load_message(body: bytes) -> dict[str, Any] | None:
    """The JSON object `body` holds, as orjson reads it but for each float input's flat `data`,
    which is a float64 array already (no value beyond its datatype's range or 2**53); None
    when the body is not such an object or cannot be read exactly so."""
    if simdjson is None or body.startswith(_BOM):  # orjson refuses a BOM; simdjson skips it
        return None
    try:
        document = simdjson.Parser().parse(body)
        if not isinstance(document, simdjson.Object):
            return None
        found = _message(document)
    except _FAILURES:
        return None
    if found is None:
        return None
    message, arrays = found
    # Every '[' of the body is an array that was read: none hid inside a `data` array
    # (as_buffer flattens nested lists, which orjson's reading refuses or shapes) or a string.
    return message if body.count(b"[") == arrays else None


def _keys(item: Any) -> list[str] | None:
    """An object's keys, None when one repeats (simdjson finds the first, orjson keeps the last)."""
    keys = list(item.keys())
    return keys if len(set(keys)) == len(keys) else None


def _message(document: Any) -> tuple[dict[str, Any], int] | None:
    """(the top-level object, the arrays it holds), the inputs read with their float data."""
    keys = _keys(document)
    if keys is None:
        return None
    message: dict[str, Any] = {}
    arrays = 0
    for key in keys:
        value = document[key]
        if key == "inputs" and isinstance(value, simdjson.Array):
            found = _inputs(value)
            if found is None:
                return None
            message[key], count = found
        else:
            message[key] = plain(value)
            count = array_count(message[key])
        arrays += count
    return message, arrays


def _inputs(inputs: Any) -> tuple[list[Any], int] | None:
    tensors: list[Any] = []
    arrays = 1  # the inputs list itself
    for index in range(len(inputs)):
        item = inputs[index]
        if not isinstance(item, simdjson.Object):
            tensors.append(plain(item))
            arrays += array_count(tensors[-1])
            continue
        keys = _keys(item)
        if keys is None:
            return None
        tensor = {key: item[key] for key in keys}
        datatype = tensor.get("datatype")
        for key, value in tensor.items():
            if key == "data" and isinstance(datatype, str) and datatype in FLOATS:
                tensor[key] = doubles(value, FLOATS[datatype])
            else:
                tensor[key] = plain(value)
            arrays += array_count(tensor[key])
        tensors.append(tensor)
    return tensors, arrays


def doubles(data: Any, bound: float) -> Any:
    """A flat, non-empty array of numbers within `bound` (and 2**53) as float64; anything
    else as orjson would have read it, for the general path to take (or refuse)."""
    if not isinstance(data, simdjson.Array) or len(data) == 0:
        return plain(data)
    try:
        values = np.frombuffer(data.as_buffer(of_type="d"), dtype=np.float64)
    except TypeError:  # booleans, nulls, strings among the numbers
        return data.as_list()
    limit = min(bound, EXACT)
    if values.size != len(data) or not -limit < values.min() <= values.max() < limit:
        return data.as_list()  # nested (flattened), or values the general path must judge
    return values


def plain(value: Any) -> Any:
    """A simdjson value as orjson makes it: dicts, lists and Python scalars."""
    if isinstance(value, simdjson.Object):
        return value.as_dict()
    if isinstance(value, simdjson.Array):
        return value.as_list()
    return value


def array_count(value: Any) -> int:
    """How many JSON arrays a value read from the body holds, itself included (a float64
    array read from one counts one)."""
    if isinstance(value, list):
        count = 1
        for item in value:
            if isinstance(item, list | dict):
                count += array_count(item)
        return count
    if isinstance(value, dict):
        return sum(array_count(item) for item in value.values() if isinstance(item, list | dict))
    return 1 if isinstance(value, np.ndarray) else 0
