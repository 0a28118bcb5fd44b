"""Adversarial checks of simdjson's way into V2 JSON bodies: random bodies, written with every
number spelling JSON allows, decode exactly as orjson alone decodes them (arrays bit for bit,
errors word for word); random mutations of them raise nothing but BadRequest; the real app
answers nasty bodies with a 4xx JSON error or the right logits."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.app import create_app
from service.config import Settings
from service.errors import BadRequest
from service.protocol import simd, v2
from service.protocol.tensors import DATATYPES

FUZZ = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_N", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
INFER = "/v2/models/mnist-mlp/infer"
MODEL = Path("models/mnist-mlp/1/model.onnx")


def outcome(raw: bytes, header: str | None = None) -> tuple[str, Any]:
    """Everything decode_infer_request answers, arrays bit for bit, or the error's message;
    any other exception propagates and fails the test."""
    try:
        request = v2.decode_infer_request(raw, header)
    except BadRequest as exc:
        return "error", exc.message
    inputs = {n: (a.dtype.str, a.shape, a.tobytes()) for n, a in request.inputs.items()}
    return "request", (
        request.id,
        inputs,
        request.outputs,
        request.binary_output,
        request.timeout_us,
    )


def both_ways(raw: bytes, header: str | None = None) -> tuple[tuple[str, Any], tuple[str, Any]]:
    fast = outcome(raw, header)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(simd, "load_message", lambda raw: None)  # orjson for every body
        slow = outcome(raw, header)
    return fast, slow


def float_text(value: float, form: int) -> str:
    """One of the ways a JSON writer may spell a finite double."""
    spellings = [repr(value), f"{value:.17g}", f"{value:.17e}", f"{value:E}", f"{value:.3e}"]
    text = spellings[form % len(spellings)]
    return text.replace("e+", "e") if form >= len(spellings) else text


SPECIAL = [
    "-0", "-0.0", "0e0", "-0e-5", "5e-324", "-5e-324", "2.2250738585072011e-308",
    "2.2250738585072014e-308", "4.9406564584124654e-324", "1e-400", "-1e-400", "1e308",
    "1.7976931348623157e308", "-1.7976931348623157e308", "65504", "65504.0", "65519.99",
    "65520", "-65520", "3.4028234663852886e38", "3.4028235677973366e38", "3.5e38",
    "9007199254740991", "9007199254740992", "9007199254740993", "-9007199254740993",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808",
    "18446744073709551615", "18446744073709551616", "-9223372036854775809",
    "0.1", "0.30000000000000004", "1.00000000000000011102230246251565404236316680908203125",
    "123456789012345678901234567890e-20", "1E+2", "1e-2", "-1E-2", "127", "128", "-128",
    "-129", "255", "256", "-1", "1", "0", "2", "32767", "32768", "65535", "65536",
    "2147483647", "2147483648", "-2147483649", "4294967295", "4294967296", "true", "false",
]  # fmt: skip


def numbers(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.sampled_from(SPECIAL))
    if kind == 1:
        return str(draw(st.integers(-(2**65), 2**65)))
    if kind == 2:
        return str(draw(st.integers(-300, 300)))
    value = draw(st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True))
    return float_text(value, draw(st.integers(0, 9)))


def nest(items: list[str], shape: list[int]) -> str:
    if len(shape) <= 1:
        return "[" + ",".join(items) + "]"
    step = len(items) // shape[0]
    return (
        "["
        + ",".join(nest(items[i : i + step], shape[1:]) for i in range(0, len(items), step))
        + "]"
    )


@st.composite
def tensor_text(draw: st.DrawFn, name: str) -> str:
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    count = int(np.prod(shape))
    if draw(st.booleans()):  # one kind of number for the whole tensor, as a client sends
        kind = draw(st.sampled_from(["float", "int", "special", "bool"]))
        if kind == "float":
            values = [
                float_text(draw(st.floats(-1e6, 1e6)), draw(st.integers(0, 9)))
                for _ in range(count)
            ]
        elif kind == "int":
            values = [str(draw(st.integers(-200, 300))) for _ in range(count)]
        elif kind == "bool":
            values = [draw(st.sampled_from(["true", "false"])) for _ in range(count)]
        else:
            values = [draw(st.sampled_from(SPECIAL)) for _ in range(count)]
    else:
        values = [numbers(draw) for _ in range(count)]
    data = nest(values, shape) if draw(st.booleans()) else "[" + ",".join(values) + "]"
    if draw(st.integers(0, 9)) == 0:  # a declared shape that does not fit the data
        shape = [count + 1]
    space = draw(st.sampled_from(["", " ", "\n\t", "\r\n "]))
    fields = {
        "name": orjson.dumps(name).decode(),
        "datatype": orjson.dumps(draw(st.sampled_from(sorted(DATATYPES)))).decode(),
        "shape": orjson.dumps(shape).decode(),
        "data": data.replace(",", "," + space),
    }
    if draw(st.booleans()):
        fields["parameters"] = draw(
            st.sampled_from(["{}", '{"content_type":"[x]"}', '{"a":[1,[2]]}'])
        )
    keys = draw(st.permutations(list(fields)))
    return "{" + ("," + space).join(f'"{key}"{space}:{space}{fields[key]}' for key in keys) + "}"


@st.composite
def infer_bodies(draw: st.DrawFn) -> bytes:
    count = draw(st.integers(1, 3))
    inputs = [draw(tensor_text(f"in{i}")) for i in range(count)]
    parts = ['"inputs":[' + ",".join(inputs) + "]"]
    if draw(st.booleans()):
        parts.append('"id":' + orjson.dumps(draw(st.text(max_size=6))).decode())
    if draw(st.booleans()):
        parts.append(
            '"parameters":{"timeout":' + draw(st.sampled_from(["5", "5.0", "-1", "1e3"])) + "}"
        )
    if draw(st.booleans()):
        parts.append('"outputs":[{"name":"in0","parameters":{"binary_data":false}}]')
    parts = draw(st.permutations(parts))
    return ("{" + ",".join(parts) + "}").encode()


@FUZZ
@given(infer_bodies())
def test_random_bodies_decode_as_orjson_alone_decodes_them(raw: bytes) -> None:
    fast, slow = both_ways(raw)
    assert fast == slow


@FUZZ
@given(infer_bodies(), st.sampled_from([0, -1, -7]))
def test_a_header_length_at_or_inside_the_body_decodes_as_orjson_alone(
    raw: bytes, cut: int
) -> None:
    """Inference-Header-Content-Length equal to the body (all JSON: simdjson's way) or short
    of it (binary chunks follow: orjson's way, whatever the tail holds)."""
    fast, slow = both_ways(raw, str(len(raw) + cut))
    assert fast == slow


MUTATION_BYTES = b'[]{},:"\\-+.eE0159 \n\x00\xff\xef\xbb\xbf'


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(infer_bodies()))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(raw)))
        action = draw(st.integers(0, 3))
        byte = draw(st.sampled_from(list(MUTATION_BYTES)))
        if action == 0 and at < len(raw):
            del raw[at]
        elif action == 1:
            raw.insert(at, byte)
        elif action == 2 and at < len(raw):
            raw[at] = byte
        else:
            raw[:] = raw[:at]  # a truncated body
    return bytes(raw)


