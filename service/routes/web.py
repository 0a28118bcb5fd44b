"""The web page at `/`, its static assets under `/static`, and an offline Swagger UI at `/docs`.

FastAPI's own /docs loads Swagger UI from a CDN; the service must work with no internet, so the
Swagger UI files are vendored under static/vendor/swagger-ui (swagger-ui-dist from npm, with its
licence) and the page is built here with local URLs. The app is created with docs_url=None.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SWAGGER_DIR = "/static/vendor/swagger-ui"

router = APIRouter(include_in_schema=False)
router.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


@router.get("/")
async def index() -> FileResponse:
    """The page: draw a digit, watch gradient descent."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for /openapi.json, every asset served by this service."""
    app = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} - API docs",
        swagger_js_url=f"{SWAGGER_DIR}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_DIR}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_DIR}/favicon-32x32.png",
        # The default validator badge calls validator.swagger.io; keep the page offline.
        swagger_ui_parameters={"validatorUrl": None},
    )
