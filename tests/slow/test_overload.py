"""Overload on a real server: the bounded infer queue sheds with 503 + Retry-After, a body
that stops arriving gets 408, the connection cap answers 503 past it, and the service stays
live through all of it. Timing targets live in benchmarks/overload.py, not here."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

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
