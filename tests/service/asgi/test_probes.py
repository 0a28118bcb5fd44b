"""The probe port (NNSERVE_PROBE_PORT): health and metrics on their own thread, from the real
app's lifespan, asked over a real socket."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.asgi import probes
from service.config import Settings
from tests.servers import free_port


def settings_for(models: Path, port: int) -> Settings:
    return Settings(models_dir=models, grpc_port=0, probe_port=port)


def test_the_probe_port_answers_health_and_metrics(tiny_repo: Path) -> None:
    port = free_port()
    with TestClient(create_app(settings_for(tiny_repo, port))) as client:
        client.get("/v2/models/tiny-linear")  # a request on the main port, to be counted
        base = f"http://127.0.0.1:{port}"
        live = httpx.get(f"{base}/v2/health/live")
        ready = httpx.get(f"{base}/v2/health/ready")
        scraped = httpx.get(f"{base}/metrics")
        unknown = httpx.get(f"{base}/v2/models/tiny-linear")
    assert (live.status_code, live.json()) == (200, {"live": True})
    assert (ready.status_code, ready.json()) == (200, {"ready": True})
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert 'endpoint="/v2/models/{name}",model="tiny-linear",status="200"} 1.0' in scraped.text
    assert "nnserve_models_ready 4.0" in scraped.text
    assert unknown.status_code == 404 and "error" in unknown.json()


def test_the_probe_port_closes_with_the_app(tiny_repo: Path) -> None:
    port = free_port()
    with TestClient(create_app(settings_for(tiny_repo, port))):
        pass
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v2/health/live")


def test_off_by_default(tiny_repo: Path) -> None:
    assert Settings().probe_port == 0
    with TestClient(create_app(Settings(models_dir=tiny_repo, grpc_port=0))) as client:
        assert client.app.state.settings.probe_port == 0  # type: ignore[attr-defined]


def test_a_model_not_ready_is_503_with_its_reason(tiny_repo: Path) -> None:
    (tiny_repo / "tiny-linear" / "1" / "model.onnx").write_bytes(b"not onnx")
    port = free_port()
    with TestClient(create_app(settings_for(tiny_repo, port))):
        ready = httpx.get(f"http://127.0.0.1:{port}/v2/health/ready")
    assert ready.status_code == 503
    assert "tiny-linear version 1" in ready.json()["error"]


def test_a_wedged_event_loop_is_not_live(tiny_repo: Path) -> None:
    """Live means the loop turns: a heartbeat older than STALE_SECONDS is 503, fresh is 200."""
    heartbeat = probes.Heartbeat()
    with TestClient(create_app(Settings(models_dir=tiny_repo, grpc_port=0))) as client:
        app = client.app
        routes = probes.answers(app.state.registry, app.state.metrics, heartbeat)  # type: ignore[attr-defined]
    assert routes["/v2/health/live"]()[0] == 200
    heartbeat.last = time.monotonic() - probes.STALE_SECONDS - 1
    status, _, body = routes["/v2/health/live"]()
    assert status == 503 and b"event loop" in body


def test_the_heartbeat_follows_the_loop() -> None:
    heartbeat = probes.Heartbeat()
    heartbeat.last = 0.0

    async def beat_once() -> None:
        task = asyncio.create_task(heartbeat.beat())
        await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(beat_once())
    assert heartbeat.fresh()


def test_a_port_in_use_without_reuse_stops_the_start(tiny_repo: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError), TestClient(create_app(settings_for(tiny_repo, port))):
            pass
