"""GET /metrics: request counts and latency per endpoint and model, inference time, errors,
models loaded and ready, in Prometheus text format."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service import metrics
from service.app import create_app
from service.config import Settings
from service.metrics import Metrics, exposition

INFER = "/v2/models/logistic-regression/infer"
BOWL = "/v2/models/quadratic-bowl/infer"
ServerFactory = Callable[..., str]
BODY = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]}


@pytest.fixture
def fresh(models_dir: Path) -> Iterator[TestClient]:
    """A new app, so every count starts from zero."""
    with TestClient(create_app(Settings(models_dir=models_dir))) as client:
        yield client


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_requests_latency_inference_errors_and_models(fresh: TestClient, models_dir: Path) -> None:
    for _ in range(3):
        assert fresh.post(INFER, json=BODY).status_code == 200
    assert fresh.post(INFER, json={"inputs": []}).status_code == 400
    assert fresh.get("/v2/models/nope").status_code == 404
    assert fresh.get("/no/such/path").status_code == 404
    got = samples(fresh)
    infer = (("endpoint", "/v2/models/{name}/infer"), ("model", "logistic-regression"))
    assert got[("nnserve_requests_total", (*infer, ("status", "200")))] == 3
    assert got[("nnserve_requests_total", (*infer, ("status", "400")))] == 1
    # Unknown names and paths get bounded labels, never the raw value.
    assert (
        got[
            (
                "nnserve_requests_total",
                (("endpoint", "/v2/models/{name}"), ("model", "-"), ("status", "404")),
            )
        ]
        == 1
    )
    assert (
        got[
            (
                "nnserve_requests_total",
                (("endpoint", "unmatched"), ("model", "-"), ("status", "404")),
            )
        ]
        == 1
    )
    assert got[("nnserve_request_duration_seconds_count", infer)] == 4
    bucket = tuple(sorted((*infer, ("le", "+Inf"))))
    assert got[("nnserve_request_duration_seconds_bucket", bucket)] == 4
    version = (("model", "logistic-regression"), ("version", "1"))
    assert got[("nnserve_inference_duration_seconds_count", version)] == 3
    assert got[("nnserve_inference_duration_seconds_sum", version)] > 0
    assert got[("nnserve_errors_total", (("status", "400"),))] == 1
    assert got[("nnserve_errors_total", (("status", "404"),))] == 2
    models = len([p for p in models_dir.iterdir() if p.is_dir()])
    assert got[("nnserve_models_loaded", ())] == models
    assert got[("nnserve_models_ready", ())] == models


def test_v1_and_metrics_endpoints_are_labelled(fresh: TestClient) -> None:
    fresh.post("/v1/models/quadratic-bowl/predict", json={"instances": [[1, 2]]})
    got = samples(fresh)
    v1 = (("endpoint", "/v1/models/{name}/predict"), ("model", "quadratic-bowl"), ("status", "200"))
    assert got[("nnserve_requests_total", v1)] == 1
    assert (
        got[
            (
                "nnserve_inference_duration_seconds_count",
                (("model", "quadratic-bowl"), ("version", "1")),
            )
        ]
        == 1
    )


def served_infers(text: str) -> float:
    """Successful V2 infer requests counted in a /metrics text."""
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return sum(
        s.value
        for s in families["nnserve_requests"].samples
        if s.name == "nnserve_requests_total"
        and s.labels.get("status") == "200"
        and s.labels.get("endpoint") == "/v2/models/{name}/infer"
    )


def test_multiprocess_mode_aggregates_workers(start_server: ServerFactory, tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR and two workers, /metrics sums what both served."""
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    url = start_server(PROMETHEUS_MULTIPROC_DIR=str(multiproc), NNSERVE_WORKERS="2")
    with httpx.Client(base_url=url, timeout=30) as http:
        for _ in range(20):  # new connections, so the kernel spreads them over both workers
            with httpx.Client(base_url=url, timeout=30) as one:
                assert one.post(BOWL, json=BODY).status_code == 200
        deadline = time.monotonic() + 10  # each count lands just after its response is sent
        while (served := served_infers(http.get("/metrics").text)) < 20:
            assert time.monotonic() < deadline, f"only {served} of 20 requests counted"
            time.sleep(0.05)
    assert served == 20
    assert len(list(multiproc.glob("nnserve-*.json"))) == 2, "not one file per worker"


