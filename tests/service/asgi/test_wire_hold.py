"""The refused-connection hold against uvicorn's httptools protocol, on loopback: the real app's
refusal reaches the protocol through every middleware; a refused request's unread body is
discarded in step; pipelined requests, HTTP/1.0, a client that leaves and a shutdown during the
hold all end cleanly; the hold stays under uvicorn's keep-alive timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import uvicorn
import uvloop

from service.app import create_app
from service.asgi.limits import REFUSED
from service.asgi.wire import OneWriteHttpToolsProtocol
from service.config import Settings
from tests.servers import free_port

HOLD_S = 0.6
LEAST_S = HOLD_S / 2 - 0.05
"""The least a client measures: half the hold, less the answer's way to it (the hold starts as
the server finishes the answer, the client's clock when it has read it)."""
Client = Callable[[int, uvicorn.Server], Awaitable[Any]]


async def refusing_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Refuses POST /refuse as InferAdmission does (before reading its body); answers the rest."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/refuse":
        scope[REFUSED] = HOLD_S
        status, body = 503, b"refused"
    else:
        while (await receive()).get("more_body"):
            pass
        status, body = 200, f"answer to {scope['path']}".encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve(app: Any, client: Client, **config: Any) -> Any:
    async def scenario() -> Any:
        port = free_port()
        options = {"lifespan": "off", "log_config": None, **config}
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, http=OneWriteHttpToolsProtocol, **options
            )
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            return await client(port, server)
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(scenario())


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    fields = dict(line.lower().split(b": ", 1) for line in lines[1:] if line)
    return int(lines[0].split()[1]), await reader.readexactly(int(fields[b"content-length"]))


def request(path: str, body: bytes = b"", version: str = "1.1", length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    head = f"POST {path} HTTP/{version}\r\nhost: t\r\ncontent-length: {size}\r\n\r\n"
    return head.encode() + body


def test_a_refused_upload_is_discarded_in_step_and_the_next_request_answered_after_the_hold() -> (
    None
):
    big = b"x" * 3_000_000  # far past the socket buffers: still arriving during the hold

    async def client(port: int, server: uvicorn.Server) -> None:
        loop = asyncio.get_running_loop()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/refuse", big))
        assert await read_answer(reader) == (503, b"refused")
        refused_at = loop.time()
        await writer.drain()  # the rest of the upload goes in as the hold ends
        writer.write(request("/next", b"abc"))
        assert await read_answer(reader) == (200, b"answer to /next")
        assert loop.time() - refused_at >= LEAST_S
        writer.close()

    serve(refusing_app, client)


def test_pipelined_requests_behind_a_refusal_are_answered_in_order() -> None:
    async def client(port: int, server: uvicorn.Server) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            request("/refuse", b"12") + request("/a", b"1") + request("/refuse") + request("/b")
        )
        answers = [await read_answer(reader) for _ in range(4)]
        assert answers == [
            (503, b"refused"),
            (200, b"answer to /a"),
            (503, b"refused"),
            (200, b"answer to /b"),
        ]
        writer.close()

    serve(refusing_app, client)


def test_an_http_1_0_refusal_closes_at_once() -> None:
    async def client(port: int, server: uvicorn.Server) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/refuse", b"body", version="1.0"))
        assert await read_answer(reader) == (503, b"refused")
        # closed at once: kept alive, it would end only at the 5 s keep-alive timeout
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()

    serve(refusing_app, client)


def test_a_client_that_leaves_during_the_hold_is_let_go_and_the_server_serves_on() -> None:
    async def client(port: int, server: uvicorn.Server) -> None:
        for _ in range(5):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request("/refuse", length=100))  # leaves with its body unsent
            assert await read_answer(reader) == (503, b"refused")
            writer.close()
        loop, left = asyncio.get_running_loop(), server.server_state.connections
        deadline = loop.time() + HOLD_S + 3  # they go as their holds end and the EOFs are read
        while left and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert not left
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/after"))
        assert await read_answer(reader) == (200, b"answer to /after")
        writer.close()

    serve(refusing_app, client)


def test_a_shutdown_during_the_hold_closes_the_held_connection() -> None:
    async def client(port: int, server: uvicorn.Server) -> float:
        loop = asyncio.get_running_loop()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/refuse"))
        assert await read_answer(reader) == (503, b"refused")
        writer.write(request("/retry"))  # unread: the hold
        started = loop.time()
        server.should_exit = True
        # the held retry sits unread in the socket, so the close resets the connection (a
        # keep-alive close racing a new request, widened to the hold): the client sees it end
        try:
            rest = await asyncio.wait_for(reader.read(), 5)
        except ConnectionResetError:
            rest = b""
        assert rest == b"" or rest.startswith(b"HTTP/1.1 200")
        writer.close()
        return loop.time() - started

    assert serve(refusing_app, client, timeout_graceful_shutdown=5) < 3


def test_the_hold_is_under_uvicorns_keep_alive_timeout() -> None:
    """The keep-alive timer runs during the hold (nothing is read, so nothing resets it): were
    it shorter, a held client's retry would be closed on unanswered."""
    longest = Settings.model_fields["refused_hold_s"].metadata
    bound = max(getattr(item, "le", 0.0) or 0.0 for item in longest)
    # log_config=None: building a Config with uvicorn's logging set-up reconfigures logging
    # for the rest of the test process (later caplog tests then miss records)
    assert 0 < bound < uvicorn.Config(refusing_app, log_config=None).timeout_keep_alive


def test_the_real_apps_refusal_holds_its_connection() -> None:
    """InferAdmission's mark must survive every layer above it (the infer entrance included):
    a refused client's next request waits half the hold, a fresh connection does not."""
    settings = Settings(
        models_dir=Path("models"), max_infer_in_flight=1, refused_hold_s=HOLD_S, grpc_port=0
    )
    infer = "/v2/models/mnist-mlp/infer"
    image = orjson.dumps(
        {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 784], "data": [0.5] * 784}]}
    )

    async def client(port: int, server: uvicorn.Server) -> None:
        loop = asyncio.get_running_loop()
        streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        (slow_r, slow_w), (held_r, held_w), (fresh_r, fresh_w) = streams
        slow_w.write(request(infer, image[:100], length=len(image)))  # in flight, stalled
        for _ in range(100):  # until the stalled one holds the place (a loaded box is slow)
            await asyncio.sleep(0.05)
            held_w.write(request(infer, image))
            status, body = await read_answer(held_r)
            if status != 200:
                break
        assert status == 503 and b"error" in body
        refused_at = loop.time()
        held_w.write(b"GET /v2/health/live HTTP/1.1\r\nhost: t\r\n\r\n")
        await asyncio.sleep(0.05)
        fresh_w.write(b"GET /v2/health/live HTTP/1.1\r\nhost: t\r\n\r\n")
        assert (await read_answer(fresh_r))[0] == 200
        fresh_at = loop.time() - refused_at
        assert (await read_answer(held_r))[0] == 200
        held_at = loop.time() - refused_at
        assert held_at >= LEAST_S and fresh_at < held_at  # order, not a speed: load-proof
        slow_w.write(image[100:])
        assert (await read_answer(slow_r))[0] == 200
        for _, writer in streams:
            writer.close()

    serve(create_app(settings), client, lifespan="on")
