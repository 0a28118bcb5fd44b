"""Overload on a real server: the bounded infer queue sheds with 503 + Retry-After, a body
that stops arriving gets 408, the connection cap answers 503 past it, and the service stays
live through all of it. Timing targets live in benchmarks/overload.py, not here."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import numpy as np
import orjson
import pytest

from tests.servers import free_port
from tests.slow.conftest import ServiceFactory
from tests.slow.traffic import V2, v2_binary

pytestmark = pytest.mark.slow


def infer(client: httpx.Client, url: str, rows: int) -> httpx.Response:
    body, headers = v2_binary(rows)
    return client.post(url + V2, content=body, headers=headers)


def flood(url: str, clients: int, seconds: float, rows: int) -> list[httpx.Response]:
    """`clients` threads sending back-to-back infer requests of `rows` images for `seconds`."""

    def one() -> list[httpx.Response]:
        answers = []
        deadline = time.monotonic() + seconds
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                answers.append(infer(client, url, rows))
        return answers

    with ThreadPoolExecutor(clients) as pool:
        return [a for answers in pool.map(lambda _: one(), range(clients)) for a in answers]


def stalled(url: str, declared: int = 4000, sent: int = 100) -> socket.socket:
    """A connection that sends headers and the start of an infer body, then nothing more."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    head = (
        f"POST {V2} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + b"{" + b" " * (sent - 1))
    return sock


def answer_of(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends before it closes (or `timeout` passes)."""
    sock.settimeout(timeout)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except TimeoutError:
        pass
    return b"".join(chunks)


def test_past_the_queue_bound_infer_is_shed_with_503_and_retry_after(
    service: ServiceFactory,
) -> None:
    svc = service(NNSERVE_INFER_QUEUE_LIMIT="2", NNSERVE_WORKERS="1")
    answers = flood(svc.url, clients=32, seconds=3.0, rows=512)
    statuses = {a.status_code for a in answers}
    assert statuses <= {200, 503}, statuses
    shed = [a for a in answers if a.status_code == 503]
    assert shed and len(shed) < len(answers)
    for answer in shed:
        assert answer.headers["retry-after"] == "1"
        assert "queue" in answer.json()["error"] and answer.headers["x-request-id"]
    with httpx.Client() as client:  # and afterwards it serves as before
        assert infer(client, svc.url, 1).status_code == 200
        assert client.get(svc.url + "/v2/health/live").status_code == 200


def test_a_body_that_stops_arriving_gets_408_and_its_connection_back(
    service: ServiceFactory,
) -> None:
    svc = service(NNSERVE_BODY_READ_TIMEOUT_S="1")
    socks = [stalled(svc.url) for _ in range(50)]
    answers = [answer_of(sock, timeout=15) for sock in socks]
    for sock in socks:
        sock.close()
    for raw in answers:
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), raw[:200]
        assert "1 s" in orjson.loads(body)["error"]
    with httpx.Client() as client:
        assert infer(client, svc.url, 1).status_code == 200


def test_past_the_connection_cap_requests_get_503_and_health_still_answers(
    service: ServiceFactory,
) -> None:
    svc = service(NNSERVE_MAX_CONNECTIONS="8", NNSERVE_BODY_READ_TIMEOUT_S="3")
    socks = [stalled(svc.url) for _ in range(8)]
    time.sleep(0.5)  # the server has read their headers: 8 requests in flight
    with httpx.Client(timeout=10) as client:
        refused = infer(client, svc.url, 1)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert "in flight" in refused.json()["error"] and refused.headers["x-request-id"]
        assert client.get(svc.url + "/v2/health/live").status_code == 200
        assert client.get(svc.url + "/metrics").status_code == 200
        for sock in socks:  # the stalled ones time out (408), and the cap frees up
            assert answer_of(sock, timeout=15).startswith(b"HTTP/1.1 408")
            sock.close()
        assert infer(client, svc.url, 1).status_code == 200


def test_past_the_in_flight_cap_infer_is_refused_before_its_body_is_read(
    service: ServiceFactory,
) -> None:
    svc = service(NNSERVE_MAX_INFER_IN_FLIGHT="2", NNSERVE_WORKERS="1")
    answers = flood(svc.url, clients=16, seconds=3.0, rows=256)
    statuses = {a.status_code for a in answers}
    assert statuses <= {200, 503}, statuses
    refused = [a for a in answers if a.status_code == 503]
    assert refused and len(refused) < len(answers)
    for answer in refused:
        assert answer.headers["retry-after"] == "1" and answer.headers["x-request-id"]
        assert answer.json() == {
            "error": "the server has 2 inference requests in flight, its limit: retry later"
        }
    with httpx.Client() as client:
        assert infer(client, svc.url, 1).status_code == 200


def sent_infer(url: str) -> socket.socket:
    """A connection that sends one whole V2 binary infer request and reads nothing yet."""
    parts = urlsplit(url)
    body, headers = v2_binary(1)
    head = f"POST {V2} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.sendall(head.encode() + b"\r\n" + body)
    return sock


def status_line(sock: socket.socket, timeout: float) -> bytes:
    """The first line of the answer on a keep-alive connection (it stays open after)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n" not in data and (chunk := sock.recv(4096)):
        data += chunk
    return data


@contextmanager
def flooded(url: str) -> Iterator[list[socket.socket]]:
    """The event loop held busy: 8 clients of 64-image infer requests for 6 s and, 1 s in, 500
    connections that each send one request at once (the crowd, yielded; closed afterwards)."""
    with ThreadPoolExecutor(1) as pool:
        load = pool.submit(flood, url, 8, 6.0, 64)
        time.sleep(1.0)
        crowd = [sent_infer(url) for _ in range(500)]
        try:
            yield crowd
            assert load.result(), "the flood got answers"
        finally:
            for sock in crowd:
                sock.close()


def slowest_get(urls: list[str], pause: float) -> float:
    """Each GET on a new connection, `pause` s apart; each must be 200; the slowest's seconds."""
    slowest = 0.0
    for url in urls:
        start = time.perf_counter()
        answer = httpx.get(url, timeout=10)
        slowest = max(slowest, time.perf_counter() - start)
        assert answer.status_code == 200, (url, answer.text)
        time.sleep(pause)
    return slowest


def test_a_fresh_probe_connection_is_answered_while_hundreds_wait_to_be_accepted(
    service: ServiceFactory,
) -> None:
    """As a Kubernetes probe does: a new connection for each GET /v2/health/live, while a flood
    keeps the event loop busy and 500 connections arrive at once. The probe must answer within
    the Deployment's timeoutSeconds (3 s): before the greedy accept (asgi/accept.py) the
    probe's connection waited in the kernel's accept queue behind the others (3-9 s)."""
    svc = service(NNSERVE_WORKERS="1")
    with flooded(svc.url) as crowd:
        slowest = slowest_get([svc.url + "/v2/health/live"] * 5, pause=0.3)
        answered = [status_line(sock, timeout=10) for sock in crowd]
    assert slowest < 3.0, f"a probe took {slowest:.2f} s"
    assert all(raw.startswith((b"HTTP/1.1 200", b"HTTP/1.1 503")) for raw in answered)


def test_the_probe_port_answers_while_the_main_port_is_flooded(service: ServiceFactory) -> None:
    """NNSERVE_PROBE_PORT (asgi/probes.py): health and metrics from a process of their own, on
    a new connection each time, while a flood and 500 arriving connections hold the event loop.
    Each must answer 200 well within the kubelet's 3 s; live there still means the loop turns."""
    port = free_port()
    svc = service(NNSERVE_WORKERS="1", NNSERVE_PROBE_PORT=str(port))
    paths = ["/v2/health/live", "/v2/health/ready", "/metrics"] * 3
    with flooded(svc.url):
        slowest = slowest_get([f"http://127.0.0.1:{port}{path}" for path in paths], pause=0.2)
    assert slowest < 3.0, f"a probe on the probe port took {slowest:.2f} s"


def test_a_request_that_waits_past_its_parameters_timeout_is_answered_not_run(
    service: ServiceFactory,
) -> None:
    """Triton's per-request timeout (V2 parameters.timeout, microseconds): while a flood of
    large batches keeps the model busy, a request willing to wait 1 us is answered 503 with
    the reason; one willing to wait 30 s is served."""
    svc = service(NNSERVE_WORKERS="1")
    x = np.random.default_rng(0).normal(size=(1, 784)).astype(np.float32)

    def body(timeout_us: int) -> bytes:
        tensor = {"name": "input", "shape": [1, 784], "datatype": "FP32", "data": x.ravel()}
        request = {"inputs": [tensor], "parameters": {"timeout": timeout_us}}
        return orjson.dumps(request, option=orjson.OPT_SERIALIZE_NUMPY)

    headers = {"content-type": "application/json"}
    with ThreadPoolExecutor(1) as pool, httpx.Client(timeout=30) as client:
        load = pool.submit(flood, svc.url, 6, 4.0, 1024)
        time.sleep(1.0)
        impatient = [client.post(svc.url + V2, content=body(1), headers=headers) for _ in range(20)]
        patient = client.post(svc.url + V2, content=body(30_000_000), headers=headers)
        assert load.result()
    expired = [a for a in impatient if a.status_code == 503]
    assert expired, [a.status_code for a in impatient]
    for answer in expired:
        error = answer.json()["error"]
        assert "timeout" in error and "1 us" in error and answer.headers["x-request-id"]
    assert {a.status_code for a in impatient} <= {200, 503}
    assert patient.status_code == 200
    assert len(patient.json()["outputs"][0]["data"]) == 10
