"""Structured logs from a real server: one JSON line per request, carrying the request id."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ServerFactory = Callable[..., str]


def log_lines(tmp_path: Path) -> list[dict[str, Any]]:
    """Every line the server wrote (start_server sends its output to server-<port>.log)."""
    (log,) = tmp_path.glob("server-*.log")
    complete = log.read_text().rpartition("\n")[0]  # a line still being written is left out
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


def settled_log(tmp_path: Path, last_path: str) -> list[dict[str, Any]]:
    """The log once the last request's line is in: it is written just after the response."""
    deadline = time.monotonic() + 10
    while True:
        lines = log_lines(tmp_path)  # every line parses as JSON: no plain-text access log
        if (lines and lines[-1].get("path") == last_path) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_one_json_line_per_request_with_its_id(start_server: ServerFactory, tmp_path: Path) -> None:
    url = start_server()
    with httpx.Client(base_url=url, timeout=30) as http:
        echoed = http.get("/v2/models/mnist-mlp", headers={"X-Request-ID": "trace-77"})
        failed = http.post("/v2/models/nope/infer", content=b"{}")
        http.get("/v2/health/live")
    assert echoed.headers["x-request-id"] == "trace-77"
    generated = failed.headers["x-request-id"]
    lines = settled_log(tmp_path, last_path="/v2/health/live")
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