def test_exposition_adds_up_workers_buckets_and_gauges() -> None:
    """Two workers' counts as one exposition: cumulative buckets, sums, errors summed from
    the request counts, models loaded the most and ready the fewest, label values escaped."""
    one, two = Metrics(), Metrics()
    one.observe_request("/v2/models/{name}/infer", "m", 200, 0.0004)
    one.observe_request("/v2/models/{name}/infer", "m", 200, 0.003)
    two.observe_request("/v2/models/{name}/infer", "m", 200, 0.003)
    two.observe_request('/a"b\\c', "-", 404, 20.0)
    one.observe_inference("m", 1, 0.0001)
    one.set_models(5, 4)
    two.set_models(5, 3)
    text = exposition([one.snapshot(), orjson.loads(orjson.dumps(two.snapshot()))]).decode()
    got = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    infer = (("endpoint", "/v2/models/{name}/infer"), ("model", "m"))
    assert got[("nnserve_requests_total", (*infer, ("status", "200")))] == 3
    le = {b: got[("nnserve_request_duration_seconds_bucket", tuple(sorted((*infer, ("le", b)))))]
          for b in ("0.0005", "0.0025", "0.005", "10.0", "+Inf")}  # fmt: skip
    assert le == {"0.0005": 1, "0.0025": 1, "0.005": 3, "10.0": 3, "+Inf": 3}
    assert got[("nnserve_request_duration_seconds_sum", infer)] == pytest.approx(0.0064)
    odd = (("endpoint", '/a"b\\c'), ("model", "-"))
    assert (
        got[("nnserve_request_duration_seconds_bucket", tuple(sorted((*odd, ("le", "10.0")))))] == 0
    )
    assert got[("nnserve_request_duration_seconds_count", odd)] == 1
    assert got[("nnserve_errors_total", (("status", "404"),))] == 1
    assert (
        got[("nnserve_inference_duration_seconds_count", (("model", "m"), ("version", "1")))] == 1
    )
    assert (got[("nnserve_models_loaded", ())], got[("nnserve_models_ready", ())]) == (5, 3)


def test_count_files_go_to_ram_and_are_replaced_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers' directory is made in /dev/shm where it exists (flushes to the disk's /tmp
    cost four times the CPU), and a flush writes this worker's counts whole, again and again."""
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)
    with metrics.multiprocess_directory(workers=2):
        directory = Path(os.environ[metrics.MULTIPROC_ENV])
        if os.access("/dev/shm", os.W_OK):
            assert directory.parent == Path("/dev/shm")
        counts = Metrics()
        assert counts.directory == directory
        for served in (1, 2):
            counts.observe_request("/v2/models/{name}/infer", "m", 200, 0.001)
            counts.flush()
            (written,) = directory.glob("nnserve-*.json")  # one file, nothing left aside
            assert written.name == f"nnserve-{os.getpid()}.json"
            assert orjson.loads(written.read_bytes())["requests"] == [
                ["/v2/models/{name}/infer", "m", 200, served]
            ]
    assert not directory.exists()


def test_a_shared_directory_alone_sums_no_other_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One worker that shares its counts with the probe process writes its file there, but
    its own /metrics neither waits for files nor adds up what else lies in the directory."""
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)
    stranger = Metrics()
    stranger.observe_request("/v2/models/{name}/infer", "m", 200, 0.001)
    (tmp_path / "nnserve-1.json").write_bytes(orjson.dumps(stranger.snapshot()))
    counts = Metrics()
    counts.share(tmp_path)
    counts.flush()
    assert (tmp_path / f"nnserve-{os.getpid()}.json").exists()
    assert counts.multiprocess is False
    assert b'nnserve_requests_total{endpoint="/v2' not in counts.render()
