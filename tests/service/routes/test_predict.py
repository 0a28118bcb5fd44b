"""POST /predict on the real app and the committed models: both ways to upload, both MNIST
models, ?debug=true, and every bad input (status, exact JSON body, service still live)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from service.app import create_app
from service.config import Settings
from service.images.digits import to_tensor
from service.images.number import read_number
from tests.service.images.synthetic import encode, png_header_only, seven_png

LIMIT = Settings().max_upload_bytes
PNG = {"content-type": "image/png"}
LiveCheck = Callable[[TestClient], None]


SEVEN = seven_png()


def multipart(data: bytes, name: str = "file") -> dict[str, tuple[str, bytes, str]]:
    return {name: ("digit.png", data, "image/png")}


def expect(response: object, status: int, body: dict[str, object]) -> None:
    assert hasattr(response, "status_code") and hasattr(response, "json")
    assert (response.status_code, response.json()) == (status, body)


# -- answers --------------------------------------------------------------------------------


def test_multipart_upload_is_recognized(client: TestClient) -> None:
    response = client.post("/predict", files=multipart(SEVEN))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "model",
        "version",
        "digit",
        "probabilities",
        "provider",
        "number",
        "digits",
    }
    assert body["number"] == "7" and len(body["digits"]) == 1
    assert body["digits"][0]["probabilities"] == body["probabilities"]
    assert (body["model"], body["version"], body["digit"]) == ("mnist-mlp", 1, 7)
    assert body["provider"] == "CPUExecutionProvider"
    assert len(body["probabilities"]) == 10
    assert sum(body["probabilities"]) == pytest.approx(1.0, abs=1e-4)
    assert body["probabilities"][7] == max(body["probabilities"])


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "application/octet-stream"])
def test_raw_body_upload_is_recognized(client: TestClient, content_type: str) -> None:
    # The content type only routes the body: the bytes themselves say what the image is.
    response = client.post("/predict", content=SEVEN, headers={"content-type": content_type})
    assert (response.status_code, response.json()["digit"]) == (200, 7)


def test_both_ways_give_the_same_answer(client: TestClient) -> None:
    raw = client.post("/predict", content=SEVEN, headers=PNG).json()
    form = client.post("/predict", files=multipart(SEVEN)).json()
    assert raw == form


@pytest.mark.parametrize("model", ["mnist-mlp", "mnist-softmax"])
def test_probabilities_are_the_models_on_the_preprocessed_digit(
    client: TestClient, models_dir: Path, model: str
) -> None:
    body = client.post(f"/predict?model={model}", content=SEVEN, headers=PNG).json()
    session = ort.InferenceSession(
        str(models_dir / model / "1" / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    x = to_tensor(read_number(SEVEN, Settings().max_image_pixels, 12)[0].image, 0.1307, 0.3081)
    (expected,) = session.run(["probabilities"], {"input": x})
    assert body["model"] == model
    np.testing.assert_allclose(body["probabilities"], expected[0], rtol=1e-5, atol=1e-7)
    assert body["digit"] == int(expected[0].argmax())


def test_debug_adds_the_28x28_image_the_model_saw(client: TestClient) -> None:
    body = client.post("/predict?debug=true", content=SEVEN, headers=PNG).json()
    image = np.array(body["image"])
    assert image.shape == (28, 28)
    assert image.dtype.kind == "i" and image.min() == 0 and image.max() == 255
    np.testing.assert_array_equal(
        image, read_number(SEVEN, Settings().max_image_pixels, 12)[0].image
    )
    assert "image" not in client.post("/predict?debug=false", content=SEVEN, headers=PNG).json()


def test_light_ink_on_dark_background_is_recognized(client: TestClient) -> None:
    data = seven_png(paper=10, ink=240)
    assert client.post("/predict", content=data, headers=PNG).json()["digit"] == 7


def test_sample_images_are_recognized(client: TestClient, repo_root: Path) -> None:
    samples = sorted((repo_root / "scripts" / "samples").glob("digit-*"))
    assert samples, "scripts/samples/ holds the sample digits (scripts/dev/make_samples.py)"
    for path in samples:
        expected = int(path.name.split("-")[1].split(".")[0])
        response = client.post("/predict", files={"file": (path.name, path.read_bytes())})
        assert response.json()["digit"] == expected, path.name


# -- bad requests ---------------------------------------------------------------------------

NOT_AN_IMAGE = "not an image in a supported format (PNG, JPEG, BMP, GIF, WebP)"
CORRUPT = "the image is corrupt or truncated and cannot be decoded"
BLANK = "the image is blank: no ink (no digit) was found on it"
EMPTY = "the upload is empty: send the image's bytes"


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"", 422, EMPTY),
        (b"this is plain text, not an image", 415, NOT_AN_IMAGE),
        (SEVEN[: len(SEVEN) // 2], 422, CORRUPT),
        (png_header_only(64, 64), 422, CORRUPT),
        (encode(Image.new("L", (300, 200), 255)), 422, BLANK),
        (encode(Image.new("RGBA", (300, 200), (0, 0, 0, 0))), 422, BLANK),
        (
            png_header_only(6000, 5000),
            413,
            "the image has too many pixels: 6000x5000 = 30000000; the limit is 25000000",
        ),
    ],
    ids=["empty", "text", "truncated", "corrupt", "blank", "blank-canvas", "bomb"],
)
def test_bad_image_is_refused(
    client: TestClient, assert_live: LiveCheck, data: bytes, status: int, message: str
) -> None:
    expect(client.post("/predict", content=data, headers=PNG), status, {"error": message})
    expect(client.post("/predict", files=multipart(data)), status, {"error": message})
    assert_live(client)


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        ({"content-type": "text/plain"}, "text/plain"),
        ({"content-type": "application/json"}, "application/json"),
        ({}, "a body without a content type"),
    ],
)
def test_body_that_is_not_an_image_upload_is_415(
    client: TestClient, assert_live: LiveCheck, headers: dict[str, str], shown: str
) -> None:
    message = (
        "send the image as multipart/form-data field 'file' or as the raw body with an "
        f"image/* content type, not {shown}"
    )
    expect(client.post("/predict", content=SEVEN, headers=headers), 415, {"error": message})
    assert_live(client)


def test_multipart_without_the_file_field_is_422(
    client: TestClient, assert_live: LiveCheck
) -> None:
    message = "multipart field 'file' with the image is missing"
    expect(client.post("/predict", files=multipart(SEVEN, "image")), 422, {"error": message})
    form_field = client.post("/predict", data={"file": "not a file"}, files=multipart(b"", "x"))
    expect(form_field, 422, {"error": "multipart field 'file' with the image is not a file"})
    assert_live(client)


def test_malformed_multipart_is_json(client: TestClient, assert_live: LiveCheck) -> None:
    headers = {"content-type": "multipart/form-data; boundary=xyz"}
    response = client.post("/predict", content=b"--xyz\r\nbroken", headers=headers)
    assert response.status_code in (400, 422)
    assert set(response.json()) == {"error"}
    assert_live(client)


def test_unknown_model_is_404(client: TestClient, assert_live: LiveCheck) -> None:
    expect(
        client.post("/predict?model=nope", content=SEVEN, headers=PNG),
        404,
        {"error": "model 'nope' not found"},
    )
    assert_live(client)


@pytest.mark.parametrize(
    "model", ["linear-regression", "logistic-regression", "polynomial-regression", "quadratic-bowl"]
)
def test_model_that_does_not_read_images_is_422(
    client: TestClient, assert_live: LiveCheck, model: str
) -> None:
    message = (
        f"model {model} does not read images (POST /predict serves mnist-mlp, mnist-softmax); "
        f"send its features to /v1/models/{model}/predict"
    )
    expect(
        client.post(f"/predict?model={model}", content=SEVEN, headers=PNG), 422, {"error": message}
    )
    assert_live(client)


def test_bad_debug_flag_is_422(client: TestClient, assert_live: LiveCheck) -> None:
    response = client.post("/predict?debug=maybe", content=SEVEN, headers=PNG)
    assert response.status_code == 422
    assert response.json()["error"] == (
        "invalid request: query.debug: Input should be a valid boolean, unable to interpret input"
    )
    assert_live(client)


def test_get_is_405(client: TestClient, assert_live: LiveCheck) -> None:
    expect(client.get("/predict"), 405, {"error": "method GET is not allowed on /predict"})
    assert_live(client)


# -- limits and readiness (their own apps) --------------------------------------------------


@pytest.fixture(scope="module")
def small_limits(models_dir: Path) -> Iterator[TestClient]:
    settings = Settings(models_dir=models_dir, max_upload_bytes=4096, max_image_pixels=10_000)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


TOO_LARGE = {"error": "request body is larger than the limit of 4096 bytes"}


def test_body_over_the_upload_limit_is_413(
    small_limits: TestClient, assert_live: LiveCheck
) -> None:
    big = seven_png(size=2000)
    assert len(big) > 4096
    expect(small_limits.post("/predict", content=big, headers=PNG), 413, TOO_LARGE)
    expect(small_limits.post("/predict", files=multipart(big)), 413, TOO_LARGE)
    assert_live(small_limits)


def test_streamed_body_is_counted_not_trusted(
    small_limits: TestClient, assert_live: LiveCheck
) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(10):
            yield b"\x00" * 1000

    expect(small_limits.post("/predict", content=chunks(), headers=PNG), 413, TOO_LARGE)
    assert_live(small_limits)


def test_pixel_limit_is_the_setting(small_limits: TestClient, assert_live: LiveCheck) -> None:
    data = encode(Image.new("L", (101, 100), 255))
    message = "the image has too many pixels: 101x100 = 10100; the limit is 10000"
    expect(small_limits.post("/predict", content=data, headers=PNG), 413, {"error": message})
    assert_live(small_limits)


def test_model_not_ready_is_503(repo_copy: Path, assert_live: LiveCheck) -> None:
    onnx_file = repo_copy / "mnist-mlp" / "1" / "model.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes()[:-1] + b"\x00")
    with TestClient(create_app(Settings(models_dir=repo_copy))) as damaged:
        message = (
            "model mnist-mlp version 1 is not ready: "
            "ValueError: model file model.onnx does not match its sha256 in the card"
        )
        expect(damaged.post("/predict", content=SEVEN, headers=PNG), 503, {"error": message})
        assert (
            damaged.post("/predict?model=mnist-softmax", content=SEVEN, headers=PNG).json()["digit"]
            == 7
        )
        assert_live(damaged)
