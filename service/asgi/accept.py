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
turn, so a flood still drains in a few turns. One a turn is still luck when another process
holds the cores (7/1 measured at load1 2.8), so where the supervisor made an accept table
(balance.py) a worker takes a connection only while it holds no more than the others; else
it stops listening for DEFER_S and leaves the connection to them, or takes it anyway once it
has waited PATIENCE_S (a worker stuck or gone).

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

from service.asgi.balance import Share

log = logging.getLogger(__name__)

RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
RETRY_S = 1.0
"""Out of file descriptors: stop accepting for this long (asyncio's ACCEPT_RETRY_DELAY)."""

SHARED_BURST = 64
"""A shared socket with more connections queued than this takes half of them a turn."""
DEFER_S = 0.001
"""A worker that holds more connections than another stops listening this long."""
PATIENCE_S = 0.05
"""A connection left to the others this long is taken anyway."""
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
        self.share = Share.joined() if shared else None
        """This worker's slot in the accept table, where the supervisor made one."""
        self.waiting_since: float | None = None
        """When this worker first left a queued connection to the others."""
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
        count, balanced = self.turn_share(sock)
        for _ in range(count):
            if balanced and not self.my_turn():
                self.defer(sock)
                return
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                self.waiting_since = None
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
            self.waiting_since = None
            self.serve(conn)

    def serve(self, conn: socket.socket) -> None:
        """Hand `conn` to the loop's transports; counted in the accept table while open."""
        if self.share is None:
            factory = self.protocol_factory
        else:
            factory = self.counted
            self.share.add(1)
        task = self.loop.create_task(self.loop.connect_accepted_socket(factory, conn))
        if self.share is not None:
            task.add_done_callback(self.uncount_failed)

    def uncount_failed(self, done: asyncio.Task[Any]) -> None:
        """A connection that never got its transport is off the table again."""
        if self.share is not None and (done.cancelled() or done.exception() is not None):
            self.share.add(-1)

    def counted(self) -> asyncio.BaseProtocol:
        """The server's protocol, its connection_lost also taking the connection off the table."""
        protocol = self.protocol_factory()
        lost, share = protocol.connection_lost, self.share
        assert share is not None  # only used with a share

        def connection_lost(exc: Exception | None) -> None:
            share.add(-1)
            lost(exc)

        protocol.connection_lost = connection_lost  # type: ignore[method-assign]
        return protocol

    def turn_share(self, sock: socket.socket) -> tuple[int, bool]:
        """How many connections to accept this turn, and whether each must be this worker's
        turn by the accept table: all (up to `backlog`) from a socket of our own; from a shared
        one, half a queue longer than SHARED_BURST, else those queued while the table says so
        (one, without a table)."""
        if not self.shared:
            return self.backlog, False
        waiting = queued(sock)
        if waiting is not None and waiting > SHARED_BURST:
            return min(self.backlog, waiting // 2), False
        if self.share is None:
            return 1, False
        return max(1, waiting or 0), True

    def my_turn(self) -> bool:
        """No other worker holds fewer connections, or the next one has waited PATIENCE_S."""
        assert self.share is not None
        if self.share.my_turn():
            return True
        return self.waiting_since is not None and self.loop.time() - self.waiting_since > PATIENCE_S

    def defer(self, sock: socket.socket) -> None:
        """Leave the queued connections to the others: stop listening for DEFER_S."""
        if self.waiting_since is None:
            self.waiting_since = self.loop.time()
        self.loop.remove_reader(sock.fileno())
        self.loop.call_later(DEFER_S, self.rearm, sock)

    def rearm(self, sock: socket.socket) -> None:
        if queued(sock) == 0:  # the others took them: the wait is over
            self.waiting_since = None
        self.start_reading(sock)

    def close(self) -> None:
        if self.share is not None:
            self.share.leave()
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
