"""The event loop uvicorn runs nnserve on: uvloop, except that a listening socket accepts every
queued connection each loop turn instead of one.

libuv accepts one connection per loop turn (libuv/libuv#3696). Under load a turn lasts as long
as every ready request takes, so measured on one worker at 1,000 connections (wrk, V2 binary,
2 cores) the kernel's accept queue still held 541 of them after 10 s and a fresh connection,
a Kubernetes probe's, waited there 3-9 s before the service read a byte of it. asyncio's own
loop accepts greedily but costs 10-30% more CPU per request, so this is uvloop with asyncio's
accept: one reader on the listening socket that drains the queue (at most `backlog` a turn).

A socket handed in (`sock=`: uvicorn's supervisor hands every worker the same one) is shared,
and draining it would give every connection of a burst to whichever worker wakes first:
measured at 2 workers, wrk's 8 connections all went to one worker (V2 JSON 3,076 req/s, the
other worker idle; the naive server under stock uvloop fared the same). A shared socket is
taken one connection a turn, so each woken worker gets its turn (4/4, 3/5, 5/3 measured: 4,859
to 5,760 req/s), unless the kernel's queue holds more than SHARED_BURST: then half of it a
turn, so a flood still drains in a few turns.

    uvicorn.run(..., loop=GREEDY_ACCEPT_LOOP)
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
import struct
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
RETRY_S = 1.0
"""Out of file descriptors: stop accepting for this long (asyncio's ACCEPT_RETRY_DELAY)."""

SHARED_BURST = 64
"""A shared socket with more connections queued than this takes half of them a turn."""
TCP_INFO_UNACKED = 24
"""Offset of tcpi_unacked in Linux's struct tcp_info: a listening socket's queue length."""

ProtocolFactory = Callable[[], asyncio.BaseProtocol]
GREEDY_ACCEPT_LOOP = f"{__name__}:new_event_loop"
"""uvicorn's `loop` setting for this module's loop factory."""


class Listener(asyncio.AbstractServer):
    """Listening sockets whose connections are accepted greedily and handed to the loop's
    own transports (`loop.connect_accepted_socket`): what uvicorn needs of a Server."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sockets: list[socket.socket],
        protocol_factory: ProtocolFactory,
        backlog: int,
        shared: bool = False,
    ) -> None:
        self.loop = loop
        self.listening = sockets
        self.protocol_factory = protocol_factory
        self.backlog = backlog
        self.shared = shared
        """Other processes accept on these sockets too (uvicorn's workers)."""
        self.closed = asyncio.Event()
        for sock in sockets:
            sock.setblocking(False)
            sock.listen(backlog)
            self.start_reading(sock)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return tuple(self.listening)

    def start_reading(self, sock: socket.socket) -> None:
        if sock.fileno() >= 0:
            self.loop.add_reader(sock.fileno(), self.accept_queued, sock)

    def accept_queued(self, sock: socket.socket) -> None:
        """Every connection the kernel holds for `sock`, up to `backlog` of them this turn;
        a shared socket's share of them (`turn_share`)."""
        for _ in range(self.turn_share(sock)):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in RESOURCE_ERRORS:
                    raise
                log.warning("accept() failed (%s): pausing new connections for %g s", exc, RETRY_S)
                self.loop.remove_reader(sock.fileno())
                self.loop.call_later(RETRY_S, self.start_reading, sock)
                return
            self.loop.create_task(self.loop.connect_accepted_socket(self.protocol_factory, conn))

    def turn_share(self, sock: socket.socket) -> int:
        """How many connections to accept this turn: all (up to `backlog`) from a socket of
        our own; from a shared one one, or half a queue longer than SHARED_BURST."""
        if not self.shared:
            return self.backlog
        waiting = queued(sock)
        if waiting is None or waiting <= SHARED_BURST:
            return 1
        return min(self.backlog, waiting // 2)

    def close(self) -> None:
        for sock in self.listening:
            if sock.fileno() >= 0:
                self.loop.remove_reader(sock.fileno())
                sock.close()
        self.closed.set()

    async def wait_closed(self) -> None:
        await self.closed.wait()

    def is_serving(self) -> bool:
        return not self.closed.is_set()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.loop

    async def start_serving(self) -> None:
        """Serving starts in __init__."""

    async def serve_forever(self) -> None:
        await self.wait_closed()


def queued(sock: socket.socket) -> int | None:
    """Connections the kernel has queued on listening `sock` (Linux's TCP_INFO); None where
    the platform does not say."""
    option = getattr(socket, "TCP_INFO", None)
    if option is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, option, TCP_INFO_UNACKED + 4)
    except OSError:
        return None
    return int(struct.unpack_from("I", info, TCP_INFO_UNACKED)[0])


def bound(host: str, port: int) -> list[socket.socket] | None:
    """A socket bound to (host, port) as asyncio's create_server binds one; None for a host
    name, which the loop's own create_server resolves."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return [sock]


def tcp_sockets(host: Any, port: Any, sock: Any) -> list[socket.socket] | None:
    """The plain TCP listening sockets a create_server call asks for, where this module can
    serve them; None for anything else (a host name, several hosts, a Unix socket)."""
    if sock is not None:
        family = getattr(sock, "family", None)
        return [sock] if family in (socket.AF_INET, socket.AF_INET6) else None
    if isinstance(host, str) and isinstance(port, int):
        return bound(host, port)
    return None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop with greedy accept; asyncio's own loop (greedy already) where uvloop is absent."""
    try:
        import uvloop
    except ImportError:  # Windows: uvloop does not exist there
        return asyncio.new_event_loop()

    class GreedyAcceptLoop(uvloop.Loop):
        async def create_server(  # type: ignore[override]
            self,
            protocol_factory: ProtocolFactory,
            host: Any = None,
            port: Any = None,
            *,
            sock: Any = None,
            backlog: int = 100,
            ssl: Any = None,
            **kwargs: Any,
        ) -> asyncio.AbstractServer:
            plain = ssl is None and not kwargs.get("reuse_port")
            sockets = tcp_sockets(host, port, sock) if plain else None
            if sockets is None:
                return await super().create_server(
                    protocol_factory, host, port, sock=sock, backlog=backlog, ssl=ssl, **kwargs
                )
            return Listener(self, sockets, protocol_factory, backlog, shared=sock is not None)

    return GreedyAcceptLoop()
