"""Debian's headless Chromium driven by Playwright against the real service on loopback.

The browser is Debian's /usr/bin/chromium (installed by scripts/dev/system-deps.sh), never a
Playwright download. Every request the page makes to a host other than loopback is blocked and
recorded, and a test fails if one was attempted, so the page and /docs are proven to work with
no internet. Screenshots go to test-artifacts/browser/ (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium per test module; skipped (failed under CI=true) when absent.

    Module scope, not session: Playwright's sync API keeps an asyncio loop running in the main
    thread while it is open, which breaks every later test that calls asyncio.run().
    """
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: run `bash scripts/dev/system-deps.sh` (Debian chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Web:
    """A page on the live service, with what it tried to reach outside loopback and its errors."""

    page: Page
    base_url: str
    blocked: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def open(self, path: str = "/") -> Page:
        self.page.goto(f"{self.base_url}{path}")
        return self.page

    def screenshot(self, name: str, selector: str | None = None) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        if selector is None:
            self.page.screenshot(path=path, full_page=True, animations="disabled")
        else:
            self.page.locator(selector).screenshot(path=path, animations="disabled")
        return path


@pytest.fixture
def web(chromium: Browser, live_server: str) -> Iterator[Web]:
    """A fresh browser context on the live server with the network beyond loopback blocked."""
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    web = Web(page=context.new_page(), base_url=live_server)

    def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in {"http", "https"} and urlsplit(url).hostname not in LOOPBACK:
            web.blocked.append(url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    context.route("**/*", only_loopback)
    web.page.on("pageerror", lambda error: web.page_errors.append(str(error)))
    yield web
    context.close()
    assert web.blocked == [], f"the page tried to leave loopback: {web.blocked}"
    assert web.page_errors == [], f"JavaScript errors on the page: {web.page_errors}"
