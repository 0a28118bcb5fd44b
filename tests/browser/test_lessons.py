"""The lessons on the descent page, in a real Chromium against the real service.

tiny-mlp's hidden units from zeros and from a random start, and logistic regression on the
same points; polynomial-fit's degree and L2 controls with both loss curves; two-minima's
start chosen by a click. Every number checked is one the page shows from the endpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page

if TYPE_CHECKING:  # the fixture's type only; conftest is not imported as a module
    from tests.browser.conftest import Web

pytestmark = pytest.mark.browser


def choose(page: Page, problem: str, lr: str, steps: str, init: str) -> None:
    page.select_option("#problem", problem)
    page.select_option("#init", init)
    page.fill("#lr", lr)
    page.fill("#steps", steps)


def step_once(page: Page) -> None:
    before = shown(page, "#stat-steps")
    page.click("#step")
    page.wait_for_function(
        f"Number(document.getElementById('stat-steps').dataset.value) > {before}"
        " || !document.getElementById('descent-error').hidden"
    )
    error = page.locator("#descent-error")
    if error.is_visible():
        pytest.fail(f"the page shows an API error: {error.inner_text()}")


def shown(page: Page, selector: str) -> float:
    return float(page.locator(selector).get_attribute("data-value") or "nan")


def parameter(page: Page, name: str) -> float:
    return shown(page, f"#stat-params .param[data-name='{name}']")


def hidden_units(page: Page) -> set[tuple[float, float, float, float]]:
    return {
        tuple(parameter(page, f"h{k}.{p}") for p in ("w1", "w2", "b", "out"))  # type: ignore[misc]
        for k in range(1, 5)
    }


def test_tiny_mlp_from_zeros_keeps_its_units_identical(web: Web) -> None:
    page = web.open("/")
    choose(page, "tiny-mlp", lr="2", steps="200", init="zeros")
    for _ in range(2):
        step_once(page)
    assert shown(page, "#stat-steps") == 400
    units = hidden_units(page)
    assert len(units) == 1 and next(iter(units))[0] != 0, f"units: {units}"
    web.screenshot("web-lesson-tiny-mlp-zeros", "#descent")


def test_tiny_mlp_from_random_separates_what_a_line_cannot(web: Web) -> None:
    page = web.open("/")
    choose(page, "tiny-mlp", lr="2", steps="250", init="random")
    for _ in range(2):
        step_once(page)
    assert len(hidden_units(page)) == 4
    assert shown(page, "#stat-loss") < 0.15
    page.click("#compare")
    status = page.locator("#descent-status")
    page.wait_for_function("document.getElementById('descent-status').dataset.state === 'compared'")
    assert "logistic-regression" in status.inner_text()
    web.screenshot("web-lesson-tiny-mlp-random", "#descent")


def test_polynomial_fit_degree_and_l2_controls(web: Web) -> None:
    page = web.open("/")
    choose(page, "polynomial-fit", lr="0.05", steps="1000", init="zeros")
    assert page.locator("#degree").is_visible() and page.locator("#l2").is_visible()
    held_out = {}
    for degree in ("3", "9"):
        page.fill("#degree", degree)
        page.dispatch_event("#degree", "change")
        for _ in range(3):
            step_once(page)
        held_out[degree] = (shown(page, "#stat-loss"), shown(page, "#stat-validation"))
    assert held_out["9"][0] < held_out["3"][0], "degree 9 fits the training points closer"
    assert held_out["9"][1] > 2 * held_out["3"][1], "and the held-out ones worse"
    web.screenshot("web-lesson-polynomial-fit-9", "#descent")
    page.fill("#l2", "5")
    page.click("#reset")
    for _ in range(3):
        step_once(page)
    assert shown(page, "#stat-validation") < 0.6 * held_out["9"][1], "L2 tames degree 9"
    web.screenshot("web-lesson-polynomial-fit-l2", "#descent")


def test_two_minima_start_chosen_by_a_click(web: Web) -> None:
    page = web.open("/")
    choose(page, "two-minima", lr="0.05", steps="100", init="trained")
    assert page.locator("#l2").is_hidden(), "f has no weights: no L2 control"
    view = page.locator("#view")
    box = view.bounding_box()
    assert box is not None
    ends = []
    for fraction in (0.12, 0.9):  # near p = -2 and p = +2 on the plot's p axis
        page.wait_for_timeout(200)
        view.click(position={"x": box["width"] * fraction, "y": box["height"] / 2})
        step_once(page)
        step_once(page)
        ends.append(parameter(page, "p"))
    assert ends[0] == pytest.approx(-1.0575, abs=1e-3)
    assert ends[1] == pytest.approx(0.9304, abs=1e-3)
    web.screenshot("web-lesson-two-minima", "#descent")


def test_lessons_speak_chinese(web: Web) -> None:
    page = web.open("/")
    page.select_option("#lang", "zh")
    choose(page, "polynomial-fit", lr="0.05", steps="10", init="zeros")
    note = page.locator("#problem-note")
    page.wait_for_function("document.getElementById('problem-note').innerText.includes('损失函数')")
    assert "过拟合" in note.inner_text() and "正则化" in note.inner_text()
    assert "过拟合" in page.locator("#problem option[value='polynomial-fit']").inner_text()
    step_once(page)
    web.screenshot("web-lesson-polynomial-fit-zh", "#descent")
    page.select_option("#problem", "tiny-mlp")
    assert "反向传播" in page.locator("#problem option[value='tiny-mlp']").inner_text()
    assert "隐藏单元" in note.inner_text()
    page.select_option("#lang", "en")
    assert "hidden unit" in note.inner_text()


def test_mnist_softmax_steps_on_the_cards_digits_and_draws_ten_weight_pictures(web: Web) -> None:
    page = web.open("/")
    choose(page, "mnist-softmax", lr="0.5", steps="1", init="zeros")
    step_once(page)
    assert shown(page, "#stat-loss") == pytest.approx(2.302585, rel=1e-5)  # ln 10 from zeros
    page.fill("#steps", "20")
    step_once(page)
    assert shown(page, "#stat-loss") < 0.5
    # Ten pictures: the pixel at the centre of digit 0's picture is coloured, not white.
    pixel = page.evaluate(
        "(() => { const c = document.getElementById('view');"
        " return Array.from(c.getContext('2d').getImageData(50, 70, 1, 1).data); })()"
    )
    assert pixel[:3] != [255, 255, 255], "digit 0's weight picture is blank"
    web.screenshot("web-lesson-mnist-softmax", "#descent")
