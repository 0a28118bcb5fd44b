"""Structured logs from a real server: one JSON line per request, carrying the request id."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings

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


def test_client_leaving_mid_body_is_logged_not_crashed(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    url = start_server()
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /v2/models/mnist-mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
            b"X-Request-ID: gone-1\r\n\r\n" + b'{"inputs": '
        )
        time.sleep(0.2)  # let the server start reading before the client vanishes
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/v2/health/live").json() == {"live": True}
    lines = settled_log(tmp_path, last_path="/v2/health/live")
    (gone,) = [line for line in lines if line.get("request_id") == "gone-1"]
    assert gone["status"] == 499
    assert not [line for line in lines if "exception" in line]


def test_successful_infer_is_sampled_and_errors_always_logged(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    """By default (NNSERVE_LOG_SUCCESS_SAMPLE=0) a successful infer writes no request line;
    a failed one does, with its id; other endpoints are always logged."""
    url = start_server()
    body = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]}
    with httpx.Client(base_url=url, timeout=30) as http:
        ok = http.post("/v2/models/logistic-regression/infer", json=body)
        bad = http.post("/v2/models/logistic-regression/infer", json={"inputs": []})
        http.get("/v2/health/live")
    assert (ok.status_code, bad.status_code) == (200, 400)
    requests = [
        line for line in settled_log(tmp_path, "/v2/health/live") if line["message"] == "request"
    ]
    ids = {line["request_id"] for line in requests}
    assert ok.headers["x-request-id"] not in ids
    assert bad.headers["x-request-id"] in ids


def test_every_success_is_logged_at_sample_rate_one(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    url = start_server(NNSERVE_LOG_SUCCESS_SAMPLE="1")
    body = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]}
    with httpx.Client(base_url=url, timeout=30) as http:
        ok = [http.post("/v2/models/logistic-regression/infer", json=body) for _ in range(3)]
        http.get("/v2/health/live")
    requests = [
        line for line in settled_log(tmp_path, "/v2/health/live") if line["message"] == "request"
    ]
    ids = {line["request_id"] for line in requests}
    assert all(answer.headers["x-request-id"] in ids for answer in ok)


def test_every_start_names_the_served_repository(
    tiny_repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Said by the app's own start-up, so `uvicorn service.app:create_app --factory` says it too."""
    caplog.set_level(logging.INFO, logger="service.app")
    with TestClient(create_app(Settings(models_dir=tiny_repo, grpc_port=0))):
        pass
    said = [r.getMessage() for r in caplog.records if r.name == "service.app"]
    assert f"serving 4 of 4 model versions from {tiny_repo.resolve()}" in said
