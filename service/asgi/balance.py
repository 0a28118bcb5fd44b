"""How many connections each of uvicorn's workers holds, in a small table they all map, so
that on a listening socket they share the worker holding the fewest takes the next one.

The kernel wakes every worker waiting on a shared socket and the first to run takes what is
queued. On a 2-core machine, with the load generator on one core, that is luck: wrk's 8
connections went 8/0, 7/1 or 4/4 (V2 JSON 3,076 to 5,760 req/s; at 8/0 one worker idle). With
the table a worker takes a connection only while it holds no more than the least-loaded other
worker (`Listener.accept_queued` in accept.py), else leaves it queued for them.

    with accept_table(workers):   # the supervisor, before the workers start (cli/command.py)
        ...                       # each worker: Share.joined() -> its slot
"""

from __future__ import annotations

import fcntl
import mmap
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TABLE_ENV = "NNSERVE_ACCEPT_TABLE"
"""The table's path, exported to the workers (not a setting: the supervisor makes it)."""
SLOTS = 256
"""Workers the table has room for (a slot is reused once its process has gone)."""
_SLOT = struct.Struct("<iI")  # pid (0: free), open connections
TABLE_BYTES = SLOTS * _SLOT.size


@contextmanager
def accept_table(workers: int) -> Iterator[Path | None]:
    """With several workers, a zeroed table file (in RAM where /dev/shm is there) whose path the
    workers inherit in TABLE_ENV; removed after. One worker shares with no one: None."""
    if workers <= 1:
        yield None
        return
    ram = "/dev/shm" if os.access("/dev/shm", os.W_OK | os.X_OK) else None
    directory = Path(tempfile.mkdtemp(prefix="nnserve-accept-", dir=ram))
    table = directory / "connections"
    table.write_bytes(bytes(TABLE_BYTES))
    os.environ[TABLE_ENV] = str(table)
    try:
        yield table
    finally:
        os.environ.pop(TABLE_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class Share:
    """This process's slot in the table: its own count, written on every change, and the
    others' counts, read when a connection waits."""

    def __init__(self, path: Path) -> None:
        with open(path, "r+b") as file:
            self.memory = mmap.mmap(file.fileno(), TABLE_BYTES)
            fcntl.flock(file, fcntl.LOCK_EX)  # two workers starting at once: one slot each
            try:
                self.slot = self.claim()
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)
        self.connections = 0
        self.left = False

    @classmethod
    def joined(cls) -> Share | None:
        """This worker's slot in the supervisor's table; None without one (no table exported,
        a full or unreadable one): the worker then accepts without consulting the others."""
        path = os.environ.get(TABLE_ENV)
        if not path:
            return None
        try:
            return cls(Path(path))
        except (OSError, ValueError, LookupError):
            return None

    def claim(self) -> int:
        """The first free slot, or one whose process has gone (a worker uvicorn restarted)."""
        for slot in range(SLOTS):
            pid, _ = _SLOT.unpack_from(self.memory, slot * _SLOT.size)
            if pid == 0 or not alive(pid):
                _SLOT.pack_into(self.memory, slot * _SLOT.size, os.getpid(), 0)
                return slot
        raise LookupError("every slot of the accept table is taken")

    def add(self, change: int) -> None:
        self.connections = max(0, self.connections + change)
        if not self.left:  # a connection closing after `leave` must not take the slot back
            _SLOT.pack_into(self.memory, self.slot * _SLOT.size, os.getpid(), self.connections)

    def least_other(self) -> int | None:
        """The fewest connections another live worker holds; None when no other has a slot. A
        killed worker's slot stays until its replacement claims it, and must not be waited for."""
        counts = [
            count
            for slot, (pid, count) in enumerate(_SLOT.iter_unpack(self.memory))
            if pid != 0 and slot != self.slot and alive(pid)
        ]
        return min(counts) if counts else None

    def my_turn(self) -> bool:
        """Take the next connection: no other worker holds fewer (ties take it)."""
        least = self.least_other()
        return least is None or self.connections <= least

    def leave(self) -> None:
        """Free the slot (the listener closes): the others stop waiting for this worker."""
        self.left = True
        _SLOT.pack_into(self.memory, self.slot * _SLOT.size, 0, 0)
