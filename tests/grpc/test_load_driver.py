"""benchmarks/grpc_load.py, the benchmark's gRPC load driver, against a real `python -m service`:
it really drives the server (the server's own metrics count what the driver counted), counts
every failed call as an error, reads both CPUs, and drives loopback addresses only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from benchmarks import grpc_load, payloads
from tests.servers import Service, spawn, stop, wait_for


@pytest.fixture(scope="module")
def grpc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = spawn(tmp_path_factory.mktemp("load") / "server.log")
    try:
        wait_for(service)
        yield service
    finally:
        stop(service)


def answered(service: Service, status: str) -> int:
    """How many ModelInfer calls the server's metrics count with `status` (its HTTP twin)."""
    text = httpx.get(f"{service.url}/metrics", timeout=10).text
    labels = rf'endpoint="grpc:ModelInfer"[^}}]*status="{status}"'
    pattern = rf"nnserve_requests_total{{[^}}]*{labels}[^}}]*}} (\S+)"
    return sum(int(float(v)) for v in re.findall(pattern, text))


def test_the_driver_drives_a_real_server(grpc_server: Service) -> None:
    before = answered(grpc_server, "200")
    m = grpc_load.measure(grpc_server.grpc, 4, 0.2, 1.0, grpc_server.process.pid)
    assert m.errors == 0 and m.requests >= 20, m
    assert 0 < m.p50_ms <= m.p99_ms < 10_000
    assert m.cpu_us > 0 and m.driver_cpu_us > 0  # the server's CPU from /proc, the driver's own
    # the warm-up's calls are counted by the server too, never by the measurement
    assert answered(grpc_server, "200") - before >= m.requests


def test_every_failed_call_is_an_error(grpc_server: Service) -> None:
    before = answered(grpc_server, "404")
    m = grpc_load.measure(grpc_server.grpc, 2, 0.0, 0.5, None, model="no-such-model")
    assert m.requests > 0 and m.errors == m.requests, m
    assert answered(grpc_server, "404") - before == m.requests


def test_check_reads_the_digit_from_the_answer(grpc_server: Service) -> None:
    x = payloads.normalized(payloads.digit_28x28())
    body = grpc_load.request_bytes(x)
    digit = int(grpc_load.probabilities(grpc_load.answer(grpc_server.grpc, body)).argmax())
    grpc_load.check("v2-grpc", grpc_server.grpc, body, digit)
    with pytest.raises(SystemExit, match="answered"):
        grpc_load.check("v2-grpc", grpc_server.grpc, body, (digit + 1) % 10)
    with pytest.raises(SystemExit, match="NOT_FOUND"):
        grpc_load.check("v2-grpc", grpc_server.grpc, grpc_load.request_bytes(x, "nope"), None)


def test_the_request_is_one_raw_fp32_image() -> None:
    x = np.arange(784, dtype=np.float32).reshape(1, 784)
    request = grpc_load.pb.ModelInferRequest.FromString(grpc_load.request_bytes(x))
    (tensor,) = request.inputs
    assert (tensor.name, tensor.datatype, list(tensor.shape)) == ("input", "FP32", [1, 784])
    np.testing.assert_array_equal(np.frombuffer(request.raw_input_contents[0], "<f4"), x[0])
    assert [o.name for o in request.outputs] == ["probabilities"]


@pytest.mark.parametrize("address", ["10.0.0.1:8001", "192.168.1.2:8001", "[2001:db8::1]:8001"])
def test_the_driver_drives_loopback_only(address: str) -> None:
    with pytest.raises(SystemExit, match="loopback"):
        grpc_load.loopback(address)
    with pytest.raises(SystemExit, match="loopback"):
        grpc_load.measure(address, 1, 0.0, 0.1, None)


@pytest.mark.parametrize("address", ["127.0.0.1:8001", "localhost:8001", "[::1]:8001"])
def test_loopback_addresses_pass(address: str) -> None:
    assert grpc_load.loopback(address) == address
