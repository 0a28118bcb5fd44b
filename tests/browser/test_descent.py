"""Watch gradient descent: Step / Run / Reset against the real gradient-step endpoint."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest
from playwright.sync_api import Page

if TYPE_CHECKING:  # the fixture's type only; conftest is not imported as a module
    from tests.browser.conftest import Web

pytestmark = pytest.mark.browser

WEIGHT_KG = [48, 57, 50, 54, 64, 61, 43, 59]
HEIGHT_CM = [165, 165, 157, 170, 175, 165, 155, 170]


def least_squares() -> tuple[float, float]:
    slope, intercept = np.polyfit(WEIGHT_KG, HEIGHT_CM, 1)
    return float(slope), float(intercept)


def choose(page: Page, problem: str, lr: str, steps: str, init: str = "zeros") -> None:
    page.select_option("#problem", problem)
    page.select_option("#init", init)
    page.fill("#lr", lr)
    page.fill("#steps", steps)


def step_once(page: Page) -> None:
    """Click Step and wait for its answer to be drawn (the step counter moves)."""
    before = shown_steps(page)
    page.click("#step")
    page.wait_for_function(
        f"Number(document.getElementById('stat-steps').dataset.value) > {before}"
        " || !document.getElementById('descent-error').hidden"
    )
    no_api_error(page)


def no_api_error(page: Page) -> None:
    error = page.locator("#descent-error")
    if error.is_visible():
        pytest.fail(f"the page shows an API error: {error.inner_text()}")


def shown_steps(page: Page) -> int:
    return int(page.locator("#stat-steps").get_attribute("data-value") or 0)


def shown_loss(page: Page) -> float:
    return float(page.locator("#stat-loss").get_attribute("data-value") or "nan")


def shown_parameter(page: Page, name: str) -> float:
    value = page.locator(f"#stat-params .param[data-name='{name}']").get_attribute("data-value")
    return float(value or "nan")


def test_linear_regression_descends_to_least_squares(web: Web) -> None:
    page = web.open("/")
    choose(page, "linear-regression", lr="0.1", steps="1")
    step_once(page)
    first_loss = shown_loss(page)  # the loss at the zero line
    page.fill("#steps", "7")
    for _ in range(7):
        step_once(page)
    assert shown_steps(page) == 50
    assert shown_loss(page) < first_loss / 100, "the displayed loss did not fall"
    slope, intercept = least_squares()
    assert shown_parameter(page, "slope") == pytest.approx(slope, rel=2e-3)
    assert shown_parameter(page, "intercept") == pytest.approx(intercept, rel=2e-4)
    assert page.locator("#descent-status").get_attribute("data-state") != "diverged"
    web.screenshot("web-descent-linear", "#descent")


def test_divergent_learning_rate_says_so(web: Web) -> None:
    page = web.open("/")
    choose(page, "linear-regression", lr="5", steps="100")
    step_once(page)
    status = page.locator("#descent-status")
    assert status.get_attribute("data-state") == "diverged"
    assert "Diverged" in status.inner_text()
    assert page.locator("#descent-error").is_hidden()
    web.screenshot("web-descent-diverged", "#descent")
    page.click("#reset")
    assert status.get_attribute("data-state") == ""
    assert shown_steps(page) == 0


def test_logistic_regression_starts_at_ln2_and_learns(web: Web) -> None:
    page = web.open("/")
    choose(page, "logistic-regression", lr="0.5", steps="1")
    step_once(page)
    # From zeros every probability is 1/2, so the first cross-entropy is ln 2.
    assert shown_loss(page) == pytest.approx(math.log(2), rel=1e-5)
    page.fill("#steps", "20")
    step_once(page)
    assert shown_steps(page) == 21
    assert shown_loss(page) < 0.6
    assert shown_parameter(page, "w1") > 0  # class 1 lies towards larger x1
    web.screenshot("web-descent-logistic", "#descent")


def test_quadratic_bowl_run_walks_to_the_minimum(web: Web) -> None:
    page = web.open("/")
    choose(page, "quadratic-bowl", lr="0.14", steps="10", init="random")
    page.wait_for_function("document.getElementById('view').dataset.drawn === 'true'")
    page.click("#run")
    # Run stops by itself when the endpoint says converged; otherwise stop it after 400 steps.
    page.wait_for_function(
        "Number(document.getElementById('stat-steps').dataset.value) >= 400"
        " || document.getElementById('run').innerText === 'Run'"
    )
    if page.locator("#run").inner_text() == "Stop":
        page.click("#run")
    page.wait_for_function("document.getElementById('run').innerText === 'Run'")
    no_api_error(page)
    # Converged means a gradient below 1e-5 (1 + f), never merely an unchanged float32 f.
    assert shown_parameter(page, "x") == pytest.approx(1.0, abs=1e-2)
    assert shown_parameter(page, "y") == pytest.approx(2.0, abs=1e-2)
    assert shown_loss(page) == pytest.approx(2.0, abs=1e-4)
    web.screenshot("web-descent-bowl", "#descent")


def test_invalid_request_error_is_shown(web: Web) -> None:
    page = web.open("/")
    choose(page, "linear-regression", lr="0", steps="1")
    page.click("#step")
    error = page.locator("#descent-error")
    error.wait_for(state="visible")
    assert error.inner_text().startswith("HTTP 422")
    assert "learning_rate" in error.inner_text()
    assert shown_steps(page) == 0


def test_rising_loss_warns_before_overflow(web: Web) -> None:
    # 0.16 is just above the bowl's limit 2 / 13.7 = 0.146: the loss grows ~1.4x a step but
    # stays finite for a long time, so the page must warn before the endpoint says diverged.
    page = web.open("/")
    choose(page, "quadratic-bowl", lr="0.16", steps="60", init="trained")
    step_once(page)
    status = page.locator("#descent-status")
    assert status.get_attribute("data-state") == "rising"
    assert "too large" in status.inner_text()
