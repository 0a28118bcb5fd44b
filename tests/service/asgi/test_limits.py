"""InferAdmission at the ASGI edge: past `limit` inference requests in flight a new one is
answered 503 with Retry-After and the exact JSON error body before its body is read; other
paths and methods pass; the count falls when requests finish (also when they fail). And the
real app: the setting is wired in, the request id is on the refusal."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.asgi import limits
from service.asgi.limits import InferAdmission
from service.config import Settings

Message = dict[str, Any]


class Held:
    """An inner app that reads its body and then waits until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.reads = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await receive()
        self.reads += 1
        await self.release.wait()
        if "boom" in scope["path"]:
            raise RuntimeError("boom")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def scope(path: str, method: str = "POST") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "headers": []}


async def call(app: Any, path: str, method: str = "POST") -> tuple[list[Message], int]:
    """(messages sent, times receive was called)."""
    sent: list[Message] = []
    received = 0

    async def receive() -> Message:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope(path, method), receive, send)
    return sent, received


def test_past_the_limit_a_request_is_refused_before_its_body_is_read() -> None:
    async def scenario() -> None:
        inner = Held()
        edge = InferAdmission(inner, limit=2)
        held = [asyncio.create_task(call(edge, "/v2/models/m/infer")) for _ in range(2)]
        await asyncio.sleep(0.01)
        assert edge.in_flight == 2
        sent, received = await call(edge, "/v2/models/m/infer")
        assert received == 0  # not a byte of the body read
        start, body = sent
        assert start["status"] == 503
        headers = dict(start["headers"])
        assert headers[b"retry-after"] == b"1"
        assert headers[b"content-type"] == b"application/json"
        assert orjson.loads(body["body"]) == {
            "error": "the server has 2 inference requests in flight, its limit: retry later"
        }
        assert edge.refused == 1
        inner.release.set()
        for task in held:
            assert (await task)[0][0]["status"] == 200
        assert edge.in_flight == 0
        sent, _ = await call(edge, "/predict")  # room again
        assert sent[0]["status"] == 200

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("path", "method"),
    [("/v2/health/live", "GET"), ("/metrics", "GET"), ("/v2/models/m", "GET"), ("/x", "POST")],
)
def test_other_paths_and_methods_are_never_counted_or_refused(path: str, method: str) -> None:
    async def scenario() -> None:
        inner = Held()
        inner.release.set()
        edge = InferAdmission(inner, limit=1)
        edge.in_flight = 1  # full
        sent, _ = await call(edge, path, method)
        assert sent[0]["status"] == 200 and edge.refused == 0

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "path", ["/v2/models/m/versions/1/infer", "/predict", "/v1/models/m:predict"]
)
def test_every_inference_endpoint_is_counted(path: str) -> None:
    async def scenario() -> None:
        edge = InferAdmission(Held(), limit=1)
        edge.in_flight = 1
        sent, _ = await call(edge, path)
        assert sent[0]["status"] == 503

    asyncio.run(scenario())


