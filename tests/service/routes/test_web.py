"""The web page, its static assets and the offline /docs, through the real app."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.routes.web import STATIC_DIR


def test_index_serves_the_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<canvas id="pad"' in response.text
    assert 'src="/static/app.js"' in response.text


def test_every_asset_the_page_names_is_served(client: TestClient) -> None:
    page = client.get("/").text
    scripts = {path.name for path in STATIC_DIR.glob("*.js")}
    assert "app.js" in scripts
    for name in sorted(scripts | set(re.findall(r'href="/static/([^"]+)"', page))):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.content == (STATIC_DIR / name).read_bytes()


def test_module_imports_resolve_to_files() -> None:
    for script in STATIC_DIR.glob("*.js"):
        for target in re.findall(r'from "\./([^"]+)"', script.read_text(encoding="utf-8")):
            assert (STATIC_DIR / target).is_file(), f"{script.name} imports missing {target}"


def test_docs_use_only_local_assets(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert urls, "no assets found in the docs page"
    assert all(url.startswith("/static/vendor/swagger-ui/") for url in urls), urls
    assert "url: '/openapi.json'" in response.text
    assert '"validatorUrl": null' in response.text
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_swagger_ui_licence_is_vendored() -> None:
    vendor = STATIC_DIR / "vendor" / "swagger-ui"
    assert "Apache License" in (vendor / "LICENSE").read_text(encoding="utf-8")


def test_web_routes_stay_out_of_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/docs"} & set(paths)
    assert not [p for p in paths if p.startswith("/static")]


@pytest.mark.parametrize(
    "path", ["/static/missing.js", "/static/../config.py", "/static/%2e%2e/config.py"]
)
def test_missing_or_escaping_asset_is_404_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "error" in response.json()
