"""POST /predict reads numbers: `number`, `digits` with boxes in the upload's pixels, one
batch, ?debug=true images per digit, and the refusals (too many digits, blank, not digits)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont

from service.app import create_app
from service.config import Settings
from tests.service.images.synthetic import encode
from training.data import load_mnist

LiveCheck = Callable[[TestClient], None]
PNG = {"content-type": "image/png"}
Mnist = tuple[np.ndarray, np.ndarray]


@pytest.fixture(scope="module")
def mnist_test(mnist_dir: Path) -> Mnist:
    return load_mnist(mnist_dir, train=False)


def written(digits: list[np.ndarray], scale: int = 8, gap: int = 60) -> Image.Image:
    """MNIST digits side by side, dark ink on white paper, `gap` px apart."""
    tiles = [Image.fromarray(255 - d).resize((28 * scale, 28 * scale)) for d in digits]
    page = Image.new(
        "L", (sum(t.width for t in tiles) + gap * (len(tiles) + 1), 28 * scale + 80), 255
    )
    x = gap
    for tile in tiles:
        page.paste(tile, (x, 40))
        x += tile.width + gap
    return page


def first_of_each(mnist_test: Mnist, number: str) -> list[np.ndarray]:
    images, labels = mnist_test
    return [images[int(np.flatnonzero(labels == int(c))[0])] for c in number]


def test_a_number_is_read_with_each_digits_box(client: TestClient, mnist_test: Mnist) -> None:
    page = written(first_of_each(mnist_test, "4207"))
    body = client.post("/predict", content=encode(page), headers=PNG).json()
    assert body["number"] == "4207"
    assert [d["digit"] for d in body["digits"]] == [4, 2, 0, 7]
    assert (body["digit"], body["probabilities"]) == (4, body["digits"][0]["probabilities"])
    for k, d in enumerate(body["digits"]):
        x, y, w, h = d["box"]
        left = 60 + k * (224 + 60)  # where written() pasted the k-th 224x224 tile
        assert left <= x and x + w <= left + 224 and y >= 40 and y + h <= 40 + 224
        assert w > 50 and h > 120  # the digit's ink, not a speck of it
        assert sum(d["probabilities"]) == pytest.approx(1.0, abs=1e-4)


def test_boxes_are_in_the_uploads_pixels_however_large(
    client: TestClient, mnist_test: Mnist
) -> None:
    # 24 megapixels: read at the working resolution, boxes scaled back to the upload.
    small = written(first_of_each(mnist_test, "31"))
    large = small.resize((small.width * 6, small.height * 6))
    small_body = client.post("/predict", content=encode(small), headers=PNG).json()
    body = client.post("/predict", content=encode(large, "JPEG"), headers=PNG).json()
    assert body["number"] == small_body["number"] == "31"
    for big, little in zip(body["digits"], small_body["digits"], strict=True):
        np.testing.assert_allclose(big["box"], np.array(little["box"]) * 6, atol=14)


def test_debug_gives_each_digits_28x28_image(client: TestClient, mnist_test: Mnist) -> None:
    page = encode(written(first_of_each(mnist_test, "58")))
    body = client.post("/predict?debug=true", content=page, headers=PNG).json()
    images = [np.array(d["image"]) for d in body["digits"]]
    assert [i.shape for i in images] == [(28, 28), (28, 28)]
    assert all(i.max() == 255 and i[0].max() == 0 for i in images)  # white on black, margin
    np.testing.assert_array_equal(body["image"], images[0])
    plain = client.post("/predict", content=page, headers=PNG).json()
    assert "image" not in plain and all("image" not in d for d in plain["digits"])


def test_more_digits_than_the_limit_is_422(
    models_dir: Path, mnist_test: Mnist, assert_live: LiveCheck
) -> None:
    page = encode(written(first_of_each(mnist_test, "1234"), scale=4, gap=30))
    with TestClient(create_app(Settings(models_dir=models_dir, max_digits=3))) as client:
        response = client.post("/predict", content=page, headers=PNG)
        assert (response.status_code, response.json()) == (
            422,
            {"error": "the image holds 4 digits; at most 3 are read (NNSERVE_MAX_DIGITS)"},
        )
        assert_live(client)


def test_a_blank_page_is_still_422(client: TestClient) -> None:
    blank = encode(Image.new("L", (400, 200), 250))
    response = client.post("/predict", content=blank, headers=PNG)
    assert (response.status_code, response.json()) == (
        422,
        {"error": "the image is blank: no ink (no digit) was found on it"},
    )


def noise() -> Image.Image:
    """Salt and pepper all over: thousands of specks, none of them a digit."""
    rng = np.random.default_rng(0)
    return Image.fromarray(np.where(rng.random((900, 1200)) < 0.5, 0, 255).astype(np.uint8))


def drawing() -> Image.Image:
    """A house: a roof, walls, a door and a window: no digit has three holes."""
    image = Image.new("L", (400, 400), 255)
    draw = ImageDraw.Draw(image)
    draw.polygon([(60, 180), (200, 50), (340, 180)], outline=0, width=10)
    draw.rectangle([80, 180, 320, 360], outline=0, width=10)
    draw.rectangle([170, 260, 230, 360], outline=0, width=10)
    return image


def text() -> Image.Image:
    """A typed sentence: more shapes than any number the service reads."""
    image = Image.new("L", (1400, 160), 255)
    font = ImageFont.load_default(size=70)
    ImageDraw.Draw(image).text((20, 30), "Read me a number, please", fill=0, font=font)
    return image


def face() -> Image.Image:
    image = Image.new("L", (300, 300), 255)
    draw = ImageDraw.Draw(image)
    draw.ellipse([30, 30, 270, 270], outline=0, width=10)
    draw.ellipse([90, 100, 115, 125], fill=0)
    draw.ellipse([185, 100, 210, 125], fill=0)
    draw.arc([90, 130, 210, 220], start=20, end=160, fill=0, width=10)
    return image


@pytest.mark.parametrize(
    ("picture", "message"),
    [
        (drawing, "do not look like digits"),
        (face, "do not look like digits"),
        (noise, "do not look like digits|blank"),
        (text, "do not look like digits|at most 12 are read"),
    ],
)
def test_shapes_that_are_not_a_number_are_422(
    client: TestClient, assert_live: LiveCheck, picture: Callable[[], Image.Image], message: str
) -> None:
    response = client.post("/predict", content=encode(picture()), headers=PNG)
    assert response.status_code == 422
    assert set(response.json()) == {"error"}
    assert re.search(message, response.json()["error"])
    assert_live(client)