class Lingers:
    """An inner app that answers at once, then keeps running (as middleware unwinding does)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"o", "more_body": True})
        await send({"type": "http.response.body", "body": b"k"})
        await self.release.wait()


def test_the_place_is_free_once_the_answer_is_sent() -> None:
    """A keep-alive client's next request may arrive before the app returns: it is admitted
    (with wrk's 64 connections and a cap of 64, it used to be refused)."""

    async def scenario() -> None:
        inner = Lingers()
        edge = InferAdmission(inner, limit=1)
        first = asyncio.create_task(call(edge, "/v2/models/m/infer"))
        await asyncio.sleep(0.01)
        assert edge.in_flight == 0 and not first.done()
        inner.release.set()
        sent, _ = await call(edge, "/v2/models/m/infer")
        assert sent[0]["status"] == 200 and edge.refused == 0
        await first
        assert edge.in_flight == 0

    asyncio.run(scenario())


def test_a_request_that_fails_gives_its_place_back() -> None:
    async def scenario() -> None:
        inner = Held()
        inner.release.set()
        edge = InferAdmission(inner, limit=1)
        with pytest.raises(RuntimeError):
            await call(edge, "/v2/models/boom/infer")
        assert edge.in_flight == 0

    asyncio.run(scenario())


def test_the_app_refuses_with_its_request_id_and_counts_in_metrics(tmp_path: Path) -> None:
    settings = Settings(models_dir=Path("models"), max_infer_in_flight=1, grpc_port=0)
    app = create_app(settings)
    with TestClient(app) as client:
        edge = app.middleware_stack
        while not isinstance(edge, InferAdmission):  # the built stack, outermost first
            edge = edge.app
        edge.in_flight = 1  # one request held elsewhere: the next is refused
        answer = client.post("/v2/models/mnist-mlp/infer", json={"inputs": []})
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1" and answer.headers["x-request-id"]
        assert "inference requests in flight" in answer.json()["error"]
        assert client.get("/v2/health/live").status_code == 200
        edge.in_flight = 0
        assert client.post("/v2/models/mnist-mlp/infer", json={"inputs": []}).status_code == 400
        assert 'status="503"' in client.get("/metrics").text


def test_refusals_are_logged_as_counts_with_an_id_in_every_answer(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Under a flood a line per refusal was 17% of the worker's samples: the first is logged,
    the rest are counted into the next line (at most one per REFUSAL_LOG_SECONDS); each
    refused answer still has its own request id, and other errors are still logged each."""
    monkeypatch.setattr(limits, "REFUSAL_LOG_SECONDS", 3600.0)
    caplog.set_level("INFO", logger="service.requests")
    settings = Settings(models_dir=Path("models"), max_infer_in_flight=1, grpc_port=0)
    app = create_app(settings)
    with TestClient(app) as client:
        edge = app.middleware_stack
        while not isinstance(edge, InferAdmission):
            edge = edge.app
        edge.in_flight = 1
        answers = [client.post("/v2/models/mnist-mlp/infer", json={}) for _ in range(20)]
        monkeypatch.setattr(limits, "REFUSAL_LOG_SECONDS", 0.0)
        last = client.post("/v2/models/mnist-mlp/infer", json={})
        edge.in_flight = 0
        bad = client.post("/v2/models/mnist-mlp/infer", json={"inputs": []})
    ids = [a.headers["x-request-id"] for a in answers]
    assert {a.status_code for a in answers} == {503} and len(set(ids)) == 20
    lines = [vars(r)["fields"] for r in caplog.records if hasattr(r, "fields")]
    refused = [f for f in lines if f.get("refused")]
    assert [(f["request_id"], f["refused"]) for f in refused] == [
        (ids[0], 1),
        (last.headers["x-request-id"], 20),  # the 19 after the first line, and this one
    ]
    assert [f["status"] for f in lines if "refused" not in f] == [bad.status_code]
    assert bad.status_code == 400


class Arrivals:
    """A receive whose messages come when `arrive` is called; it records how its waits end."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.ready = asyncio.Event()
        self.ends: list[str] = []

    def arrive(self, message: Message) -> None:
        self.messages.append(message)
        self.ready.set()

    async def receive(self) -> Message:
        try:
            while not self.messages:
                self.ready.clear()
                await self.ready.wait()
        except asyncio.CancelledError:
            self.ends.append("cancelled")
            raise
        if self.messages[0].get("type") == "fail":
            raise ValueError("the receive failed")
        return self.messages.pop(0)


def test_receive_within_answers_at_once_or_after_a_wait_or_times_out() -> None:
    async def scenario() -> None:
        arrivals = Arrivals()
        timed = limits.receive_within(arrivals.receive, 0.2)
        arrivals.arrive({"type": "http.request", "body": b"there already"})
        assert (await timed())["body"] == b"there already"
        asyncio.get_running_loop().call_later(0.02, arrivals.arrive, {"body": b"later"})
        assert (await timed())["body"] == b"later"
        with pytest.raises(limits.BodyReadTimeout):
            await limits.receive_within(arrivals.receive, 0.05)()
        assert arrivals.ends == ["cancelled"]  # the wait that timed out was cancelled

    asyncio.run(scenario())


def test_receive_within_passes_failures_and_cancellation_through() -> None:
    async def scenario() -> None:
        arrivals = Arrivals()
        timed = limits.receive_within(arrivals.receive, 5.0)
        arrivals.arrive({"type": "fail"})
        with pytest.raises(ValueError, match="the receive failed"):
            await timed()  # at once
        arrivals.messages.clear()
        asyncio.get_running_loop().call_later(0.02, arrivals.arrive, {"type": "fail"})
        with pytest.raises(ValueError, match="the receive failed"):
            await timed()  # after a wait
        arrivals.messages.clear()
        waiting = asyncio.ensure_future(timed())
        await asyncio.sleep(0.02)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert arrivals.ends == ["cancelled"]

    asyncio.run(scenario())


def test_a_refusal_asks_the_wire_to_hold_its_connection_for_the_setting() -> None:
    """The refused scope carries the seconds to leave the connection unread (the protocol in
    service.asgi.wire reads it); an admitted one carries nothing. The real app wires in
    NNSERVE_REFUSED_HOLD_S."""
    seen: list[dict[str, Any]] = []

    async def scenario() -> None:
        inner = Held()
        edge = InferAdmission(inner, limit=1, hold_s=0.4)
        held = asyncio.create_task(call(edge, "/v2/models/m/infer"))
        await asyncio.sleep(0.01)
        refused = scope("/v2/models/m/infer")

        async def send(message: Message) -> None:
            pass

        await edge(refused, None, send)
        seen.append(refused)
        inner.release.set()
        await held

    asyncio.run(scenario())
    assert seen[0][limits.REFUSED] == 0.4
    app = create_app(Settings(refused_hold_s=0.25, models_dir=Path("models")))
    (admission,) = [m for m in app.user_middleware if m.cls is InferAdmission]
    assert admission.kwargs["hold_s"] == 0.25


@pytest.mark.parametrize("seconds", [-0.1, 1.5])
def test_a_hold_longer_than_the_retry_after_or_negative_is_refused(seconds: float) -> None:
    """A client that waited the Retry-After (1 s) it was told must be read again."""
    with pytest.raises(ValueError, match="refused_hold_s"):
        Settings(refused_hold_s=seconds)
