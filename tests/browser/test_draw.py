"""Draw a digit: mouse and touch strokes on the pad, a chosen image file, errors shown."""

from __future__ import annotations

import base64
import gzip
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page

if TYPE_CHECKING:  # the fixture's type only; conftest is not imported as a module
    from tests.browser.conftest import Web

pytestmark = pytest.mark.browser

PAD = 280  # CSS pixels of the drawing pad


def pad_origin(page: Page) -> tuple[float, float]:
    box = page.locator("#pad").bounding_box()
    assert box is not None
    return box["x"], box["y"]


def mouse_stroke(page: Page, points: list[tuple[float, float]]) -> None:
    """One stroke through pad coordinates (0..280) with the mouse held down."""
    left, top = pad_origin(page)
    page.mouse.move(left + points[0][0], top + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(left + x, top + y, steps=2)
    page.mouse.up()


def touch_stroke(page: Page, points: list[tuple[float, float]]) -> None:
    """One stroke with a finger, through Chromium's touch input (pointer events of type touch)."""
    left, top = pad_origin(page)
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, x: float, y: float) -> None:
        where = [] if kind == "touchEnd" else [{"x": left + x, "y": top + y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": where})

    touch("touchStart", *points[0])
    for x, y in points[1:]:
        touch("touchMove", x, y)
    touch("touchEnd", *points[-1])
    cdp.detach()


def one() -> list[tuple[float, float]]:
    return [(150 - 0.1 * i, 40 + 10 * i) for i in range(21)]


def zero() -> list[tuple[float, float]]:
    return [
        (140 + 62 * math.sin(t), 140 - 95 * math.cos(t))
        for t in np.linspace(0, 2 * math.pi * 1.05, 48)
    ]


def prediction(page: Page) -> str:
    """Wait for the answer to the latest stroke or file and return the digit shown."""
    page.wait_for_function("document.getElementById('digit').dataset.value !== undefined")
    return page.locator("#digit").inner_text()


def shown_probabilities(page: Page) -> list[float]:
    values = page.locator("#bars li").evaluate_all("items => items.map(i => i.dataset.probability)")
    return [float(v) for v in values]


def seen_ink_pixels(page: Page) -> int:
    """Pixels of the 28x28 'what the model saw' canvas that are not black."""
    return int(
        page.evaluate(
            """() => {
              const c = document.getElementById('seen');
              const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
              let n = 0;
              for (let i = 0; i < d.length; i += 4) if (d[i] > 40) n++;
              return n;
            }"""
        )
    )


def test_drawn_one_and_zero_are_recognised(web: Web) -> None:
    page = web.open("/")
    mouse_stroke(page, one())
    assert prediction(page) == "1"
    probabilities = shown_probabilities(page)
    assert len(probabilities) == 10
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-3)
    assert max(probabilities) == probabilities[1]
    assert seen_ink_pixels(page) > 20, "the 28x28 image the model saw is not drawn"
    meta = page.locator("#predict-meta").inner_text()
    assert "mnist-mlp" in meta and "ms" in meta
    web.screenshot("web-draw-one", "#draw")

    page.click("#clear")
    assert page.locator("#digit").inner_text() == "?"
    mouse_stroke(page, zero())
    assert prediction(page) == "0"
    web.screenshot("web-draw-zero", "#draw")


def test_changing_the_model_asks_it_again(web: Web) -> None:
    page = web.open("/")
    mouse_stroke(page, one())
    assert prediction(page) == "1"
    page.select_option("#predict-model", "mnist-softmax")
    page.wait_for_function(
        "document.getElementById('predict-meta').innerText.includes('model mnist-softmax')"
    )
    assert prediction(page) == "1"


def test_touch_stroke_draws_and_predicts(web: Web) -> None:
    page = web.open("/")
    touch_stroke(page, one())
    assert prediction(page) == "1"


def mnist_test_digit(mnist_dir: Path, index: int) -> tuple[np.ndarray, int]:
    """One MNIST test image [28, 28] uint8 and its label, read from the IDX files."""
    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as images:
        pixels = np.frombuffer(images.read(), dtype=np.uint8, offset=16)
    with gzip.open(mnist_dir / "t10k-labels-idx1-ubyte.gz") as labels:
        label = int(np.frombuffer(labels.read(), dtype=np.uint8, offset=8)[index])
    return pixels.reshape(-1, 28, 28)[index], label


def sample_png(mnist_dir: Path, index: int, path: Path) -> int:
    """A photo-like sample PNG of an MNIST test digit: dark ink on white paper, 8x larger,
    off-centre on a wider sheet. Returns its label."""
    digit, label = mnist_test_digit(mnist_dir, index)
    sheet = Image.new("L", (320, 260), 255)
    sheet.paste(Image.fromarray(255 - digit).resize((224, 224), Image.Resampling.BICUBIC), (70, 20))
    sheet.save(path)
    return label


def test_chosen_png_is_predicted(web: Web, mnist_dir: Path, tmp_path: Path) -> None:
    label = sample_png(mnist_dir, 0, tmp_path / "sample-digit.png")
    page = web.open("/")
    page.set_input_files("#file", str(tmp_path / "sample-digit.png"))
    assert prediction(page) == str(label)
    web.screenshot("web-upload", "#draw")


def test_dropped_png_is_predicted(web: Web, mnist_dir: Path, tmp_path: Path) -> None:
    label = sample_png(mnist_dir, 1, tmp_path / "dropped.png")
    page = web.open("/")
    page.evaluate(
        """([b64, name]) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, { type: "image/png" }));
          const drop = new DragEvent("drop", { dataTransfer: transfer, bubbles: true });
          document.getElementById("drop-zone").dispatchEvent(drop);
        }""",
        [base64.b64encode((tmp_path / "dropped.png").read_bytes()).decode(), "dropped.png"],
    )
    assert prediction(page) == str(label)


def test_api_error_is_shown_to_the_person(web: Web, tmp_path: Path) -> None:
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_bytes(b"this is not a picture of a digit")
    page = web.open("/")
    page.set_input_files("#file", str(not_an_image))
    error = page.locator("#predict-error")
    error.wait_for(state="visible")
    text = error.inner_text()
    assert text.startswith(("HTTP 415", "HTTP 422")), text
    assert page.locator("#digit").inner_text() == "?"


def seven() -> list[tuple[float, float]]:
    top = [(70 + 7 * i, 62) for i in range(21)]
    return top + [(210 - 4.5 * i, 62 + 9 * i) for i in range(1, 21)]


def test_whole_page_overview(web: Web) -> None:
    """The page a person sees: a drawn 7 and a few bowl steps (the README's screenshot)."""
    page = web.open("/")
    page.wait_for_function("document.getElementById('models-status').innerText.includes('v1')")
    assert "not ready" not in page.locator("#models-status").inner_text()
    mouse_stroke(page, seven())
    assert prediction(page) == "7"
    page.select_option("#problem", "quadratic-bowl")
    page.select_option("#init", "trained")
    page.fill("#lr", "0.1")
    for steps_per_click, expected in [(1, 1), *[(3, 1 + 3 * n) for n in range(1, 11)]]:
        page.fill("#steps", str(steps_per_click))
        page.click("#step")
        page.wait_for_function(
            f"document.getElementById('stat-steps').dataset.value === '{expected}'"
        )
    web.screenshot("web-overview")
