"""Faults under load: a killed worker, a graceful stop, a corrupt model file. Loopback only,
each bounded in time."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.servers import children
from tests.slow.conftest import ROOT, ServiceFactory
from tests.slow.traffic import V2, Call, Tally, drive, mixed_calls, v2_binary

pytestmark = pytest.mark.slow


def workers_of(parent: int) -> set[int]:
    """uvicorn's worker processes: children of `parent` started by multiprocessing's spawn."""
    return children(parent, b"spawn_main")


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll `condition()` every 0.1 s; the seconds it took, or fail after `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {seconds}s")


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def good_calls() -> list[Call]:
    return [call for call in mixed_calls() if not call.malformed]


class Background:
    """Good traffic from a thread while the test breaks something; the tally fills live."""

    def __init__(self, url: str, seconds: float, concurrency: int = 8) -> None:
        self.tally = Tally()
        self.thread = threading.Thread(
            target=drive, args=(url, seconds, concurrency, good_calls(), self.tally), daemon=True
        )

    def __enter__(self) -> Background:
        self.thread.start()
        time.sleep(1.0)  # load established before the fault
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(timeout=120)

    def ok(self) -> int:
        return self.tally.count(lambda status: status < 400)


def test_a_killed_worker_is_replaced_and_the_other_keeps_serving(service: ServiceFactory) -> None:
    svc = service(NNSERVE_WORKERS="2")
    wait_for(lambda: len(workers_of(svc.process.pid)) == 2 and ready(svc.url), 90, "2 workers")
    with Background(svc.url, seconds=15) as load:
        victim = min(workers_of(svc.process.pid))
        os.kill(victim, signal.SIGKILL)
        killed_at_ok = load.ok()
        took = wait_for(lambda: len(workers_of(svc.process.pid) - {victim}) == 2, 30, "new worker")
        time.sleep(1.0)
        assert load.ok() > killed_at_ok, "requests stopped succeeding while one worker was dead"
    assert took < 10, f"the supervisor took {took:.1f}s to start a new worker"
    wait_for(lambda: ready(svc.url), 30, "ready again")
    # Only what was in flight on the killed worker may be lost: one request per client.
    assert load.tally.connection_errors <= 8, load.tally.problems[:5]
    assert load.tally.count(lambda status: status >= 500) == 0, load.tally.problems[:5]
    after = drive(svc.url, 3, 4, good_calls())
    assert (after.problems, after.connection_errors) == ([], 0)


def slow_upload(url: str, pause: float) -> httpx.Response:
    """A V2 binary request whose body arrives in two halves `pause` seconds apart: in flight
    (headers and half the body received) for the whole pause."""
    body, headers = v2_binary(2)

    def halves() -> Iterator[bytes]:
        yield body[: len(body) // 2]
        time.sleep(pause)
        yield body[len(body) // 2 :]

    return httpx.post(url + V2, content=halves(), headers=headers, timeout=60)


def test_sigterm_finishes_in_flight_requests_and_refuses_new_ones(service: ServiceFactory) -> None:
    svc = service()
    wait_for(lambda: ready(svc.url), 90, "ready")
    with ThreadPoolExecutor(4) as pool:
        in_flight = [pool.submit(slow_upload, svc.url, 3.0) for _ in range(4)]
        time.sleep(1.0)
        stopped_at = time.monotonic()
        svc.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{svc.url}/v2/health/live", timeout=2)
        answers = [future.result(timeout=60) for future in in_flight]
    assert [a.status_code for a in answers] == [200] * 4, [a.text[:200] for a in answers]
    assert all(a.json()["outputs"] for a in answers)
    svc.process.wait(timeout=40)
    # uvicorn re-raises the SIGTERM it handled once shutdown is done: exit by that signal
    assert svc.process.returncode in (0, -signal.SIGTERM), svc.log_text()
    assert time.monotonic() - stopped_at < 30 + 5  # the graceful timeout, plus start-up slack


def test_a_corrupt_model_is_not_ready_and_the_others_serve(
    service: ServiceFactory, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    broken = models / "mnist-softmax" / "1" / "model.onnx"
    data = bytearray(broken.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64  # a flipped block mid-file
    broken.write_bytes(bytes(data))
    svc = service(NNSERVE_MODELS_DIR=str(models))
    readiness = httpx.get(f"{svc.url}/v2/health/ready")
    assert readiness.status_code == 503
    assert "mnist-softmax" in readiness.json()["error"]
    softmax = httpx.get(f"{svc.url}/v2/models/mnist-softmax/ready")
    assert softmax.status_code == 503 and "error" in softmax.json()
    assert httpx.get(f"{svc.url}/v2/models/mnist-mlp/ready").status_code == 200
    body, headers = v2_binary(1)
    assert httpx.post(svc.url + V2, content=body, headers=headers).status_code == 200
    refused = httpx.post(f"{svc.url}/v2/models/mnist-softmax/infer", content=body, headers=headers)
    assert refused.status_code == 503 and "error" in refused.json()
