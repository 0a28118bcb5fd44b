"""The accept table: each worker's open connections, and whose turn the next one is; a
Listener on a shared socket leaves a connection to a worker holding fewer, for a while."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from typing import Any

import pytest

from service.asgi import accept
from service.asgi.accept import Listener, new_event_loop
from service.asgi.balance import TABLE_ENV, Share, accept_table


class Quiet(asyncio.Protocol):
    made: list[Quiet] = []  # noqa: RUF012 - the test's own record

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        Quiet.made.append(self)


def test_the_table_is_made_for_several_workers_only_and_removed_after() -> None:
    with accept_table(1) as none:
        assert none is None and TABLE_ENV not in os.environ
    with accept_table(2) as table:
        assert table is not None and table.exists()
        assert os.environ[TABLE_ENV] == str(table)
    assert not table.exists() and TABLE_ENV not in os.environ


def test_counts_decide_whose_turn_it_is_and_a_leaver_stops_counting() -> None:
    with accept_table(2):
        mine, theirs = Share.joined(), Share.joined()
        assert mine is not None and theirs is not None and mine.slot != theirs.slot
        assert mine.my_turn() and theirs.my_turn()  # 0 and 0: ties take it
        mine.add(1)
        assert not mine.my_turn() and theirs.my_turn()
        theirs.add(2)
        assert mine.my_turn() and not theirs.my_turn()
        theirs.leave()
        theirs.add(-1)  # a connection closing after leave does not take the slot back
        assert mine.least_other() is None and mine.my_turn()


def test_a_slot_whose_process_has_gone_is_reused() -> None:
    with accept_table(2):
        gone = subprocess.run(
            [sys.executable, "-c", "from service.asgi.balance import Share; Share.joined().add(5)"],
            check=True,
        )
        assert gone.returncode == 0
        share = Share.joined()
        assert share is not None and share.slot == 0  # the exited process's slot


def test_a_worker_that_has_gone_is_not_waited_for() -> None:
    with accept_table(2):
        mine = Share.joined()
        assert mine is not None
        mine.add(3)
        subprocess.run(  # a worker killed while holding none: its slot stays behind
            [sys.executable, "-c", "from service.asgi.balance import Share; Share.joined()"],
            check=True,
        )
        assert mine.least_other() is None and mine.my_turn()


def test_without_a_table_a_worker_joins_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TABLE_ENV, raising=False)
    assert Share.joined() is None
    monkeypatch.setenv(TABLE_ENV, "/nonexistent/table")
    assert Share.joined() is None


def accepted_while_another_holds(theirs: int, wait: float) -> int:
    """A Listener on a shared socket with 3 queued connections, its worker holding one, the
    other worker `theirs`; how many it has accepted after `wait` seconds of its loop."""
    loop = new_event_loop()
    listening = socket.create_server(("127.0.0.1", 0), backlog=64)
    port = listening.getsockname()[1]
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    Quiet.made = []
    other = Share.joined()
    assert other is not None
    other.add(theirs)
    server = Listener(loop, [listening], Quiet, 64, shared=True)
    assert server.share is not None
    server.share.add(1)
    try:
        loop.run_until_complete(asyncio.sleep(wait))
        return len(Quiet.made)
    finally:
        for protocol in Quiet.made:
            protocol.transport.close()
        server.close()
        loop.run_until_complete(asyncio.sleep(0.01))
        for client in clients:
            client.close()
        loop.close()


def test_a_worker_takes_connections_while_it_holds_no_more_than_the_others() -> None:
    with accept_table(2):
        assert accepted_while_another_holds(theirs=3, wait=0.02) == 3  # 1, 2, 3: never above 3


def test_a_worker_holding_more_leaves_them_queued_for_the_others() -> None:
    with accept_table(2):
        taken = accepted_while_another_holds(theirs=0, wait=accept.PATIENCE_S / 2)
        assert taken == 0


def test_a_connection_nobody_else_takes_is_taken_after_patience() -> None:
    with accept_table(2):  # the other worker holds none but never accepts (stuck)
        assert accepted_while_another_holds(theirs=0, wait=4 * accept.PATIENCE_S) >= 1


def test_closed_connections_come_off_the_table() -> None:
    with accept_table(2):
        loop = new_event_loop()
        listening = socket.create_server(("127.0.0.1", 0))
        server = Listener(loop, [listening], Quiet, 64, shared=True)
        assert server.share is not None
        Quiet.made = []

        async def scenario() -> tuple[int, int]:
            _, writer = await asyncio.open_connection("127.0.0.1", listening.getsockname()[1])
            await asyncio.sleep(0.02)
            held = server.share.connections if server.share else -1
            writer.close()
            await asyncio.sleep(0.02)
            return held, server.share.connections if server.share else -1

        try:
            assert loop.run_until_complete(scenario()) == (1, 0)
        finally:
            server.close()
            loop.close()
