"""benchmarks.ceiling: the bare ASGI app runs under the very uvicorn nnserve runs under (its
loop and HTTP protocol), and answers real requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from benchmarks import ceiling, contenders, servers
from service.cli import command
from service.config import Settings


def run_options(monkeypatch: pytest.MonkeyPatch, start: Any) -> dict[str, Any]:
    """The keyword arguments `start()` hands uvicorn.run (which is not run)."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    start()
    return seen


def test_the_ceiling_runs_nnserve_s_loop_and_protocol(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    nnserve = run_options(monkeypatch, lambda: command.serve(Settings(models_dir=tmp_path)))
    bare = run_options(monkeypatch, lambda: ceiling.main(["--port", "1"]))
    assert nnserve["loop"] == bare["loop"] and nnserve["http"] == bare["http"]


def test_the_ceiling_answers() -> None:
    server = contenders.ceiling(workers=1)
    try:
        answer = httpx.post(server.url + "/anything", content=b"x" * 5000)
    finally:
        servers.stop(server)
    assert (answer.status_code, answer.content) == (200, ceiling.FIXED_BODY)
