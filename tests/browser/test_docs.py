"""/docs renders its operation list from the vendored Swagger UI with the internet blocked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:  # the fixture's type only; conftest is not imported as a module
    from tests.browser.conftest import Web

pytestmark = pytest.mark.browser


def test_docs_render_offline(web: Web, live_server: str) -> None:
    page = web.open("/docs")
    operations = page.locator(".opblock-summary-path")
    operations.first.wait_for()
    paths = set(operations.all_inner_texts())
    documented = set(httpx.get(f"{live_server}/openapi.json", timeout=10).json()["paths"])
    # Swagger UI breaks long paths with zero-width spaces; compare without them.
    shown = {path.replace("\u200b", "") for path in paths}
    assert shown == documented
    assert "/predict" in shown
    web.screenshot("web-docs")
    # The fixture fails the test if anything (a CDN script, a validator badge) left loopback.


def test_page_loads_with_no_internet(web: Web) -> None:
    page = web.open("/")
    page.wait_for_function("document.getElementById('models-status').innerText.includes('v1')")
    assert page.title().startswith("nnserve")
    web.screenshot("web-page")
