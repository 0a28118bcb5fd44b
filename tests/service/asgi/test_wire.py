"""One write per answer: a real uvicorn on loopback with the one-write protocol sends each
answer's headers and body as one TCP segment (stock uvicorn: two), and streamed, closing and
keep-alive answers still arrive whole and in order."""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
from typing import Any

import pytest
import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.asgi.limits import REFUSED
from service.asgi.wire import ONE_WRITE_HTTP, OneWriteHttpToolsProtocol, TurnTransport
from tests.servers import free_port

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads Linux's TCP_INFO")

DATA_SEGS_IN = 152
"""Offset of tcpi_data_segs_in (segments that carried data) in Linux's struct tcp_info."""
ANSWERS = 20


HOLD_S = 0.4
"""Seconds the app asks the protocol to leave a refused connection unread."""


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A short answer in one body message, three streamed parts on /stream, a closing answer
    on /close, and a refusal on /refuse."""
    await receive()
    path = scope["path"]
    headers = [(b"content-type", b"text/plain")]
    if path == "/close":
        headers.append((b"connection", b"close"))
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for part in (b"one ", b"two ", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = f"answer to {path}".encode()
    headers.append((b"content-length", str(len(body)).encode()))
    status = 200
    if path == "/refuse":  # as service.asgi.limits marks a refusal
        scope[REFUSED], status = HOLD_S, 503
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve(protocol: Any, client: Any) -> Any:
    """Run `client(port)` against uvicorn serving `app` with `protocol` on uvloop."""

    async def scenario() -> Any:
        port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, http=protocol, lifespan="off", log_config=None
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            return await client(port)
        finally:
            server.should_exit = True
            await task

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(scenario())


async def read_answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if line)
    length = int(fields[b"content-length"])
    return await reader.readexactly(length)


async def data_segments(port: int) -> int:
    """Segments with data the client received for ANSWERS keep-alive answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for n in range(ANSWERS):
        writer.write(f"GET /{n} HTTP/1.1\r\nhost: test\r\n\r\n".encode())
        assert await read_answer(reader) == f"answer to /{n}".encode()
    sock = writer.get_extra_info("socket")
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    writer.close()
    return int(struct.unpack_from("I", info, DATA_SEGS_IN)[0])


def test_each_answer_is_one_segment() -> None:
    assert serve(OneWriteHttpToolsProtocol, data_segments) == ANSWERS
    assert serve(ONE_WRITE_HTTP, data_segments) == ANSWERS  # as `nnserve serve` names it


def test_stock_uvicorn_sends_headers_and_body_apart_which_is_why_this_exists() -> None:
    assert serve(HttpToolsProtocol, data_segments) >= ANSWERS + ANSWERS // 2  # measured: 2 each


async def streamed_then_closed(port: int) -> list[bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /stream HTTP/1.1\r\nhost: test\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")
    chunked = await reader.readuntil(b"0\r\n\r\n")
    writer.write(b"GET /close HTTP/1.1\r\nhost: test\r\n\r\n")
    closing = await reader.read()  # to the end: the server closes after this answer
    writer.close()
    return [chunked, closing]


def test_streamed_and_closing_answers_arrive_whole() -> None:
    chunked, closing = serve(OneWriteHttpToolsProtocol, streamed_then_closed)
    assert chunked == b"4\r\none \r\n4\r\ntwo \r\n5\r\nthree\r\n0\r\n\r\n"
    assert closing.startswith(b"HTTP/1.1 200 OK\r\n") and b"connection: close" in closing
    assert closing.endswith(b"answer to /close")  # close() wrote what it held first


def test_the_holder_writes_nothing_after_abort_and_passes_the_rest_on() -> None:
    async def scenario() -> None:
        server = await asyncio.start_server(lambda _, w: w.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        inner = writer.transport
        assert isinstance(inner, asyncio.Transport)
        held = TurnTransport(inner, asyncio.get_running_loop())
        held.write(b"never sent")
        assert held.get_write_buffer_size() == len(b"never sent")
        assert held.get_extra_info("peername") == inner.get_extra_info("peername")
        held.abort()
        await asyncio.sleep(0)  # the scheduled flush finds nothing held, the inner closed
        assert held.held == [] and held.is_closing()
        server.close()
        await server.wait_closed()

    asyncio.run(scenario())


async def refused_then_asked_again(port: int) -> tuple[float, float]:
    """After a refusal its connection asks again at once, and 50 ms later another connection
    asks: (seconds from the refusal to the held one's answer, to the other's)."""
    loop = asyncio.get_running_loop()
    held_reader, held = await asyncio.open_connection("127.0.0.1", port)
    other_reader, other = await asyncio.open_connection("127.0.0.1", port)
    held.write(b"GET /refuse HTTP/1.1\r\nhost: test\r\n\r\n")
    assert await read_answer(held_reader) == b"answer to /refuse"
    refused_at = loop.time()
    held.write(b"GET /again HTTP/1.1\r\nhost: test\r\n\r\n")

    async def answered(reader: asyncio.StreamReader, path: bytes) -> float:
        assert await read_answer(reader) == b"answer to " + path
        return loop.time() - refused_at

    again = asyncio.create_task(answered(held_reader, b"/again"))
    await asyncio.sleep(0.05)
    other.write(b"GET /other HTTP/1.1\r\nhost: test\r\n\r\n")
    later = asyncio.create_task(answered(other_reader, b"/other"))
    seconds = await again, await later
    held.close()
    other.close()
    return seconds


def test_a_refused_connection_is_left_unread_for_the_hold_and_no_other() -> None:
    """A client that retries at once waits at least half the hold (the spread's least) for
    its next answer, while a connection that asked later is answered first."""
    again, other = serve(OneWriteHttpToolsProtocol, refused_then_asked_again)
    assert again >= HOLD_S / 2 - 0.05  # the hold starts as the answer leaves, not as it lands
    assert other < again
