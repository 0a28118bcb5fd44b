"""Draw a number: "42" drawn on the pad comes back as 42, with each digit's box over the
drawing where that digit was drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page

if TYPE_CHECKING:  # the fixture's type only; conftest is not imported as a module
    from tests.browser.conftest import Web

pytestmark = pytest.mark.browser


def stroke(page: Page, points: list[tuple[float, float]]) -> None:
    """One mouse stroke through pad coordinates (0..280)."""
    box = page.locator("#pad").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
    page.mouse.up()


def draw_42(page: Page) -> None:
    stroke(page, [(70, 60), (25, 165), (120, 165)])  # the 4's open side and its bar
    stroke(page, [(95, 90), (95, 230)])  # the 4's stem
    two = [(160, 95), (185, 70), (225, 68), (245, 95), (235, 130), (165, 225), (255, 225)]
    stroke(page, two)


def test_a_drawn_number_is_read_with_each_digits_box(web: Web) -> None:
    page = web.open("/")
    draw_42(page)
    page.wait_for_function("document.getElementById('digit').dataset.number === '42'")
    assert page.locator("#digit").inner_text() == "42"
    boxes = page.locator("#drop-zone .digit-box")
    assert boxes.count() == 2
    pad = page.locator("#pad").bounding_box()
    four, two = (boxes.nth(k).bounding_box() for k in range(2))
    assert pad is not None and four is not None and two is not None
    assert [boxes.nth(k).get_attribute("data-digit") for k in range(2)] == ["4", "2"]
    # Each box lies over the half of the pad where its digit was drawn.
    assert pad["x"] + 10 <= four["x"] and four["x"] + four["width"] <= pad["x"] + 150
    assert pad["x"] + 140 <= two["x"] and two["x"] + two["width"] <= pad["x"] + 270
    assert four["height"] > 120 and two["height"] > 120
    web.screenshot("web-draw-number", "#draw")

    page.click("#clear")
    assert boxes.count() == 0 and page.locator("#digit").inner_text() == "?"
