"""The probe port (NNSERVE_PROBE_PORT): health and metrics from a process of their own, started
by the real app's lifespan, asked over a real socket."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.asgi import probes
from service.config import Settings
from service.metrics import FLUSH_SECONDS
from tests.servers import children, free_port, running, spawn, stop, wait_for


def settings_for(models: Path, port: int) -> Settings:
    return Settings(models_dir=models, grpc_port=0, probe_port=port)


def test_the_probe_port_answers_health_and_metrics(tiny_repo: Path) -> None:
    port = free_port()
    with TestClient(create_app(settings_for(tiny_repo, port))) as client:
        client.get("/v2/models/tiny-linear")  # a request on the main port, to be counted
        base = f"http://127.0.0.1:{port}"
        live = httpx.get(f"{base}/v2/health/live")
        ready = httpx.get(f"{base}/v2/health/ready")
        time.sleep(2 * FLUSH_SECONDS)  # the worker's file is up to FLUSH_SECONDS behind
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


def test_a_stale_heartbeat_is_not_live(tmp_path: Path) -> None:
    """Live means the loop turns: a heartbeat older than the stale limit is 503, fresh is 200."""
    page, fd = probes.Page.create()
    os.close(fd)
    routes = probes.answers(page, tmp_path, probes.STALE_SECONDS)
    page.write(time.monotonic(), "")
    assert routes["/v2/health/live"]()[0] == 200
    page.write(time.monotonic() - probes.STALE_SECONDS - 1, "")
    status, _, body = routes["/v2/health/live"]()
    assert status == 503 and b"event loop" in body


def test_a_write_stopped_halfway_reads_as_not_live_nor_ready(tmp_path: Path) -> None:
    page, fd = probes.Page.create()
    os.close(fd)
    page.write(time.monotonic(), "")
    (sequence,) = struct.unpack_from("<Q", page.memory, 0)
    struct.pack_into("<Q", page.memory, 0, sequence + 1)  # a writer that began and stopped
    routes = probes.answers(page, tmp_path, probes.STALE_SECONDS)
    assert routes["/v2/health/live"]()[0] == 503
    assert routes["/v2/health/ready"]()[0] == 503


def test_a_wedged_event_loop_is_not_live_on_the_probe_port(
    tiny_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe process answers while the worker's loop is blocked, and says it is not live."""
    monkeypatch.setattr(probes, "STALE_SECONDS", 1.0)
    port = free_port()
    live = f"http://127.0.0.1:{port}/v2/health/live"
    with TestClient(create_app(settings_for(tiny_repo, port))) as client:
        assert httpx.get(live).status_code == 200
        wedge = threading.Thread(target=client.portal.call, args=(time.sleep, 2.5))
        wedge.start()  # time.sleep on the loop's own thread: nothing else runs there meanwhile
        time.sleep(1.6)
        wedged = httpx.get(live, timeout=1.0)
        wedge.join()
        time.sleep(probes.BEAT_SECONDS + 0.2)
        again = httpx.get(live)
    assert wedged.status_code == 503 and "event loop" in wedged.json()["error"]
    assert again.status_code == 200


def test_ready_follows_the_models(tiny_repo: Path) -> None:
    """Ready on the probe port says what the main port says, within a heartbeat."""
    port = free_port()
    ready = f"http://127.0.0.1:{port}/v2/health/ready"
    later = probes.BEAT_SECONDS + 0.3
    settings = settings_for(tiny_repo, port).model_copy(update={"model_control": "explicit"})
    with TestClient(create_app(settings)) as client:
        first = httpx.get(ready)
        (tiny_repo / "tiny-linear" / "1" / "model.onnx").write_bytes(b"not onnx")
        assert client.post("/v2/repository/models/tiny-linear/load").status_code == 400
        time.sleep(later)
        broken = httpx.get(ready)
        assert client.post("/v2/repository/models/tiny-linear/unload").status_code == 200
        time.sleep(later)
        unloaded = httpx.get(ready)
    assert first.status_code == 200
    assert broken.status_code == 503 and "tiny-linear version 1" in broken.json()["error"]
    assert unloaded.status_code == 200


def test_the_heartbeat_follows_the_loop(tiny_repo: Path) -> None:
    page, fd = probes.Page.create()
    os.close(fd)
    page.write(0.0, "stale")
    with TestClient(create_app(Settings(models_dir=tiny_repo, grpc_port=0))) as client:
        registry = client.app.state.registry  # type: ignore[attr-defined]

    async def beat_once() -> None:
        task = asyncio.create_task(probes.beat(page, registry))
        await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(beat_once())
    heartbeat, waiting = page.read()
    assert time.monotonic() - heartbeat < 1.0 and waiting == ""


def test_the_probe_process_dies_with_a_killed_server(tiny_repo: Path, tmp_path: Path) -> None:
    """SIGKILL leaves the worker no time to end its probe process: the kernel's parent-death
    signal (or the watchdog) must, so that no orphan keeps the port answering."""
    port = free_port()
    env = {"NNSERVE_MODELS_DIR": str(tiny_repo), "NNSERVE_PROBE_PORT": str(port)}
    service = spawn(tmp_path / "log", **env)
    try:
        wait_for(service)
        assert httpx.get(f"http://127.0.0.1:{port}/v2/health/live").status_code == 200
        probes = children(service.process.pid, b"asgi.probes")
        assert len(probes) == 1
        service.process.kill()
        service.process.wait()
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(running(pid) for pid in probes):
            time.sleep(0.1)
        assert not any(running(pid) for pid in probes)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/v2/health/live")
    finally:
        stop(service)


def test_a_port_in_use_without_reuse_stops_the_start(tiny_repo: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError), TestClient(create_app(settings_for(tiny_repo, port))):
            pass
