"""simdjson's way into V2 JSON bodies reads every body exactly as orjson's does, or declines."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest

from service.errors import BadRequest
from service.protocol import simd, v2
from tests.service.protocol.test_tensors import BAD_BODIES, EDGE_LISTS, REFUSED_LISTS, body, tensor

IMAGE = body(tensor([round(0.01 * i - 3, 6) for i in range(784)], [1, 784]), id="a")

ODD_BODIES: list[bytes] = [
    IMAGE,
    b"\xef\xbb\xbf" + IMAGE,  # a byte-order mark: orjson refuses it, simdjson would skip it
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,2]}],"inputs":[5]}',
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,2],"data":[3,4]}]}',
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":[1,[2],3]}]}',
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":[[1],[2],[3]]}]}',
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[[1],[]]}]}',
    b'{"id":"[","inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,2]}]}',
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1e400]}]}',
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[123456789012345678901234567890]}]}',
    b'{"inputs":[{"name":"x","datatype":"INT64","shape":[2],"data":[1,2]}]}',
    b'{"inputs":[{"name":"x","datatype":"FP16","shape":[2],"data":[1.5,70000]}]}',
    b'{"inputs":[{"data":[1,2],"shape":[2],"datatype":"FP64","name":"x"}]}',
    b'{"id":"\\ud800","inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}',
    b'{"id":"\xff","inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}',
    b' \n{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[ 1 , 2.5 ]}]} \t',
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,2]}]} 5',
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,2]}],"parameters":'
    b'{"timeout":100,"binary_data_output":true},"outputs":[{"name":"y","parameters":{}}]}',
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1],"parameters":'
    b'{"binary_data_size":4}}]}',
    b'{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]},'
    b'{"name":"z","datatype":"FP32","shape":[1],"data":[2]}]}',
    b"[]",
    b"null",
    b'"text"',
]


def corpus() -> list[bytes]:
    bodies = [raw for raw, length, _ in BAD_BODIES if length is None] + ODD_BODIES
    for data in EDGE_LISTS + REFUSED_LISTS:
        count = len(data) if isinstance(data, list) else 1
        for datatype in ("FP16", "FP32", "FP64", "INT32"):
            bodies += [body(tensor(data, [n], datatype)) for n in (count, count + 1)]
    return bodies


def outcome(raw: bytes) -> tuple[str, Any]:
    """Everything decode_infer_request answers, arrays bit for bit, or the error's message."""
    try:
        request = v2.decode_infer_request(raw, None)
    except BadRequest as exc:
        return "error", exc.message
    inputs = {n: (a.dtype.str, a.shape, a.tobytes()) for n, a in request.inputs.items()}
    flags = (request.outputs, request.binary_output, request.timeout_us)
    return "request", (request.id, inputs, flags)


@pytest.mark.parametrize("raw", corpus())
def test_every_body_decodes_as_orjson_alone_decodes_it(
    raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = outcome(raw)
    monkeypatch.setattr(simd, "load_message", lambda raw: None)  # orjson for every body
    assert fast == outcome(raw)


def test_an_image_body_takes_the_fast_way() -> None:
    assert simd.available()
    message = simd.load_message(IMAGE)
    assert message is not None
    data = message["inputs"][0]["data"]
    assert isinstance(data, np.ndarray) and data.dtype == np.float64
    assert data.tolist() == orjson.loads(IMAGE)["inputs"][0]["data"]
    assert {k: v for k, v in message.items() if k != "inputs"} == {"id": "a"}


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf" + IMAGE,
        b'{"inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":[1,[2],3]}]}',
        b'{"id":"[","inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,2]}]}',
        b'{"inputs":[],"inputs":[5]}',
        b'{"inputs":[{"name":"x","name":"y","datatype":"FP32","shape":[1],"data":[1]}]}',
        b'{"inputs":[1',
    ],
)
def test_what_it_cannot_read_exactly_it_leaves_to_orjson(raw: bytes) -> None:
    assert simd.load_message(raw) is None
