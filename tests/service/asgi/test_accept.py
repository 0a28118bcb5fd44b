"""The greedy-accept loop: every connection the kernel queued is accepted in one loop turn
(stock uvloop accepts one a turn), connections work, and closing stops accepting."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any, ClassVar

import pytest
import uvloop

from service.asgi.accept import (
    GREEDY_ACCEPT_LOOP,
    SHARED_BURST,
    Listener,
    new_event_loop,
    queued,
)

QUEUED = 200


class Echo(asyncio.Protocol):
    made: ClassVar[list[Echo]] = []

    def connection_made(self, transport: Any) -> None:  # uvloop's: no asyncio.Transport subclass
        self.transport = transport
        Echo.made.append(self)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data.upper())


def turns_to_accept(loop: asyncio.AbstractEventLoop) -> int:
    """Connect QUEUED clients while the loop is not running (the kernel completes each
    handshake and queues it), then count the loop turns until the server has taken them all."""
    Echo.made = []

    async def scenario() -> tuple[asyncio.AbstractServer, list[socket.socket]]:
        server = await loop.create_server(Echo, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(QUEUED)]
        return server, clients

    server, clients = loop.run_until_complete(scenario())
    turns = 0
    while len(Echo.made) < QUEUED and turns < 10 * QUEUED:
        loop.run_until_complete(asyncio.sleep(0))
        turns += 1
    for client in clients:
        client.close()
    for protocol in Echo.made:
        protocol.transport.close()
    server.close()
    loop.run_until_complete(asyncio.sleep(0.05))
    return turns


def test_every_queued_connection_is_accepted_within_a_few_turns() -> None:
    loop = new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)  # still uvloop underneath
        assert turns_to_accept(loop) <= 2
    finally:
        loop.close()


def test_stock_uvloop_accepts_one_a_turn_which_is_why_this_exists() -> None:
    loop = uvloop.new_event_loop()
    try:
        assert turns_to_accept(loop) >= 20  # measured: 50 turns for 200 connections
    finally:
        loop.close()


def test_connections_are_served_and_close_stops_accepting() -> None:
    loop = new_event_loop()
    Echo.made = []

    async def scenario() -> None:
        server = await loop.create_server(Echo, "127.0.0.1", 0)
        assert isinstance(server, Listener) and server.is_serving()
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello")
        assert await reader.readexactly(5) == b"HELLO"
        writer.close()
        await writer.wait_closed()
        for protocol in Echo.made:
            protocol.transport.close()
        server.close()
        await server.wait_closed()
        assert not server.is_serving()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)

    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()


def test_host_names_and_unix_sockets_fall_back_to_the_loops_own_server(tmp_path: Path) -> None:
    loop = new_event_loop()

    async def scenario() -> None:
        named = await loop.create_server(Echo, "localhost", 0)
        assert not isinstance(named, Listener)
        named.close()
        await named.wait_closed()
        unix = await loop.create_unix_server(Echo, str(tmp_path / "s"))
        assert not isinstance(unix, Listener)
        unix.close()
        await unix.wait_closed()

    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()


def test_uvicorn_resolves_the_setting_to_this_factory() -> None:
    from uvicorn.config import Config

    # log_config=None: uvicorn's Config would otherwise reconfigure logging for later tests.
    config = Config(app="service.app:create_app", loop=GREEDY_ACCEPT_LOOP, log_config=None)
    factory = config.get_loop_factory()
    assert factory is new_event_loop


def accepted_in_one_turn(queued_clients: int, shared: bool) -> tuple[int, int | None]:
    """Queue `queued_clients` connections on a listening socket, let a Listener on it accept
    for one readiness event; how many it took, and what `queued` said before."""
    loop = new_event_loop()
    listening = socket.create_server(("127.0.0.1", 0), backlog=1024)
    port = listening.getsockname()[1]
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(queued_clients)]
    Echo.made = []
    try:
        before = queued(listening)
        server = Listener(loop, [listening], Echo, 1024, shared=shared)
        loop.remove_reader(listening.fileno())  # no further turns: only the one call below
        server.accept_queued(listening)  # one readiness event, as the loop would call it
        loop.run_until_complete(asyncio.sleep(0.05))  # the accepted ones get their transports
        taken = len(Echo.made)
        for protocol in Echo.made:
            protocol.transport.close()
        server.close()
        loop.run_until_complete(asyncio.sleep(0.01))
        return taken, before
    finally:
        for client in clients:
            client.close()
        loop.close()


def test_a_socket_of_its_own_is_drained_in_one_turn() -> None:
    assert accepted_in_one_turn(8, shared=False) == (8, 8)


def test_a_shared_socket_gives_each_worker_one_connection_a_turn() -> None:
    # A burst of 8 drained by one worker left the other idle (3,076 req/s at 2 workers).
    assert accepted_in_one_turn(8, shared=True) == (1, 8)


def test_a_flood_on_a_shared_socket_is_taken_half_a_turn() -> None:
    flood = 2 * SHARED_BURST + 10
    assert accepted_in_one_turn(flood, shared=True) == (flood // 2, flood)


def test_uvicorns_workers_get_a_shared_listener_and_a_single_worker_its_own() -> None:
    loop = new_event_loop()

    async def scenario() -> tuple[bool, bool]:
        own = await loop.create_server(Echo, "127.0.0.1", 0)
        handed = socket.create_server(("127.0.0.1", 0))  # as uvicorn's supervisor binds one
        shared = await loop.create_server(Echo, sock=handed)
        assert isinstance(own, Listener) and isinstance(shared, Listener)
        flags = own.shared, shared.shared
        own.close()
        shared.close()
        return flags

    try:
        assert loop.run_until_complete(scenario()) == (False, True)
    finally:
        loop.close()
