"""The gRPC codec: raw and typed contents to numpy and back, and every bad tensor refused.

Built from nnserve's own generated messages, which live in a private descriptor pool: this
module shares its process with KServe's `inference` package (tests/service/test_clients.py
imports it), which is the point of that pool.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from service.errors import BadRequest
from service.grpc import inference_pb2 as pb
from service.grpc.codec import CONTENTS, decode_infer, encode_infer


def request(*inputs: dict[str, Any], raw: list[bytes] | None = None) -> pb.ModelInferRequest:
    message = pb.ModelInferRequest(model_name="m", raw_input_contents=raw or [])
    for spec in inputs:
        tensor = message.inputs.add(name=spec["name"], datatype=spec["datatype"])
        tensor.shape.extend(spec["shape"])
        if "contents" in spec:
            field, values = spec["contents"]
            getattr(tensor.contents, field).extend(values)
    return message


def test_raw_input_round_trip() -> None:
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    decoded = decode_infer(
        request({"name": "input", "datatype": "FP32", "shape": [2, 3]}, raw=[x.tobytes()])
    )
    np.testing.assert_array_equal(decoded.inputs["input"], x)
    assert decoded.binary_output and decoded.outputs is None and decoded.id is None


@pytest.mark.parametrize("datatype", sorted(CONTENTS))
def test_typed_contents_every_datatype(datatype: str) -> None:
    field, _ = CONTENTS[datatype]
    values = [True, False, True, True] if datatype == "BOOL" else [0, 1, 2, 3]
    decoded = decode_infer(
        request({"name": "x", "datatype": datatype, "shape": [2, 2], "contents": (field, values)})
    )
    array = decoded.inputs["x"]
    assert array.shape == (2, 2) and array.reshape(-1).tolist() == values
    assert not decoded.binary_output


def test_fp16_travels_raw_only() -> None:
    half = np.array([1.5, -2.0], np.float16)
    decoded = decode_infer(
        request({"name": "h", "datatype": "FP16", "shape": [2]}, raw=[half.tobytes()])
    )
    np.testing.assert_array_equal(decoded.inputs["h"], half)
    with pytest.raises(BadRequest, match="FP16 data travels in raw_input_contents"):
        decode_infer(request({"name": "h", "datatype": "FP16", "shape": [2]}))


def test_requested_outputs() -> None:
    message = request(
        {"name": "x", "datatype": "FP32", "shape": [1], "contents": ("fp32_contents", [1.0])}
    )
    message.outputs.add(name="b")
    message.outputs.add(name="a")
    assert [o.name for o in decode_infer(message).outputs or []] == ["b", "a"]
    message.outputs.add(name="a")
    with pytest.raises(BadRequest, match="'a' is requested twice"):
        decode_infer(message)


BAD = [
    ("no inputs", request(), "inputs must be a non-empty list"),
    (
        "raw count",
        request(
            {"name": "x", "datatype": "FP32", "shape": [1]},
            {"name": "y", "datatype": "FP32", "shape": [1]},
            raw=[b"\0" * 4],
        ),
        "raw_input_contents has 1 entries for 2 inputs",
    ),
    (
        "raw size",
        request({"name": "x", "datatype": "FP32", "shape": [2]}, raw=[b"\0" * 4]),
        "needs 8 bytes",
    ),
    (
        "typed count",
        request(
            {"name": "x", "datatype": "FP32", "shape": [3], "contents": ("fp32_contents", [1.0])}
        ),
        "needs 3 values, fp32_contents has 1",
    ),
    (
        "wrong field",
        request({"name": "x", "datatype": "FP32", "shape": [1], "contents": ("int_contents", [1])}),
        "FP32 data goes in fp32_contents",
    ),
    (
        "out of range",
        request(
            {"name": "x", "datatype": "INT8", "shape": [1], "contents": ("int_contents", [300])}
        ),
        "out of INT8's range",
    ),
    (
        "not finite",
        request(
            {
                "name": "x",
                "datatype": "FP32",
                "shape": [1],
                "contents": ("fp32_contents", [float("nan")]),
            }
        ),
        "NaN or Inf",
    ),
    ("datatype", request({"name": "x", "datatype": "BYTES", "shape": [1]}), "unsupported datatype"),
    (
        "negative dim",
        request({"name": "x", "datatype": "FP32", "shape": [-1]}),
        "negative dimension",
    ),
    ("empty", request({"name": "x", "datatype": "FP32", "shape": [0]}), "is empty"),
    (
        "twice",
        request(
            {"name": "x", "datatype": "FP32", "shape": [1], "contents": ("fp32_contents", [1.0])},
            {"name": "x", "datatype": "FP32", "shape": [1], "contents": ("fp32_contents", [1.0])},
        ),
        "given twice",
    ),
]


@pytest.mark.parametrize(
    ("message", "error"), [(m, e) for _, m, e in BAD], ids=[i for i, _, _ in BAD]
)
def test_bad_tensors_are_bad_requests(message: pb.ModelInferRequest, error: str) -> None:
    with pytest.raises(BadRequest, match=error):
        decode_infer(message)


def test_raw_and_contents_do_not_mix() -> None:
    message = request(
        {"name": "x", "datatype": "FP32", "shape": [1], "contents": ("fp32_contents", [1.0])},
        raw=[b"\0" * 4],
    )
    with pytest.raises(BadRequest, match="sets contents in a request of raw_input_contents"):
        decode_infer(message)


def test_encode_raw_and_typed() -> None:
    results = {"p": np.array([[0.25, 0.75]], np.float32), "k": np.array([3], np.int64)}
    raw = encode_infer("m", "1", "id-1", results, raw=True)
    assert (raw.model_name, raw.model_version, raw.id) == ("m", "1", "id-1")
    assert [(o.name, o.datatype, list(o.shape)) for o in raw.outputs] == [
        ("p", "FP32", [1, 2]),
        ("k", "INT64", [1]),
    ]
    assert np.frombuffer(raw.raw_output_contents[0], "<f4").tolist() == [0.25, 0.75]
    assert not raw.outputs[0].HasField("contents")
    typed = encode_infer("m", "1", "", results, raw=False)
    assert not typed.raw_output_contents
    assert list(typed.outputs[0].contents.fp32_contents) == [0.25, 0.75]
    assert list(typed.outputs[1].contents.int64_contents) == [3]


def test_fp16_outputs_force_raw() -> None:
    response = encode_infer("m", "1", "", {"h": np.array([1.0], np.float16)}, raw=False)
    assert response.raw_output_contents and response.outputs[0].datatype == "FP16"


def one_image() -> pb.ModelInferRequest:
    x = np.zeros((1, 3), np.float32)
    return request({"name": "input", "datatype": "FP32", "shape": [1, 3]}, raw=[x.tobytes()])


def test_timeout_parameter_is_the_queue_timeout() -> None:
    assert decode_infer(one_image()).timeout_us is None
    message = one_image()
    message.parameters["timeout"].int64_param = 2500  # what tritonclient.grpc's timeout= sends
    assert decode_infer(message).timeout_us == 2500
    message.parameters["timeout"].uint64_param = 7
    assert decode_infer(message).timeout_us == 7


@pytest.mark.parametrize(
    ("field", "value"),
    [("int64_param", 0), ("int64_param", -5), ("string_param", "10"), ("double_param", 1.5),
     ("bool_param", True)],
)  # fmt: skip
def test_a_bad_timeout_parameter_is_a_bad_request(field: str, value: Any) -> None:
    message = one_image()
    setattr(message.parameters["timeout"], field, value)
    with pytest.raises(BadRequest, match=r"parameters\.timeout must be a positive integer"):
        decode_infer(message)


def test_an_unset_timeout_parameter_is_a_bad_request() -> None:
    message = one_image()
    message.parameters["timeout"].Clear()  # the key is there, no value chosen
    with pytest.raises(BadRequest, match="not None"):
        decode_infer(message)
