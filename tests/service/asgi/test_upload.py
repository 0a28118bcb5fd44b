"""The /predict fast path answers exactly what the route answers, good or bad (status, headers,
body); it finds a plain form's file in one pass and leaves every other form, with its body
intact, to the route; and its query reading agrees with pydantic's."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import TypeAdapter, ValidationError

from service.app import create_app
from service.asgi.upload import BOOLEANS, UploadFastPath, form_file, plain_query
from service.config import Settings
from service.routes import predict
from tests.service.asgi.parity import assert_same_answer
from tests.service.images.synthetic import encode, png_header_only, seven_png

SEVEN = seven_png()
PNG = {"content-type": "image/png"}
MULTIPART = "multipart/form-data"
XYZ = {"content-type": f"{MULTIPART}; boundary=xyz"}
Case = tuple[str, dict[str, Any]]  # (query, httpx request arguments)


def form(*parts: tuple[str, Any]) -> dict[str, Any]:
    """httpx's own multipart encoding of files and fields."""
    files = [(name, value) for name, value in parts if isinstance(value, tuple)]
    data = {name: value for name, value in parts if not isinstance(value, tuple)}
    return {"files": files, "data": data}


CASES: dict[str, Case] = {
    "raw": ("", {"content": SEVEN, "headers": PNG}),
    "raw-octets": ("", {"content": SEVEN, "headers": {"content-type": "application/octet-stream"}}),
    "form": ("", form(("file", ("d.png", SEVEN, "image/png")))),
    "form-no-type": ("", form(("file", ("d.png", SEVEN)))),
    "form-and-field": ("", form(("file", ("d.png", SEVEN, "image/png")), ("note", "hi"))),
    "form-two-files": ("", form(("file", ("a.png", SEVEN)), ("other", ("b.png", SEVEN)))),
    "form-missing-file": ("", form(("image", ("d.png", SEVEN, "image/png")))),
    "form-not-a-file": ("", form(("x", ("x.png", b"")), ("file", "not a file"))),
    "form-broken": ("", {"content": b"--xyz\r\nbroken", "headers": XYZ}),
    "form-no-boundary": ("", {"content": b"--xyz\r\n", "headers": {"content-type": MULTIPART}}),
    "debug": ("debug=true", {"content": SEVEN, "headers": PNG}),
    "debug-yes": ("debug=YES&model=mnist-softmax", form(("file", ("d.png", SEVEN)))),
    "debug-off": ("debug=off", {"content": SEVEN, "headers": PNG}),
    "debug-bad": ("debug=maybe", {"content": SEVEN, "headers": PNG}),
    "debug-twice": ("debug=1&debug=0", {"content": SEVEN, "headers": PNG}),
    "model-twice": ("model=mnist-mlp&model=nope", {"content": SEVEN, "headers": PNG}),
    "model-empty": ("model=&other=1", {"content": SEVEN, "headers": PNG}),
    "softmax": ("model=mnist-softmax", {"content": SEVEN, "headers": PNG}),
    "unknown-model": ("model=nope", {"content": SEVEN, "headers": PNG}),
    "unknown-model-bad-type": ("model=nope", {"content": SEVEN, "headers": {"content-type":
                                                                              "text/plain"}}),
    "not-an-image-model": ("model=linear-regression", {"content": SEVEN, "headers": PNG}),
    "text": ("", {"content": SEVEN, "headers": {"content-type": "text/plain"}}),
    "no-type": ("", {"content": SEVEN}),
    "empty": ("", {"content": b"", "headers": PNG}),
    "empty-form-file": ("", form(("file", ("d.png", b"", "image/png")))),
    "not-png": ("", {"content": b"plain text", "headers": PNG}),
    "truncated": ("", form(("file", ("d.png", SEVEN[:200], "image/png")))),
    "corrupt": ("", {"content": png_header_only(64, 64), "headers": PNG}),
    "blank": ("", form(("file", ("d.png", encode(Image.new("L", (300, 200), 255)))))),
    "too-many-pixels": ("", {"content": png_header_only(400, 300), "headers": PNG}),
    "too-large": ("", form(("file", ("d.png", seven_png(size=2000))))),
    "too-large-raw": ("", {"content": b"\x00" * 70_000, "headers": PNG}),
}  # fmt: skip


@pytest.fixture(scope="module")
def clients(models_dir: Path) -> Iterator[dict[bool, TestClient]]:
    """The same app with the fast path on and off (small limits to reach the 413s)."""

    def settings(fast: bool) -> Settings:
        return Settings(models_dir=models_dir, predict_fast_path=fast, max_upload_bytes=65_536,
                        max_image_pixels=100_000)  # fmt: skip

    with (
        TestClient(create_app(settings(True))) as fast,
        TestClient(create_app(settings(False))) as routed,
    ):
        yield {True: fast, False: routed}


def send(client: TestClient, case: str) -> httpx.Response:
    query, arguments = CASES[case]
    return client.post(f"/predict?{query}" if query else "/predict", **arguments)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_fast_path_answers_like_the_route(clients: dict[bool, TestClient], case: str) -> None:
    fast, routed = (send(clients[on], case) for on in (True, False))
    assert_same_answer(fast, routed)
    assert fast.status_code == 200 or "error" in fast.json()


