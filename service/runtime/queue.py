"""A model's infer queue: bounded, and every entry may carry a deadline.

Past `limit` waiting requests a new one is refused at once (503 with Retry-After) instead of
waiting behind work it cannot catch up with: under a flood the admitted requests keep a
bounded wait and the loop keeps answering health checks. A request may also say how long it
is willing to wait (V2 `parameters.timeout`, in microseconds, as Triton reads it): one still
queued past that is answered with an error instead of being run.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from service.errors import Overloaded, QueueTimeout

Tensors = dict[str, np.ndarray]


@dataclass
class Pending:
    """One request waiting for its share of a batch."""

    feeds: Tensors
    outputs: list[str] | None
    rows: int
    future: asyncio.Future[Tensors] = field(repr=False)
    queued: float = 0.0
    """time.monotonic() when it joined the queue."""
    timeout_us: int | None = None
    """How long it may wait in the queue (None: as long as it takes)."""


class InferQueue:
    """FIFO of Pending requests, at most `limit` long."""

    def __init__(self, limit: int, name: str) -> None:
        self.limit = limit
        self.name = name
        self._items: deque[Pending] = deque()
        self.shed = 0
        """Requests refused because the queue was full."""
        self.expired = 0
        """Requests that waited past their own timeout."""

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Pending]:
        return iter(self._items)

    def put(self, pending: Pending) -> None:
        """Queue it, or raise Overloaded when `limit` requests are already waiting."""
        if len(self._items) >= self.limit:
            self.shed += 1
            raise Overloaded(
                f"model {self.name!r} has {self.limit} requests queued, its limit: retry later"
            )
        pending.queued = time.monotonic()
        self._items.append(pending)

    def rows(self) -> int:
        return sum(p.rows for p in self._items)

    def take(self, max_rows: int) -> list[Pending]:
        """The oldest live requests that fit in `max_rows` (at least one while any is live);
        those past their timeout are failed on the way and never run."""
        batch: list[Pending] = []
        rows = 0
        now = time.monotonic()
        while self._items:
            head = self._items[0]
            if self._expire(head, now):
                self._items.popleft()
                continue
            if batch and rows + head.rows > max_rows:
                break
            batch.append(self._items.popleft())
            rows += head.rows
        return batch

    def _expire(self, pending: Pending, now: float) -> bool:
        """Fail `pending` when it waited longer than it asked to; True when it did."""
        if pending.future.done():  # its client went away: nothing to run it for
            return True
        if pending.timeout_us is None:
            return False
        waited_us = (now - pending.queued) * 1e6
        if waited_us <= pending.timeout_us:
            return False
        self.expired += 1
        pending.future.set_exception(
            QueueTimeout(
                f"request timeout expired: waited {waited_us:,.0f} us in model "
                f"{self.name!r}'s queue, past its parameters.timeout of {pending.timeout_us} us"
            )
        )
        return True
