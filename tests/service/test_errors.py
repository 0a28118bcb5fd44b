"""Every bad input: its status and exact JSON body, and the service still live afterwards."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings

LIMIT = Settings().max_upload_bytes
Live = Callable[[TestClient], None]


def v2(shape: list[int], data: Any, datatype: str = "FP32", name: str = "input") -> dict[str, Any]:
    return {"inputs": [{"name": name, "datatype": datatype, "shape": shape, "data": data}]}


def nan_binary_body() -> tuple[bytes, dict[str, str]]:
    x = np.array([[np.nan, 1.0]], dtype=np.float32)
    header = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "FP32",
                    "shape": [1, 2],
                    "parameters": {"binary_data_size": 8},
                }
            ]
        }
    )
    return header + x.tobytes(), {"Inference-Header-Content-Length": str(len(header))}


LOGISTIC = "/v2/models/logistic-regression/infer"
V1_LOGISTIC = "/v1/models/logistic-regression/predict"
NAN_BODY, NAN_HEADERS = nan_binary_body()
SHAPE_MSG = "input 'input' has shape [1, 3], the model expects [-1, 2] (-1: any size)"
FINITE_MSG = "input 'input' contains NaN or Inf (or a value beyond its datatype)"

CASES: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    (
        "unknown model",
        "POST",
        "/v2/models/nope/infer",
        {"json": v2([1, 2], [1, 2])},
        404,
        "model 'nope' not found",
    ),
    ("unknown model metadata", "GET", "/v2/models/nope", {}, 404, "model 'nope' not found"),
    ("unknown model ready", "GET", "/v2/models/nope/ready", {}, 404, "model 'nope' not found"),
    ("wrong shape", "POST", LOGISTIC, {"json": v2([1, 3], [1, 2, 3])}, 400, SHAPE_MSG),
    (
        "wrong rank",
        "POST",
        LOGISTIC,
        {"json": v2([2], [1, 2])},
        400,
        "input 'input' has shape [2], the model expects [-1, 2] (-1: any size)",
    ),
    (
        "wrong datatype",
        "POST",
        LOGISTIC,
        {"json": v2([1, 2], [1, 2], "FP64")},
        400,
        "input 'input' has datatype FP64, the model expects FP32",
    ),
    (
        "unknown datatype",
        "POST",
        LOGISTIC,
        {"json": v2([1, 2], [1, 2], "FP8")},
        400,
        "input 'input': unsupported datatype 'FP8'; use one of ['BOOL', 'FP16', 'FP32', 'FP64', "
        "'INT16', 'INT32', 'INT64', 'INT8', 'UINT16', 'UINT32', 'UINT64', 'UINT8']",
    ),
    (
        "data length",
        "POST",
        LOGISTIC,
        {"json": v2([1, 2], [1, 2, 3])},
        400,
        "input 'input': shape [1, 2] needs 2 values, data has 3",
    ),
    (
        "NaN (binary)",
        "POST",
        LOGISTIC,
        {"content": NAN_BODY, "headers": NAN_HEADERS},
        400,
        FINITE_MSG,
    ),
    (
        "Inf (beyond FP32)",
        "POST",
        LOGISTIC,
        {"json": v2([1, 2], [1e39, 1])},
        400,
        "input 'input' contains NaN or Inf (or a value beyond its datatype)",
    ),
    (
        "empty batch",
        "POST",
        LOGISTIC,
        {"json": v2([0, 2], [])},
        400,
        "input 'input': shape [0, 2] is empty",
    ),
    (
        "oversized batch",
        "POST",
        LOGISTIC,
        {"json": v2([1025, 2], [0.5] * 2050)},
        400,
        "input 'input' has a batch of 1025, more than the limit of 1024",
    ),
    (
        "negative dimension",
        "POST",
        LOGISTIC,
        {"json": v2([-1, 2], [1, 2])},
        400,
        "input 'input': shape [-1, 2] has a negative dimension",
    ),
    (
        "overflowing dimension",
        "POST",
        LOGISTIC,
        {"json": v2([2**62, 4], [1, 2])},
        400,
        "input 'input': shape [4611686018427387904, 4] overflows (18446744073709551616 elements)",
    ),
    (
        "not JSON",
        "POST",
        LOGISTIC,
        {"content": b"{nope"},
        400,
        "request body is not valid JSON: unexpected character, expected a string key: "
        "line 1 column 2 (char 1)",
    ),
    (
        "empty body",
        "POST",
        LOGISTIC,
        {"content": b""},
        400,
        "request body is empty; send a V2 inference request as JSON",
    ),
    (
        "wrong input name",
        "POST",
        LOGISTIC,
        {"json": v2([1, 2], [1, 2], name="x")},
        400,
        "unexpected input 'x'; the model takes ['input']",
    ),
    (
        "unknown output",
        "POST",
        LOGISTIC,
        {"json": {**v2([1, 2], [1, 2]), "outputs": [{"name": "nope"}]}},
        400,
        "unknown output 'nope'; the model has ['logit', 'probability']",
    ),
    (
        "strings as data",
        "POST",
        LOGISTIC,
        {"json": v2([1, 2], ["a", "b"])},
        400,
        "input 'input': data must hold only numbers (or booleans)",
    ),
    (
        "unknown content encoding",
        "POST",
        LOGISTIC,
        {"content": b"x", "headers": {"Content-Encoding": "br"}},
        415,
        "Content-Encoding br is not supported; use gzip or deflate",
    ),
    (
        "gzip bomb",
        "POST",
        LOGISTIC,
        {"content": gzip.compress(b" " * (LIMIT + 1)), "headers": {"Content-Encoding": "gzip"}},
        413,
        f"the gzip body inflates past the limit of {LIMIT} bytes",
    ),
    ("unknown path", "GET", "/v3/models", {}, 404, "no endpoint GET /v3/models"),
    (
        "wrong method",
        "DELETE",
        "/v2/health/live",
        {},
        405,
        "method DELETE is not allowed on /v2/health/live",
    ),
    (
        "declared body too large",
        "POST",
        LOGISTIC,
        {"content": b"x" * (LIMIT + 1)},
        413,
        f"request body is larger than the limit of {LIMIT} bytes",
    ),
    (
        "v1 unknown model",
        "POST",
        "/v1/models/nope/predict",
        {"json": {"instances": [[1]]}},
        404,
        "model 'nope' not found",
    ),
    ("v1 unknown card", "GET", "/v1/models/nope", {}, 404, "model 'nope' not found"),
    (
        "v1 wrong width",
        "POST",
        V1_LOGISTIC,
        {"json": {"instances": [[1, 2, 3]]}},
        422,
        "instances must be rows of 2 numbers, got an array of shape [1, 3]",
    ),
    (
        "v1 empty",
        "POST",
        V1_LOGISTIC,
        {"json": {"instances": []}},
        422,
        "instances must be a non-empty list of rows of numbers",
    ),
    (
        "v1 ragged",
        "POST",
        V1_LOGISTIC,
        {"json": {"instances": [[1, 2], [3]]}},
        422,
        "input 'instances': data is ragged (rows of different lengths)",
    ),
    (
        "v1 strings",
        "POST",
        V1_LOGISTIC,
        {"json": {"instances": [["a", "b"]]}},
        422,
        "input 'instances': data must hold only numbers (or booleans)",
    ),
    (
        "v1 beyond FP32",
        "POST",
        V1_LOGISTIC,
        {"json": {"instances": [[1e39, 1]]}},
        422,
        "input 'instances' contains NaN or Inf (or a value beyond its datatype)",
    ),
    (
        "v1 oversized batch",
        "POST",
        V1_LOGISTIC,
        {"json": {"instances": [[1, 2]] * 1025}},
        422,
        "input 'input' has a batch of 1025, more than the limit of 1024",
    ),
    (
        "v1 no instances",
        "POST",
        V1_LOGISTIC,
        {"json": {"rows": [[1, 2]]}},
        422,
        'request body must be a JSON object {"instances": [[...], ...]}',
    ),
    (
        "v1 not JSON",
        "POST",
        V1_LOGISTIC,
        {"content": b"[1"},
        422,
        "request body is not valid JSON: unexpected end of data: line 1 column 3 (char 2)",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_request(
    client: TestClient,
    assert_live: Live,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    message: str,
) -> None:
    response = client.request(method, path, **kwargs)
    assert (response.status_code, response.json()) == (status, {"error": message})
    assert response.headers["content-type"] == "application/json"
    assert_live(client)


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body without Content-Length (chunked): the limit must be counted, not declared."""
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_streamed_body_over_the_limit(client: TestClient, assert_live: Live) -> None:
    response = client.post(LOGISTIC, content=chunks(LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == {"error": f"request body is larger than the limit of {LIMIT} bytes"}
    assert_live(client)


def test_streamed_body_over_the_limit_on_a_real_server(live_server: str) -> None:
    with httpx.Client(base_url=live_server, timeout=30) as http:
        for path in (LOGISTIC, V1_LOGISTIC):
            response = http.post(path, content=chunks(LIMIT + 1))
            assert response.status_code == 413, response.text
            limit = f"request body is larger than the limit of {LIMIT} bytes"
            assert response.json() == {"error": limit}
        # A GET-only route answers 405 before anyone reads the oversized body.
        response = http.post("/v2/health/live", content=chunks(LIMIT + 1))
        assert response.status_code == 405, response.text
        assert response.json() == {"error": "method POST is not allowed on /v2/health/live"}
        small = http.post(LOGISTIC, content=chunks(LIMIT, size=LIMIT // 3))
        assert small.status_code == 400  # under the limit: read whole, then found not JSON
        assert http.get("/v2/health/live").json() == {"live": True}


def test_validation_errors_and_unexpected_exceptions_are_json(
    models_dir: Path, assert_live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(models_dir=models_dir))

    @app.get("/test/typed")
    async def typed(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    with TestClient(app) as client:
        invalid = client.get("/test/typed", params={"n": "x"})
        assert invalid.status_code == 422
        assert invalid.json() == {
            "error": "invalid request: query.n: Input should be a valid integer, "
            "unable to parse string as an integer",
            "details": [
                {
                    "loc": ["query", "n"],
                    "type": "int_parsing",
                    "msg": "Input should be a valid integer, unable to parse string as an integer",
                }
            ],
        }
        crash = client.get("/test/boom")
        assert (crash.status_code, crash.json()) == (500, {"error": "internal error"})
        assert "secret" not in crash.text and crash.headers["x-request-id"]
        assert any("secret detail" in (r.exc_text or "") for r in caplog.records)
        assert_live(client)
