"""V2 tensors and bodies to numpy and back: flat and nested JSON, binary extension, every check."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import numpy as np
import orjson
import pytest

from service.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from service.protocol.tensors import (
    DATATYPES,
    array_from_bytes,
    array_from_data,
    cast,
    check_shape,
    float_list,
    numeric_array,
)
from service.protocol.v1 import instances_array
from service.protocol.v2 import decode_content, decode_infer_request, encode_infer_response


def body(*inputs: dict[str, Any], **extra: Any) -> bytes:
    return orjson.dumps({"inputs": list(inputs), **extra})


def tensor(data: Any, shape: list[int], datatype: str = "FP32", name: str = "x") -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}


def binary_body(arrays: dict[str, np.ndarray], **extra: Any) -> tuple[bytes, str]:
    """A binary-extension body and its Inference-Header-Content-Length, as tritonclient makes."""
    inputs = [
        {
            "name": name,
            "datatype": {"float32": "FP32", "int64": "INT64"}[str(a.dtype)],
            "shape": list(a.shape),
            "parameters": {"binary_data_size": a.nbytes},
        }
        for name, a in arrays.items()
    ]
    header = orjson.dumps({"inputs": inputs, **extra})
    return header + b"".join(a.tobytes() for a in arrays.values()), str(len(header))


def test_flat_and_nested_data_give_the_same_array() -> None:
    flat = decode_infer_request(body(tensor([1, 2, 3, 4, 5, 6], [2, 3])), None)
    nested = decode_infer_request(body(tensor([[1, 2, 3], [4, 5, 6]], [2, 3])), None)
    want = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    for decoded in (flat, nested):
        assert decoded.inputs["x"].dtype == np.float32
        np.testing.assert_array_equal(decoded.inputs["x"], want)


def test_request_id_outputs_and_binary_flags() -> None:
    decoded = decode_infer_request(
        body(
            tensor([1.0], [1, 1]),
            id="req-1",
            outputs=[{"name": "a"}, {"name": "b", "parameters": {"binary_data": True}}],
        ),
        None,
    )
    assert decoded.id == "req-1"
    assert [(o.name, o.binary) for o in decoded.outputs or []] == [("a", False), ("b", True)]
    everything = decode_infer_request(
        body(tensor([1.0], [1, 1]), parameters={"binary_data_output": True}), None
    )
    assert everything.outputs is None and everything.binary_output is True


def test_binary_inputs_are_read_in_order_without_copies() -> None:
    x = np.random.default_rng(0).normal(size=(3, 784)).astype(np.float32)
    y = np.array([1, 2, 3], dtype=np.int64)
    raw, length = binary_body({"x": x, "y": y})
    decoded = decode_infer_request(raw, length)
    np.testing.assert_array_equal(decoded.inputs["x"], x)
    np.testing.assert_array_equal(decoded.inputs["y"], y)


def test_binary_data_is_a_view_when_aligned_and_an_aligned_copy_when_not() -> None:
    raw = np.arange(4, dtype=np.float32).tobytes()
    view = array_from_bytes("x", "FP32", (4,), raw, 0, 16)
    assert view.base is not None and view.tolist() == [0, 1, 2, 3]
    shifted = array_from_bytes("x", "FP32", (4,), b"ab" + raw, 2, 16)
    assert shifted.flags.aligned and shifted.tolist() == [0, 1, 2, 3]


def test_mixed_binary_and_json_inputs() -> None:
    x = np.ones((2, 2), dtype=np.float32)
    header = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "x",
                    "datatype": "FP32",
                    "shape": [2, 2],
                    "parameters": {"binary_data_size": 16},
                },
                tensor([[7]], [1, 1], "INT64", name="y"),
            ]
        }
    )
    decoded = decode_infer_request(header + x.tobytes(), str(len(header)))
    np.testing.assert_array_equal(decoded.inputs["x"], x)
    assert decoded.inputs["y"].tolist() == [[7]]


def test_encode_json_and_binary_outputs() -> None:
    probabilities = np.array([[0.25, 0.75]], dtype=np.float32)
    logits = np.array([[1.0, 2.0]], dtype=np.float32)
    outputs = {"logits": logits, "probabilities": probabilities}
    raw, length = encode_infer_response("m", "1", "7", outputs, {"probabilities": True})
    assert length is not None
    header = orjson.loads(raw[:length])
    assert header == {
        "model_name": "m",
        "model_version": "1",
        "id": "7",
        "outputs": [
            {"name": "logits", "datatype": "FP32", "shape": [1, 2], "data": [1.0, 2.0]},
            {
                "name": "probabilities",
                "datatype": "FP32",
                "shape": [1, 2],
                "parameters": {"binary_data_size": 8},
            },
        ],
    }
    np.testing.assert_array_equal(np.frombuffer(raw[length:], dtype="<f4"), [0.25, 0.75])
    plain, none = encode_infer_response("m", "1", None, {"logits": logits}, {})
    assert none is None and "id" not in orjson.loads(plain)


@pytest.mark.parametrize(
    ("datatype", "data", "dtype"),
    [
        ("FP64", [1.5], np.float64),
        ("INT64", [3], np.int64),
        ("INT32", [-3], np.int32),
        ("BOOL", [True], np.bool_),
        ("UINT8", [255], np.uint8),
        ("FP16", [0.5], np.float16),
    ],
)
def test_datatypes(datatype: str, data: list[Any], dtype: type) -> None:
    array = array_from_data("x", datatype, (1,), data)
    assert array.dtype == dtype and array.tolist() == data


BAD_BODIES: list[tuple[bytes, str | None, str]] = [
    (b"", None, "request body is empty; send a V2 inference request as JSON"),
    (b"[1, 2]", None, "request body must be a JSON object"),
    (b'{"inputs": []}', None, "inputs must be a non-empty list of tensors"),
    (b'{"inputs": [5]}', None, "each input must be an object with a string name"),
    (body(tensor([1, 2], [2]), id=5), None, "id must be a string"),
    (body(tensor([1, 2], [3])), None, "input 'x': shape [3] needs 3 values, data has 2"),
    (body(tensor([1, 2], [-1, 2])), None, "input 'x': shape [-1, 2] has a negative dimension"),
    (
        body(tensor([1], [2**40, 2**40])),
        None,
        "input 'x': shape [1099511627776, 1099511627776] overflows "
        "(1208925819614629174706176 elements)",
    ),
    (body(tensor([], [0, 2])), None, "input 'x': shape [0, 2] is empty"),
    (body(tensor([1], "1")), None, "input 'x': shape must be a list of integers"),
    (
        body(tensor([1], [1], "BYTES")),
        None,
        "input 'x': unsupported datatype 'BYTES'; use one of ['BOOL', 'FP16', 'FP32', 'FP64', "
        "'INT16', 'INT32', 'INT64', 'INT8', 'UINT16', 'UINT32', 'UINT64', 'UINT8']",
    ),
    (body(tensor(["a", "b"], [2])), None, "input 'x': data must hold only numbers (or booleans)"),
    (
        body(tensor([[1, 2], [3]], [3])),
        None,
        "input 'x': data is ragged (rows of different lengths)",
    ),
    (body(tensor(1, [1])), None, "input 'x': data must be a list"),
    (
        body(tensor([1e39], [1])),
        None,
        "input 'x' contains NaN or Inf (or a value beyond its datatype)",
    ),
    (body(tensor([1.5], [1], "INT64")), None, "input 'x': INT64 data must be integers"),
    (body(tensor([2**40], [1], "INT32")), None, "input 'x': a value is out of INT32's range"),
    (body(tensor([1], [1], "BOOL")), None, "input 'x': BOOL data must be true or false"),
    (
        body(tensor([True, False], [2])),
        None,
        "input 'x': FP32 data must be numbers, not true/false",
    ),
    (body(tensor([1], [1]), tensor([1], [1])), None, "input 'x' is given twice"),
    (
        body({"name": "x", "datatype": "FP32", "shape": [1]}),
        None,
        "input 'x' has neither data nor binary_data_size",
    ),
    (
        body(tensor([1], [1]), outputs=[{"name": "y"}, {"name": "y"}]),
        None,
        "output 'y' is requested twice",
    ),
    (
        body(tensor([1], [1]), outputs=[{"nom": "y"}]),
        None,
        "each output must be an object with a string name",
    ),
    (
        body(tensor([1], [1]), parameters={"binary_data_output": "yes"}),
        None,
        "parameter binary_data_output must be true or false",
    ),
    (
        b'{"inputs": [1',
        None,
        "request body is not valid JSON: unexpected end of data: line 1 column 14 (char 13)",
    ),
    (body(tensor([1], [1])), "abc", "Inference-Header-Content-Length must be an integer"),
    (
        body(tensor([1], [1])),
        "9999",
        "Inference-Header-Content-Length 9999 is outside the body's 66 bytes",
    ),
]


@pytest.mark.parametrize(("raw", "length", "message"), BAD_BODIES)
def test_bad_bodies_raise_bad_request(raw: bytes, length: str | None, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        decode_infer_request(raw, length)
    assert caught.value.message == message
    assert caught.value.status_code == 400


def test_bad_binary_sizes() -> None:
    x = np.ones((2, 2), dtype=np.float32)
    raw, length = binary_body({"x": x})
    with pytest.raises(BadRequest, match="bytes of binary data follow no input"):
        decode_infer_request(raw + b"\0\0\0\0", length)
    with pytest.raises(BadRequest, match="runs past the end of the body"):
        decode_infer_request(raw[:-4], length)
    wrong = raw.replace(b'"binary_data_size":16', b'"binary_data_size":12')
    with pytest.raises(BadRequest, match="needs 16 bytes, binary_data_size is 12"):
        decode_infer_request(wrong[:-4], length)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_binary_nan_and_inf_are_refused_where_they_are_decoded(value: float) -> None:
    """The one finiteness scan of a tensor is its decoding (JSON or binary), not the run."""
    raw, length = binary_body({"x": np.full((2, 2), value, dtype=np.float32)})
    with pytest.raises(BadRequest) as caught:
        decode_infer_request(raw, length)
    assert caught.value.message == "input 'x' contains NaN or Inf (or a value beyond its datatype)"
    ints = np.full((2, 2), 7, dtype=np.int32).tobytes()  # integers need no scan
    assert array_from_bytes("x", "INT32", (2, 2), ints, 0, 16).sum() == 28


def test_check_shape_accepts_scalars_and_rejects_booleans() -> None:
    assert check_shape("x", []) == ()
    with pytest.raises(BadRequest):
        check_shape("x", [True, 2])


def test_instances_rows_and_bare_numbers() -> None:
    np.testing.assert_array_equal(instances_array([[1, 2]], 2, np.dtype(np.float32)), [[1, 2]])
    assert instances_array([60, 70], 1, np.dtype(np.float32)).shape == (2, 1)
    with pytest.raises(BadRequest, match=r"rows of 2 numbers, got an array of shape \[1, 3\]"):
        instances_array([[1, 2, 3]], 2, np.dtype(np.float32))
    with pytest.raises(BadRequest, match="non-empty list"):
        instances_array([], 2, np.dtype(np.float32))


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "GZIP"])
def test_compressed_bodies_are_inflated(encoding: str) -> None:
    raw = body(tensor([1.0, 2.0], [1, 2]))
    packed = gzip.compress(raw) if encoding.lower() == "gzip" else zlib.compress(raw)
    assert decode_content(packed, encoding, limit=1000) == raw
    assert decode_content(raw, None, limit=10) == raw  # identity is never measured here


@pytest.mark.parametrize(
    ("payload", "encoding", "error", "message"),
    [
        (
            b"x",
            "br",
            UnsupportedMediaType,
            "Content-Encoding br is not supported; use gzip or deflate",
        ),
        (
            b"not gzip",
            "gzip",
            BadRequest,
            "the gzip body is corrupt: Error -3 while decompressing data: incorrect header check",
        ),
        (gzip.compress(b"{}" * 100)[:-12], "gzip", BadRequest, "the gzip body is truncated"),
        (
            gzip.compress(b"0" * 10_000),
            "gzip",
            PayloadTooLarge,
            "the gzip body inflates past the limit of 1000 bytes",
        ),
    ],
)
def test_bad_compressed_bodies(payload: bytes, encoding: str, error: type, message: str) -> None:
    with pytest.raises(error) as caught:
        decode_content(payload, encoding, limit=1000)
    assert caught.value.message == message


def general_way(name: str, datatype: str, shape: tuple[int, ...], data: Any) -> np.ndarray:
    """What array_from_data did before float_list: numeric_array, the size check, cast."""
    raw = numeric_array(name, data)
    if raw.size != int(np.prod(shape)):
        raise BadRequest(
            f"input {name!r}: shape {list(shape)} needs {int(np.prod(shape))} values, "
            f"data has {raw.size}"
        )
    return cast(name, raw, datatype, DATATYPES[datatype]).reshape(shape)


EDGE_LISTS: list[list[Any]] = [
    [0.5, -1.25, 3.0],
    [1, 2, 3],
    [0, 0.5, 7],
    [1.5, True, False],
    [1, True],
    [-0.0, 0.0, 1e-45, 5e-324],
    [65504.0, -65504.0],
    [65519.0],
    [65520.0],
    [3.4028234663852886e38],
    [3.4028235677973366e38],
    [1e39, 1.0],
    [2**53 - 1, 1],
    [2**53 + 1, 1],
    [2**63 - 1],
    [2**64 - 1],
    [-(2**63), 2**64 - 1],
    [1.5, 2**64 - 1],
    [16777217, 3],
    [2**60 + 2**36 + 1],  # a float32 midpoint plus one: rounding twice would round down
    [16777217.0, 3],
]
"""Lists float_list may read or refuse, each ending the same as the general way would."""

REFUSED_LISTS: list[Any] = [
    [True, 1.5],
    [True, False],
    ["1.5", 2.0],
    [1.5, "2"],
    [None, 1.0],
    [1.0, None],
    [[1.0, 2.0], [3.0, 4.0]],
    [1.0, [2.0]],
    [{"a": 1}],
    [],
    "1.5",
    None,
]


def outcome(read: Any, *args: Any) -> tuple[str, Any]:
    """("array", (dtype, shape, bytes)) or ("error", message): compared bit for bit."""
    try:
        array = read(*args)
    except BadRequest as exc:
        return "error", exc.message
    return "array", (array.dtype.str, array.shape, array.tobytes())


@pytest.mark.parametrize("datatype", ["FP16", "FP32", "FP64"])
@pytest.mark.parametrize("data", EDGE_LISTS + REFUSED_LISTS)
def test_float_lists_read_as_the_general_way_reads_them(datatype: str, data: Any) -> None:
    count = len(data) if isinstance(data, list) else 1
    for shape in ((count,), (count + 1,)):  # the right size, and a wrong one
        fast = outcome(array_from_data, "x", datatype, shape, data)
        assert fast == outcome(general_way, "x", datatype, shape, data)


def test_float_list_reads_plain_number_lists_and_leaves_the_rest() -> None:
    bound = float(np.finfo(np.float32).max)
    for data in ([0.5, -1.25, 3.0], [1, 2, 3], [0, 0.5, 7], [1.5, True], [2**53 - 1, 1]):
        read = float_list(data, bound)
        assert read is not None and read.dtype == np.float64 and read.tolist() == data
    for data in [*REFUSED_LISTS, [1e39, 1.0], [2**53 + 1, 1], [2**64 - 1], [65520.0]]:
        assert float_list(data, 65504.0) is None
