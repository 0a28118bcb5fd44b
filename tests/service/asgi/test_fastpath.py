"""The V2 infer fast path answers exactly what the FastAPI route answers, good or bad, with the
same headers, logs labels and limits; and concurrent requests through the app are batched."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import onnxruntime as ort
import orjson
import pytest
from fastapi.testclient import TestClient

from service import dataplane
from service.app import create_app
from service.asgi.fastpath import InferEntranceApp, InferFastPath
from service.asgi.middleware import RequestContextMiddleware
from service.config import Settings
from tests.service.asgi.parity import assert_same_answer

INFER = "/v2/models/mnist-mlp/infer"
Request = tuple[str, str, bytes, dict[str, str]]


def json_body(x: np.ndarray, **extra: object) -> bytes:
    tensor = {"name": "input", "datatype": "FP32", "shape": list(x.shape), "data": x.tolist()}
    return orjson.dumps({"inputs": [tensor], **extra})


def binary_body(x: np.ndarray) -> tuple[bytes, dict[str, str]]:
    tensor = {"name": "input", "datatype": "FP32", "shape": list(x.shape),
              "parameters": {"binary_data_size": x.nbytes}}  # fmt: skip
    header = orjson.dumps(
        {"inputs": [tensor], "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}
    )
    return header + x.tobytes(), {"inference-header-content-length": str(len(header))}


X = np.random.default_rng(0).normal(size=(3, 784)).astype(np.float32)
BINARY, BINARY_HEADERS = binary_body(X)
JSON = {"content-type": "application/json"}
REQUESTS: dict[str, Request] = {
    "json": ("POST", INFER, json_body(X, id="a-1"), JSON),
    "json-outputs": ("POST", INFER, json_body(X, outputs=[{"name": "probabilities"}]), JSON),
    "binary": ("POST", INFER, BINARY, BINARY_HEADERS),
    "versioned": ("POST", "/v2/models/mnist-mlp/versions/1/infer", json_body(X), JSON),
    "other-model": ("POST", "/v2/models/quadratic-bowl/infer", json_body(X[:, :2]), JSON),
    "unknown-model": ("POST", "/v2/models/nope/infer", json_body(X), JSON),
    "unknown-version": ("POST", "/v2/models/mnist-mlp/versions/7/infer", json_body(X), JSON),
    "bad-version": ("POST", "/v2/models/mnist-mlp/versions/x/infer", json_body(X), JSON),
    "not-json": ("POST", INFER, b"{nope", JSON),
    "wrong-shape": ("POST", INFER, json_body(X[:, :10]), JSON),
    "nan": ("POST", INFER, json_body(np.full((1, 784), np.nan, np.float32)), JSON),
    "unknown-output": ("POST", INFER, json_body(X, outputs=[{"name": "nope"}]), JSON),
    "truncated-binary": ("POST", INFER, BINARY[:-4], BINARY_HEADERS),
    "too-large": ("POST", INFER, b"0" * 70_000, JSON),
    "too-large-chunked": ("POST", INFER, b"0" * 70_000, JSON),
    "chunked": ("POST", INFER, json_body(X), JSON),
    "get-on-infer": ("GET", INFER, b"", {}),
    "trailing-slash": ("POST", INFER + "/", json_body(X), JSON),
}


@pytest.fixture(scope="module")
def clients(models_dir: Path) -> Iterator[dict[bool, TestClient]]:
    """The same app with the fast path on and off (a small upload limit to reach the 413)."""

    def settings(fast: bool) -> Settings:
        return Settings(models_dir=models_dir, infer_fast_path=fast, max_upload_bytes=65_536)

    with (
        TestClient(create_app(settings(True))) as fast,
        TestClient(create_app(settings(False))) as routed,
    ):
        yield {True: fast, False: routed}


def send(client: TestClient, case: str) -> httpx.Response:
    """One request; a `-chunked` case streams its body (no Content-Length to refuse early)."""
    method, path, body, headers = REQUESTS[case]
    content = iter([body[:1000], body[1000:]]) if case.endswith("chunked") else body
    return client.request(method, path, content=content, headers=headers)


@pytest.mark.parametrize("case", sorted(REQUESTS))
def test_the_fast_path_answers_like_the_route(clients: dict[bool, TestClient], case: str) -> None:
    fast, routed = (send(clients[on], case) for on in (True, False))
    assert_same_answer(fast, routed)
    if fast.status_code >= 400:
        assert "error" in fast.json()


def test_a_chunked_body_over_the_limit_is_refused_and_the_connection_closed(
    clients: dict[bool, TestClient],
) -> None:
    for answer in (send(clients[on], "too-large-chunked") for on in (True, False)):
        assert answer.status_code == 413
        assert answer.json() == {"error": "request body is larger than the limit of 65536 bytes"}
        assert answer.headers["connection"] == "close"
        assert "content-length" not in answer.request.headers


def test_metrics_label_fast_path_requests_by_route_template(
    clients: dict[bool, TestClient],
) -> None:
    fast = clients[True]
    method, path, body, headers = REQUESTS["versioned"]
    assert fast.request(method, path, content=body, headers=headers).status_code == 200
    text = fast.get("/metrics").text
    for template in ("/v2/models/{name}/infer", "/v2/models/{name}/versions/{version}/infer"):
        pattern = rf'nnserve_requests_total\{{endpoint="{re.escape(template)}",model="mnist-mlp"'
        assert re.search(pattern, text), template


def test_a_request_id_is_echoed_on_the_fast_path(clients: dict[bool, TestClient]) -> None:
    _, path, body, headers = REQUESTS["json"]
    answer = clients[True].post(path, content=body, headers={**headers, "x-request-id": "r-42"})
    assert answer.headers["x-request-id"] == "r-42"


def test_concurrent_requests_through_the_app_are_batched_and_answered_right(
    models_dir: Path,
) -> None:
    oracle = ort.InferenceSession(str(models_dir / "mnist-mlp" / "1" / "model.onnx"))
    xs = [np.random.default_rng(i).normal(size=(1 + i % 3, 784)).astype(np.float32)
          for i in range(24)]  # fmt: skip
    app = create_app(Settings(models_dir=models_dir, batch_max_wait_us=1))

    async def scenario() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://nnserve") as c:
                calls = [c.post(INFER, content=json_body(x), headers=JSON) for x in xs]
                return list(await asyncio.gather(*calls))

    answers = asyncio.run(scenario())
    batcher = app.state.registry.get("mnist-mlp").batcher
    assert batcher is not None and batcher.runs < len(xs)
    for x, answer in zip(xs, answers, strict=True):
        outputs = {out["name"]: out for out in answer.json()["outputs"]}
        want = oracle.run(["probabilities"], {"input": x})[0]
        got = np.array(outputs["probabilities"]["data"], np.float32).reshape(want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_batching_off_runs_each_request_alone(models_dir: Path) -> None:
    with TestClient(create_app(Settings(models_dir=models_dir, batch_max_wait_us=0))) as client:
        assert client.app.state.registry.get("mnist-mlp").batcher is None  # type: ignore[attr-defined]
        _, path, body, headers = REQUESTS["json"]
        assert client.post(path, content=body, headers=headers).status_code == 200


def test_the_fast_path_holds_both_infer_routes(models_dir: Path) -> None:
    """It matches with the app's infer routes: none would mean every request silently takes
    the router (same answers, twice the CPU)."""
    app = create_app(Settings(models_dir=models_dir))
    layer: Any = app.build_middleware_stack()
    while layer is not None and not isinstance(layer, InferFastPath):
        layer = getattr(layer, "app", None)
    assert layer is not None
    assert sorted(r.path for r in layer.routes) == [
        "/v2/models/{name}/infer",
        "/v2/models/{name}/versions/{version}/infer",
    ]


@pytest.mark.parametrize("case", sorted(REQUESTS))
def test_infer_requests_entering_at_the_request_context_answer_as_through_fastapi(
    clients: dict[bool, TestClient], case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = clients[True].app
    assert isinstance(app, InferEntranceApp)
    entered = send(clients[True], case)
    assert isinstance(app.entrance(), RequestContextMiddleware)  # found in the built stack
    monkeypatch.setattr(InferEntranceApp, "entrance", lambda self: None)  # FastAPI's way in
    assert_same_answer(entered, send(clients[True], case))


def test_an_unexpected_error_past_the_entrance_is_a_json_500_with_its_request_id(
    clients: dict[bool, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(dataplane, "infer_bytes", broken)
    _, path, body, headers = REQUESTS["json"]
    answer = clients[True].post(path, content=body, headers={**headers, "x-request-id": "r-500"})
    assert (answer.status_code, answer.json()) == (500, {"error": "internal error"})
    assert answer.headers["x-request-id"] == "r-500"
