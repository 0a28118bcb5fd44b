"""The calculus lessons on the page, in a real Chromium against the real service.

Edit a, b, c and see J and the derivatives change; shrink h and see the estimate approach the
slope; the activations plotted from served numbers; softmax's temperature; a screenshot of
each lesson. Every number checked is one the page shows from V2 infer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:  # the fixture's type only; conftest is not imported as a module
    from tests.browser.conftest import Web

pytestmark = pytest.mark.browser


def data(page: Page, selector: str, key: str) -> object:
    return json.loads(page.locator(selector).get_attribute(f"data-{key}") or "null")


def test_edit_a_b_c_and_see_j_and_the_derivatives_change(web: Web) -> None:
    page = web.open("/#graph")
    canvas = page.locator("#graph-canvas")
    expect(canvas).to_have_attribute("data-values", '{"a":5,"b":3,"c":2,"u":6,"v":11,"J":33}')
    grads = data(page, "#graph-canvas", "grads")
    assert grads == {"J": 1, "v": 3, "u": 3, "a": 3, "b": 6, "c": 9}
    expect(page.locator("#graph-nudges li").first).to_contain_text("J goes from 33 to 33.003")
    moved = float(page.locator("#graph-nudges li[data-input=a]").get_attribute("data-moved") or 0)
    assert moved == pytest.approx(0.003, abs=1e-5)
    web.screenshot("lesson-computation-graph", "#graph")
    page.fill("#graph-b", "-1")
    page.fill("#graph-c", "4")
    expect(canvas).to_have_attribute("data-values", '{"a":5,"b":-1,"c":4,"u":-4,"v":1,"J":3}')
    assert data(page, "#graph-canvas", "grads") == {
        "J": 1,
        "v": 3,
        "u": 3,
        "a": 3,
        "b": 12,
        "c": -3,
    }
    expect(page.locator("#graph-nudges li[data-input=c]")).to_contain_text("dJ/dc = -3")


# True once the readout shows the answer for h = 10^power (each slider move asks anew).
SHOWS_H = (
    "p => Math.abs(Math.log10(Number(document.querySelector('#slope-readout').dataset.h)) - p)"
    " < 1e-9"
)
PROBABILITIES = "JSON.parse(document.querySelector('#softmax-bars').dataset.probabilities)"


def estimate_error(page: Page) -> float:
    readout = page.locator("#slope-readout")
    return abs(
        float(readout.get_attribute("data-estimate") or "nan")
        - float(readout.get_attribute("data-slope") or "nan")
    )


def test_shrink_h_and_see_the_estimate_approach_the_slope(web: Web) -> None:
    page = web.open("/#slope")
    readout = page.locator("#slope-readout")
    expect(readout).to_contain_text("estimate (f(a + h) - f(a)) / h = 4.001")  # a^2 at 2, h = 1e-3
    errors = []
    for power in (-1, -3, -5, -7):
        page.locator("#slope-h").fill(str(power))
        page.wait_for_function(SHOWS_H, arg=power)
        errors.append(estimate_error(page))
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-6, errors
    web.screenshot("lesson-derivative", "#slope")
    curve = data(page, "#slope-errors", "errors")
    assert isinstance(curve, list) and len(curve) == 15
    assert abs(curve[-1][1]) > abs(curve[6][1])  # h = 1e-15 worse than 1e-7: rounding took over
    page.select_option("#slope-fn", "2")
    page.fill("#slope-a", "1")
    page.locator("#slope-h").fill("-6")
    expect(readout).to_contain_text("exact slope = 3000")


def test_activations_plotted_beside_their_derivatives(web: Web) -> None:
    page = web.open("/#activations")
    peaks = {"sigmoid": "0.25", "tanh": "1", "relu": "1"}
    for name, peak in peaks.items():
        expect(page.locator(f"#act-{name}")).to_have_attribute("data-peak-grad", peak)
        expect(page.locator(f"#act-{name}")).to_have_attribute("data-points", "121")
    bars = page.locator("#softmax-bars")
    expect(bars.locator("li")).to_have_count(4)
    plain = data(page, "#softmax-bars", "probabilities")
    assert isinstance(plain, list) and 0.5 < plain[0] < 0.9  # T = 1: softmax(2, 1, 0.1, -1)
    page.locator("#softmax-t").fill("-1.5")  # T = 10^-1.5 ~ 0.03: sharp
    expect(page.locator("#softmax-t-value")).to_have_text("T = 0.0316")
    page.wait_for_function(f"() => {PROBABILITIES}[0] > 0.99")
    page.locator("#softmax-t").fill("1.5")  # T ~ 31.6: nearly uniform
    page.wait_for_function(f"() => Math.max(...{PROBABILITIES}) < 0.3")
    web.screenshot("lesson-activations", "#activations")


def test_the_lessons_in_chinese(web: Web) -> None:
    page = web.open("/")
    page.select_option("#lang", "zh")
    expect(page.locator("#graph-title")).to_have_text("计算图 J = 3(a + bc)")
    expect(page.locator("#slope-title")).to_have_text("导数就是斜率")
    expect(page.locator("#act-title")).to_have_text("激活函数及其导数")
    expect(page.locator("#graph-nudges li").first).to_contain_text("把 a 增加 0.001")
    web.screenshot("lesson-computation-graph-zh", "#graph")