@FUZZ
@given(mutated())
def test_mutated_bodies_raise_only_bad_request_and_agree(raw: bytes) -> None:
    fast, slow = both_ways(raw)  # anything but BadRequest escapes outcome and fails here
    assert fast == slow


def test_the_fast_way_is_really_taken_for_flat_float_data() -> None:
    """The properties above would pass trivially if simdjson declined every body."""
    raw = b'{"inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":[-0.0, 5e-324, 1e-400]}]}'
    message = simd.load_message(raw)
    assert message is not None and isinstance(message["inputs"][0]["data"], np.ndarray)
    fast, slow = both_ways(raw)
    assert fast == slow
    assert np.signbit(v2.decode_infer_request(raw, None).inputs["x"][0])  # -0.0 kept


def test_an_array_read_stays_intact_after_its_parser_is_gone() -> None:
    """as_buffer must copy: a view into a freed parser's tape would change under the next parse."""
    first = simd.load_message(
        b'{"inputs":[{"name":"x","datatype":"FP64","shape":[3],"data":[1.5,2.5,3.5]}]}'
    )
    assert first is not None
    for _ in range(50):
        simd.load_message(b'{"inputs":[{"name":"y","datatype":"FP64","shape":[3],"data":[9,8,7]}]}')
        gc.collect()
    assert first["inputs"][0]["data"].tolist() == [1.5, 2.5, 3.5]


def image(last: bytes, datatype: bytes = b"FP32", ones: int = 783, rest: bytes = b"") -> bytes:
    """A one-image body for mnist-mlp: `ones` ones, then `last`, then `rest` after the data."""
    head = b'{"inputs":[{"name":"input","datatype":"' + datatype + b'","shape":[1,784],"data":['
    return head + b"1," * ones + last + b"]" + rest + b"}]}"


NASTY = [
    b"\xef\xbb\xbf{}",
    b"\xef\xbb\xbf" + image(b"1"),
    image(b"[1]"),  # nested in the last place: as_buffer would flatten it
    image(b"1e400"),
    image(b"70000", b"FP16"),
    image(b"1", ones=782),  # 783 values for 784
    image(b"1", rest=b',"data":[2]'),  # a duplicate key inside the input
    image(b"1")[:-1] + b',"inputs":5}',  # a duplicate top-level key
    image(b"1") + b" x",
    image(b"1", rest=b',"parameters":{"binary_data_size":3136}'),
    image(b"1", rest=b',"name":"other"'),
    b'{"inputs":[{"name":"input","datatype":"FP32","shape":[1,784],"data":"[1]"}]}',
    b'{"id":"\\ud800","inputs":[]}',
    b"[" * 5000 + b"]" * 5000,
    b'{"parameters":' + b"[" * 990 + b"]" * 990 + b',"inputs":[]}',
]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(models_dir=Path("models")))) as test_client:
        yield test_client


@pytest.mark.parametrize("raw", NASTY, ids=range(len(NASTY)))
def test_nasty_bodies_get_a_4xx_json_error_from_the_app(client: TestClient, raw: bytes) -> None:
    response = client.post(INFER, content=raw, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert isinstance(response.json(), dict) and response.json()


def test_the_app_answers_a_spelled_out_image_with_the_models_logits(client: TestClient) -> None:
    rng = np.random.default_rng(7)
    pixels = rng.random(784)
    pixels[:5] = [-0.0, 5e-324, 1e-300, 0.1, 1 - 2**-53]
    spelled = [f"{v:.17e}" if i % 2 else repr(v) for i, v in enumerate(pixels.tolist())]
    raw = (
        '{ "inputs" : [ { "name" : "input" , "datatype" : "FP32" , "shape" : [1, 784] ,\n'
        '"data" : [' + " ,\n".join(spelled) + "] } ] }"
    ).encode()
    response = client.post(INFER, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    logits = {out["name"]: out["data"] for out in response.json()["outputs"]}["logits"]
    want = ort.InferenceSession(str(MODEL)).run(
        ["logits"], {"input": pixels.astype(np.float32)[None]}
    )[0]
    np.testing.assert_allclose(logits, want[0], rtol=1e-6, atol=1e-6)
