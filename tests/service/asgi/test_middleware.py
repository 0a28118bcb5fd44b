"""Request ids the middleware makes: 32 hex digits, never repeated, in this process or in a
forked child (a worker forked from a parent that already made some)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from fastapi.testclient import TestClient

from service.app import create_app
from service.asgi import middleware
from service.config import Settings


def test_fresh_request_ids_are_hex_and_distinct(models_dir: Path) -> None:
    with TestClient(create_app(Settings(models_dir=models_dir))) as client:
        ids = [client.get("/v2/health/live").headers["x-request-id"] for _ in range(50)]
        bad = client.post("/v2/models/nope/infer", content=b"{}")
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)
    assert bad.status_code == 404 and bad.headers["x-request-id"] not in ids


def test_a_client_id_is_kept_and_a_bad_one_replaced(models_dir: Path) -> None:
    with TestClient(create_app(Settings(models_dir=models_dir))) as client:
        kept = client.get("/v2/health/live", headers={"x-request-id": "trace-9"})
        replaced = client.get("/v2/health/live", headers={"x-request-id": "x" * 129})
    assert kept.headers["x-request-id"] == "trace-9"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first ids, to the parent
        os.close(read)
        os.write(write, " ".join(middleware.request_ids.next() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    parent = {middleware.request_ids.next() for _ in range(3)}
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    os.waitpid(pid, 0)
    assert len(child) == 3 and not child & parent
