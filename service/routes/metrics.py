"""GET /metrics: Prometheus text exposition."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from service.metrics import CONTENT_TYPE
from service.routes.deps import MetricsDep

router = APIRouter(tags=["metrics"])

_EXAMPLE = "# HELP nnserve_requests_total HTTP requests by endpoint, model and status code.\n"


@router.get("/metrics", responses={"200": {"content": {CONTENT_TYPE: {"example": _EXAMPLE}}}})
async def metrics(collectors: MetricsDep) -> Response:
    """Request counts and latencies, inference time, errors by status, models loaded/ready."""
    await collectors.settle()  # several workers: until each one's latest counts are written
    return Response(collectors.render(), media_type=CONTENT_TYPE)