def test_metrics_label_fast_path_uploads_by_the_route(clients: dict[bool, TestClient]) -> None:
    fast = clients[True]
    assert send(fast, "softmax").status_code == 200
    text = fast.get("/metrics").text
    assert re.search(r'nnserve_requests_total\{endpoint="/predict",model="mnist-softmax"', text)


# -- which requests the fast path answers itself, and what the route gets otherwise ----------


def encoded(case: str) -> tuple[bytes, bytes, str]:
    """(body, query string, content type) of a case as httpx sends it."""
    query, arguments = CASES[case]
    request = httpx.Request("POST", f"http://nnserve/predict?{query}", **arguments)
    return request.read(), query.encode(), request.headers.get("content-type", "")


def through_the_fast_path(app: Any, request: tuple[bytes, bytes, str]) -> tuple[int, bytes]:
    """(status, body) of an encoded request through UploadFastPath in front of an app that
    echoes what it is handed with status 299: the route's side, seen from the fast path."""
    body, query, content_type = request
    fast_path = UploadFastPath(echo_body, predict.fast_path())
    scope = {"type": "http", "method": "POST", "path": "/predict", "query_string": query,
             "headers": [(b"content-type", content_type.encode())], "app": app}  # fmt: skip
    messages = [{"type": "http.request", "body": body[:100], "more_body": True},
                {"type": "http.request", "body": body[100:], "more_body": False}]  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def collect(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(fast_path(scope, receive, collect))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def echo_body(scope: Any, receive: Any, send: Any) -> None:
    chunks = []
    while (message := await receive())["type"] == "http.request":
        chunks.append(message["body"])
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"".join(chunks)})


@pytest.fixture(scope="module")
def app(clients: dict[bool, TestClient]) -> Any:
    return clients[True].app  # its lifespan ran: the registry is loaded


@pytest.mark.parametrize("case", ["raw", "raw-octets", "form", "form-no-type", "debug-yes"])
def test_plain_uploads_are_answered_by_the_fast_path(app: Any, case: str) -> None:
    status, body = through_the_fast_path(app, encoded(case))
    assert status == 200 and b'"number":"7"' in body


@pytest.mark.parametrize(
    "case",
    ["form-and-field", "form-two-files", "form-missing-file", "form-not-a-file", "form-broken",
     "form-no-boundary", "text", "no-type", "debug-bad", "debug-twice", "model-twice"],
)  # fmt: skip
def test_every_other_request_reaches_the_route_with_its_body_whole(app: Any, case: str) -> None:
    request = encoded(case)
    assert through_the_fast_path(app, request) == (299, request[0])


def test_an_unknown_model_is_the_fast_paths_own_404(app: Any) -> None:
    status, body = through_the_fast_path(app, encoded("unknown-model"))
    assert (status, body) == (404, b'{"error":"model \'nope\' not found"}')


# -- the two parsers, alone ------------------------------------------------------------------


def test_a_plain_form_yields_the_files_exact_bytes() -> None:
    payload = bytes(range(256)) * 40 + b"\r\n--not-the-boundary\r\n"
    body, _, content_type = encoded("form")
    assert form_file(body, content_type, b"file") == SEVEN
    request = httpx.Request("POST", "http://x/", files={"file": ("p.bin", payload)})
    assert form_file(request.read(), request.headers["content-type"], b"file") == payload


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b"\r\n" + b,  # a preamble
        lambda b: b + b"epilogue",
        lambda b: b[:-4],  # the closing delimiter cut
        lambda b: b.replace(b"filename=", b"fname="),  # not a file
        lambda b: b.replace(b'name="file"', b'name="File"'),
        lambda b: b.replace(b"Content-Type: image/png", b"Content-Transfer-Encoding: base64"),
        lambda b: b.replace(b"\r\n\r\n", b"\r\n", 1),  # no blank line after the headers
    ],
    ids=["preamble", "epilogue", "unclosed", "no-filename", "other-name", "encoding", "no-break"],
)
def test_any_other_form_is_left_to_the_route(change: Any) -> None:
    body, _, content_type = encoded("form")
    assert form_file(change(body), content_type, b"file") is None
    assert form_file(body, content_type + "; charset=latin-1", b"file") is None


def test_the_query_is_read_as_fastapi_reads_it() -> None:
    for value, meaning in BOOLEANS.items():
        for spelt in (value, value.upper()):
            assert TypeAdapter(bool).validate_python(spelt) is meaning
            assert plain_query(f"debug={spelt}".encode()) == (None, meaning)
    for refused in ("", "2", "maybe", " true"):
        with pytest.raises(ValidationError):
            TypeAdapter(bool).validate_python(refused)
        assert plain_query(f"debug={refused}".encode()) is None
    assert plain_query(b"model=mnist-softmax&x=1") == ("mnist-softmax", False)
    assert plain_query(b"model=a%20b&debug=1") == ("a b", True)
    assert plain_query(b"") == (None, False)
    assert plain_query(b"model=a&model=b") is None
