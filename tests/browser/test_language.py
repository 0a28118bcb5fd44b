"""The page in 中文 and English, in a real Chromium against the real service.

A browser that prefers Chinese gets Chinese labels; the switch changes every marked label,
and the choice survives a reload; an English browser gets English. API errors are the
service's own English JSON whatever the language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:  # the fixture's type only; conftest is not imported as a module
    from tests.browser.conftest import Web

pytestmark = pytest.mark.browser

PREFERS_CHINESE = (
    "Object.defineProperty(navigator, 'languages', {get: () => ['zh-CN', 'zh', 'en']});"
    "Object.defineProperty(navigator, 'language', {get: () => 'zh-CN'});"
)


def untranslated(page: Page) -> list[str]:
    """Marked elements whose text is still the key itself: a key missing from the dictionary."""
    same = "els => els.filter(e => e.textContent === e.dataset.i18n).map(e => e.dataset.i18n)"
    return list(page.eval_on_selector_all("[data-i18n]", same))


def test_a_browser_preferring_chinese_gets_chinese(web: Web) -> None:
    web.page.context.add_init_script(PREFERS_CHINESE)
    page = web.open("/")
    expect(page.locator("#descent-title")).to_have_text("观察梯度下降")
    expect(page.locator("label:has(#lr) span")).to_have_text("学习率")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#lang")).to_have_value("zh")
    expect(page.locator("#models-status")).to_contain_text("模型: ")
    assert untranslated(page) == []
    web.screenshot("language-zh")


def test_the_switch_is_kept_across_reloads(web: Web) -> None:
    page = web.open("/")
    expect(page.locator("#descent-title")).to_have_text("Watch gradient descent")
    page.select_option("#lang", "zh")
    expect(page.locator("#draw-title")).to_have_text("手写一个数字")
    expect(page.locator("#step")).to_have_text("走一步")
    expect(page.locator("#pad")).to_have_attribute("aria-label", "画板")
    page.reload()
    expect(page.locator("#draw-title")).to_have_text("手写一个数字")
    page.select_option("#lang", "en")
    page.reload()
    expect(page.locator("#draw-title")).to_have_text("Draw a digit")
    assert untranslated(page) == []


def test_api_errors_stay_english_json_in_chinese(web: Web) -> None:
    web.page.context.add_init_script(PREFERS_CHINESE)
    page = web.open("/")
    expect(page.locator("#descent-title")).to_have_text("观察梯度下降")
    page.fill("#lr", "-1")
    page.click("#step")
    error = page.locator("#descent-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("HTTP 4")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in error.inner_text())


def test_the_descent_status_follows_a_language_switch(web: Web) -> None:
    page = web.open("/")
    status = page.locator("#descent-status")
    expect(status).to_have_text("Press Step or Run.")
    page.click("#step")
    expect(status).to_have_attribute("data-state", "descending")
    expect(status).to_have_text("Descending.")
    page.select_option("#lang", "zh")
    expect(status).to_have_text("正在下降.")
    expect(page.locator("#run")).to_have_text("运行")
    page.select_option("#lang", "en")
    expect(status).to_have_text("Descending.")
