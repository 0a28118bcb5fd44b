"""Structured logs from a real server: one JSON line per request, carrying the request id."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ServerFactory = Callable[..., str]


def log_lines(tmp_path: Path) -> list[dict[str, Any]]:
    """Every line the server wrote (start_server sends its output to server-<port>.log)."""
    (log,) = tmp_path.glob("server-*.log")
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_one_json_line_per_request_with_its_id(start_server: ServerFactory, tmp_path: Path) -> None:
    url = start_server()
    with httpx.Client(base_url=url, timeout=30) as http:
        echoed = http.get("/v2/models/mnist-mlp", headers={"X-Request-ID": "trace-77"})
        failed = http.post("/v2/models/nope/infer", content=b"{}")
        http.get("/v2/health/live")
    assert echoed.headers["x-request-id"] == "trace-77"
    generated = failed.headers["x-request-id"]
    lines = log_lines(tmp_path)  # every line parses as JSON: no plain-text access log
    requests = [line for line in lines if line["message"] == "request"]
    by_id = {line["request_id"]: line for line in requests}
    assert by_id["trace-77"]["path"] == "/v2/models/mnist-mlp"
    assert by_id["trace-77"]["status"] == 200
    assert by_id["trace-77"]["model"] == "mnist-mlp"
    assert by_id[generated]["status"] == 404 and by_id[generated]["method"] == "POST"
    # The readiness polls of the fixture, then our three requests: one line each.
    assert [line["path"] for line in requests[-3:]] == [
        "/v2/models/mnist-mlp",
        "/v2/models/nope/infer",
        "/v2/health/live",
    ]
    assert any(line["message"].startswith("model mnist-mlp version 1 ready") for line in lines)
